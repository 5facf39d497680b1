"""More load than one process sends: worker processes (--workers), Ray actors (--ray), and the
parent's live view of them.
"""
