"""loadgen compare: is a change between two runs beyond the noise (bootstrap over HDR buckets)?"""
