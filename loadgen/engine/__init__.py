"""The request seam and the loop that drives it: Backend, Timeline, the runner (open and closed
loop), stopping, guards, preflight.
"""
