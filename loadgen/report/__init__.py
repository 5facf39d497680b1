"""report.json and what reads it: building the report, saved runs, the console summary, the
verdict, streaming comparison, merging reports, and report.html.
"""
