"""What every layer shares: the clock, durations, the error tree, the Sample record, HDR histograms
and their buckets, fast JSON, redaction. Imports nothing else of loadgen.
"""
