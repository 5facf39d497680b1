"""report.html and comparison.html: self-contained pages (inline SVG charts, no scripts) rendered
from a report.
"""
