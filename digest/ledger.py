"""The featured ledger: what an earlier issue carried, and whether a story is news again.

A story already sent comes back only on a material update: a source or domain it did not have then
(a lab blog post or an HN thread about the paper). A new arXiv version is not one: keys are
version-free. Pure functions; the rows are stored by store.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from digest.models import RankedStory, Story
from digest.profile import Featured, item_ids


def fingerprint(story: Story) -> str:
    """What a story's coverage was: its sources and domains, the basis of "material update"."""
    return f"sources={','.join(story.sources)};domains={','.join(story.domains)}"


def _parse_fingerprint(fp: str) -> tuple[set[str], set[str]]:
    parts = dict(p.split("=", 1) for p in fp.split(";") if "=" in p)
    return {s for s in parts.get("sources", "").split(",") if s}, {
        d for d in parts.get("domains", "").split(",") if d
    }


def story_keys(story: Story) -> tuple[str, ...]:
    return tuple(sorted({k for i in story.items for k in item_ids(i)}))


def lookup(story: Story, index: Mapping[str, Featured]) -> tuple[Featured | None, set[str]]:
    """The latest earlier feature of this story, and what is new since (sources/domains)."""
    hits = [index[k] for k in story_keys(story) if k in index]
    if not hits:
        return None, set()
    prev = max(hits, key=lambda f: f.week)
    if not prev.fingerprint:  # coverage then unknown: cannot tell an update, so no repeat
        return prev, set()
    sources, domains = _parse_fingerprint(prev.fingerprint)
    return prev, (set(story.sources) - sources) | (set(story.domains) - domains)


def featured_records(week: str, ranked: Sequence[RankedStory]) -> list[Featured]:
    """Ledger rows for the stories an issue carried: version-free keys and the coverage fingerprint."""
    return [
        Featured(
            week=week,
            story_id=r.story.id,
            keys=story_keys(r.story),
            title=r.story.headline or r.story.lead.title,
            fingerprint=fingerprint(r.story),
        )
        for r in ranked
    ]
