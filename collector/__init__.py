"""A pure-Python, wire-compatible replacement for the Divolte Collector."""

__version__ = "0.1.0"
