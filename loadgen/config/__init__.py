"""The scenario file and everything parsed from it: the scenario model, load models, threshold
checks, the quality block.
"""
