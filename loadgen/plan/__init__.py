"""What a run sends and when: dataset prompts, arrival schedules, phases, and the share of the
arrivals each worker sends.
"""
