"""CloudWatch: the metric sink, Values/Counts and PutMetricData sizing, the dashboard and alarms of
a scenario, and the setup around a run.
"""
