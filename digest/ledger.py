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


MAX_LINKED_PAPERS = 3  # a post linking more papers is a roundup: it is about none of them in particular


def linked_papers(story: Story) -> set[str]:
    """The arXiv ids its posts link (`arxiv:<id>`), from posts that link a few papers, not a roundup.

    A paper is collected in the week it was submitted; a lab post or HN thread about it a week later
    has no paper to join in its own week, but links it: that link is how it is known as an update.
    """
    from digest.urls import arxiv_ids

    out: set[str] = set()
    for item in story.items:
        ids = {aid for u in item.links for aid in arxiv_ids(u)}
        if len(ids) <= MAX_LINKED_PAPERS:
            out |= {f"arxiv:{aid}" for aid in ids}
    return out


def identity_keys(story: Story) -> set[str]:
    """What the story is, for the ledger, mutes and dislikes: its members' keys, and when it has no paper
    of its own, the papers its posts link (a post about a paper collected in an earlier week). A story
    with a paper of its own is that paper's: a post in it that also links another paper is not news of
    that other paper."""
    keys = set(story_keys(story))
    if any(k.startswith("arxiv:") for k in keys):
        return keys
    return keys | linked_papers(story)


def lookup(story: Story, index: Mapping[str, Featured], keys: set[str]) -> tuple[Featured | None, set[str]]:
    """The latest earlier feature of this story, found by its `identity_keys` (`keys`, which the caller
    also needs for mutes and dislikes), and what is new since (sources/domains)."""
    hits = [index[k] for k in keys if k in index]
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
