"""Folding Samples into figures: the recorder's histograms and counters, the per-second series,
per-interval metrics. Knows no SDK.
"""
