"""projections: daily NBA DraftKings projections as a content-addressed build on doit."""

__version__ = "0.1.0"
