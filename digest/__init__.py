"""digest: a weekly AI-news digest from arXiv, Reddit and feeds."""

__version__ = "0.1.0"
