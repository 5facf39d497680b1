"""loadgen sweep: a ladder of rates, each stage an ordinary run judged against the SLOs, and the
highest good rate.
"""
