"""Scoring each response against its row's annotations after the run: key facts, sections, ROUGE."""
