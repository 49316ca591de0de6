"""Embed, cluster and rank a big week in two stages: a static model sorts everything cheaply, the
transformer decides among the stories that can still make the issue.

Stage 1. The static model (static_embed.py, ~50x faster) embeds every item. Clustering needs transformer
  vectors only where items may merge across sources: two papers never merge (one channel), so it gets
  the posts, plus the papers a post links, names, or is (statically) nearest to; every other paper is a
  story of its own (papers sharing an id are still link-joined). All stories are ranked with static
  story vectors against a profile embedded by the same static model (one space).
Stage 2. The transformer embeds the shortlist: stage 1's best `embed.shortlist` stories, every story with
  engagement or several sources, and every story it already has vectors for (the posts), plus a
  stratified sample of `BACKGROUND` other stories. `rank` runs again over the whole week, so what it
  measures against the week (z-scores, engagement percentiles, the pickability background) is what
  one stage would measure: shortlisted stories with their own transformer vectors, the others borrowing
  the vector of their stratum's sampled story. Only shortlisted stories can be selected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from digest.cluster_text import MARK
from digest.config import Config
from digest.embed import Embedder, embed_items
from digest.models import Item, RankedStory, Story
from digest.profile import Featured, Profile
from digest.urls import arxiv_ids, canonical_url

# A post's statically nearest paper joins the clustering batch from this cosine up: on the W06 world,
# pairs the transformer calls paraphrases (>= 0.7) sit at static cosine >= 0.55, 95% of them >= 0.63.
NEAR_COS = 0.6
BACKGROUND = 100  # stories off the shortlist embedded by the transformer to estimate the week's statistics
_NAME_HEAD = re.compile(r":|\s[—–-]\s")
_WORD = re.compile(r"[a-z0-9][a-z0-9.+#-]*[a-z0-9+#]|[a-z0-9]")
_BODY_CHARS = 2000  # how much of a post is searched for a paper's name


@dataclass(frozen=True)
class TwoStage:
    ranked: list[RankedStory]  # the shortlist by stage 2, best first, then the rest by stage 1
    vectors: dict[str, np.ndarray]  # story id → transformer story vector (for `select`'s MMR)
    stories: int
    transformer_items: int  # items the transformer had to vector (cached or not)


def story_vectors(stories: Sequence[Story], vec_of: Mapping[str, np.ndarray]) -> np.ndarray:
    """One unit vector per story: the normalised mean of its members' vectors (`vec_of`: by item key)."""
    dim = len(next(iter(vec_of.values()))) if vec_of else 0
    out = np.zeros((len(stories), dim), dtype=np.float32)
    for s, story in enumerate(stories):
        v = np.mean([vec_of[i.key] for i in story.items], axis=0)
        out[s] = v / (np.linalg.norm(v) or 1.0)
    return out


def _paper_ids(item: Item) -> set[str]:
    ids = {f"a:{x}" for x in arxiv_ids(item.url) | arxiv_ids(item.key.replace("arxiv:", "arXiv:"))}
    # An arXiv URL says nothing its id does not (and canonicalising 8,000 of them costs a second).
    if ids and "arxiv.org/" in item.url:
        return ids
    url = canonical_url(item.url)
    return ids | ({f"u:{url}"} if url else set())


def _post_refs(item: Item) -> set[str]:
    body = f"{item.title}\n{item.text}"
    out = {f"a:{x}" for x in arxiv_ids(body)}
    for u in (item.url, *item.links):
        out |= {f"a:{x}" for x in arxiv_ids(u)}
        c = canonical_url(u)
        if c:
            out.add(f"u:{c}")
    return out


def _names(item: Item) -> set[str]:
    """A paper's own name ("kimi k2.5" of "Kimi K2.5: Visual Agentic Intelligence") and, when its title
    opens with a versioned mark ("Phi-4-reasoning Technical Report"), that mark as posts spell it, with
    hyphens or spaces ("phi-4-reasoning", "phi 4 reasoning")."""
    out: set[str] = set()
    head = _NAME_HEAD.split(item.title, maxsplit=1)
    if len(head) == 2 and 1 <= len(head[0].split()) <= 4:
        name = " ".join(_WORD.findall(head[0].lower()))
        if len(name) >= 3:
            out.add(name)
    first = _WORD.findall(item.title.lower())[:1]
    if first and first[0][0].isalpha() and MARK.match(first[0]) and len(first[0]) >= 3:
        out |= {first[0], " ".join(_WORD.findall(first[0].replace("-", " ")))}
    return out


def _ngrams(text: str, n: int = 4) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + k]) for k in range(1, n + 1) for i in range(len(words) - k + 1)}


def merge_candidates(items: Sequence[Item], static: np.ndarray, near: float = NEAR_COS) -> np.ndarray:
    """Which items clustering must see with transformer vectors: every non-paper item, and each paper
    that a post links or names, or that is a post's statically nearest paper at cosine >= `near`."""
    paper = np.array([i.source == "arxiv" for i in items], dtype=bool)
    need = ~paper
    posts, papers = np.flatnonzero(~paper), np.flatnonzero(paper)
    if not len(posts) or not len(papers):
        return need
    refs: set[str] = set()
    grams: set[str] = set()
    for k in posts:
        refs |= _post_refs(items[int(k)])
        grams |= _ngrams(f"{items[int(k)].title} {items[int(k)].text[:_BODY_CHARS]}")
    owner: dict[str, list[int]] = {}
    for k in papers:
        ids = _paper_ids(items[int(k)])
        for x in ids:
            owner.setdefault(x, []).append(int(k))
        if ids & refs or _names(items[int(k)]) & grams:
            need[k] = True
    for start in range(0, len(posts), 1024):
        sims = static[posts[start : start + 1024]] @ static[papers].T
        best = sims.argmax(axis=1)
        need[papers[best[sims[np.arange(len(best)), best] >= near]]] = True
    # Papers sharing an identity (v1 and v2) are link-joined: they must be clustered together.
    for group in owner.values():
        if len(group) > 1 and need[group].any():
            need[group] = True
    return need


def _shortlist(ranked: Sequence[RankedStory], k: int, free: Mapping[str, np.ndarray]) -> list[Story]:
    """Stage 1's best `k`, every story with engagement or several sources, and every story whose items
    already have transformer vectors (the posts: clustering needed them anyway)."""
    keep: dict[str, Story] = {}
    for pos, r in enumerate(ranked):
        s = r.story
        engaged = any(i.metrics for i in s.items)
        paid = all(i.key in free for i in s.items)
        if (pos < k and "excluded" not in r.components) or engaged or len(s.sources) > 1 or paid:
            keep[s.id] = s
    return list(keep.values())


def _alone_stories(alone: Sequence[Item], static: np.ndarray, cfg: Config) -> list[Story]:
    """Stories of the papers no post can join: one each, except papers sharing an identity (v1 and v2),
    which `cluster` link-joins (static vectors do: two papers never merge on similarity)."""
    from digest.cluster import cluster, headline, story_id  # cluster's heading, not a copy that drifts

    owner: dict[str, list[int]] = {}
    for k, item in enumerate(alone):
        for x in _paper_ids(item):
            owner.setdefault(x, []).append(k)
    linked = sorted({k for group in owner.values() if len(group) > 1 for k in group})
    out = cluster([alone[k] for k in linked], static[linked], cfg.cluster) if linked else []
    skip = set(linked)
    for k, item in enumerate(alone):
        if k not in skip:
            out.append(Story(id=story_id(item), items=(item,), lead=item, headline=headline(item)))
    return out


@contextmanager
def _timed(times: dict[str, float] | None, stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if times is not None:
            times[stage] = times.get(stage, 0.0) + time.perf_counter() - t0


def one_stage(
    cfg: Config,
    items: Sequence[Item],
    embedder: Embedder,
    profile_of: Callable[[Embedder], Profile],
    featured: Sequence[Featured],
    start: datetime,
    end: datetime,
    times: dict[str, float] | None = None,
) -> TwoStage:
    """Every item embedded by the transformer, clustered and ranked once (small weeks, or no static model)."""
    from digest.cluster import cluster
    from digest.rank import rank

    with _timed(times, "embed"):
        vectors = embed_items(items, embedder)
        profile = profile_of(embedder)
    with _timed(times, "cluster"):
        stories = cluster(items, vectors, cfg.cluster)
    with _timed(times, "rank"):
        svecs = story_vectors(stories, dict(zip([i.key for i in items], vectors, strict=True)))
        ranked = rank(stories, svecs, profile, featured, cfg.rank, start, end)
    return TwoStage(ranked, {s.id: svecs[n] for n, s in enumerate(stories)}, len(stories), len(items))


def rank_two_stage(
    cfg: Config,
    items: Sequence[Item],
    embedder: Embedder,
    static: Embedder,
    profile_of: Callable[[Embedder], Profile],
    featured: Sequence[Featured],
    start: datetime,
    end: datetime,
    times: dict[str, float] | None = None,
) -> TwoStage:
    """Cluster and rank `items` with the static model first, the transformer on the shortlist."""
    from digest.cluster import cluster
    from digest.rank import rank

    tvec: dict[str, np.ndarray] = {}

    def transformer(batch: Sequence[Item]) -> None:
        todo = [i for i in batch if i.key not in tvec]
        if todo:
            tvec.update(zip([i.key for i in todo], embed_items(todo, embedder), strict=True))

    with _timed(times, "embed"):
        svec = embed_items(items, static)
        need = merge_candidates(items, svec)
        merging = [items[int(k)] for k in np.flatnonzero(need)]
        alone = [items[int(k)] for k in np.flatnonzero(~need)]
        transformer(merging)
    with _timed(times, "cluster"):
        stories = cluster(merging, np.stack([tvec[i.key] for i in merging]), cfg.cluster) if merging else []
        stories += _alone_stories(alone, svec[~need], cfg)
    with _timed(times, "rank"):
        static_of = dict(zip([i.key for i in items], svec, strict=True))
        ranked1 = rank(
            stories, story_vectors(stories, static_of), profile_of(static), featured, cfg.rank, start, end
        )
        short = _shortlist(ranked1, cfg.embed.shortlist, tvec)
    ids = {s.id for s in short}
    rest = [r.story for r in ranked1 if r.story.id not in ids]  # in stage-1 order: strata of like stories
    step = max(1, -(-len(rest) // BACKGROUND))
    sample = rest[::step]
    with _timed(times, "embed"):
        transformer([i for s in short + sample for i in s.items])
        profile = profile_of(embedder)
    with _timed(times, "rank"):
        # The whole week is ranked again, so every signal measured against the week (z-scores of the
        # similarities, engagement percentiles, the pickability background) sees what one stage would.
        # Stories off the shortlist are background only: each borrows the transformer vector of the first
        # story of its stratum (`step` neighbours in stage-1 order), so the week's similarity
        # distribution is estimated from `BACKGROUND` of them, stratified by stage-1 score.
        own = story_vectors(short + sample, tvec)
        pool = np.concatenate([own[: len(short)], own[len(short) + np.arange(len(rest)) // step]])
        order = short + rest
        ranked2 = [r for r in rank(order, pool, profile, featured, cfg.rank, start, end) if r.story.id in ids]
    # The rest follow in stage-1 order: `select` measures relevance by rank in the whole week.
    ranked2 += [r for r in ranked1 if r.story.id not in ids]
    by_id = {s.id: own[n] for n, s in enumerate(short)}
    return TwoStage(ranked2, by_id, len(stories), len(tvec))
