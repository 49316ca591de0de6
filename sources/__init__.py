"""Collectors: one Source per configured source; the core never imports a concrete source.

`from_config(cfg)` is the registry: arXiv, Reddit, then one Source per RSS/HN feed, each enabled one.
"""

from __future__ import annotations

from digest.config import Config
from sources.base import Source

__all__ = ["Source", "from_config"]


def from_config(cfg: Config) -> list[Source]:
    """The enabled sources, in a stable order (arXiv, Reddit, then feeds as configured)."""
    from sources.arxiv import ArxivSource
    from sources.reddit import RedditSource
    from sources.rss import FeedSource

    src = cfg.sources
    out: list[Source] = []
    if src.arxiv.enabled:
        out.append(ArxivSource(src.arxiv, src.http))
    if src.reddit.enabled:
        out.append(RedditSource(src.reddit, src.http))
    if src.rss.enabled:
        seen: set[str] = set()
        for feed in src.rss.feeds:
            source = FeedSource(feed, src.http, delay_s=src.rss.delay_s)
            if source.name in seen:  # two feeds with one label would share keys and state
                source.name = f"{source.name}#{len(seen)}"
            seen.add(source.name)
            out.append(source)
    return out
