"""A realistic big week for `digest.bench`: the replay worlds' real texts, repeated with variations.

Base texts come from ../shared/data/world-2026-W06 and world-2025-W17-W18 (arXiv papers with their
abstracts, Reddit posts with their selftext, RSS/Atom entries and HN items). Copies get a new id and URL,
a reworded title, their sentences rotated and a new time in the week, so every text (and its content
hash) is distinct but reads like the real thing. Without ../shared, synthetic text stands in (noted).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from digest.config import FeedConfig
from digest.models import Item

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WORLDS = ("world-2026-W06", "world-2025-W17-W18")
_TITLE_PREFIXES = ("", "Revisiting ", "Towards ", "On ", "Rethinking ", "Scaling ", "Beyond ")
_POST_PREFIXES = ("", "[D] ", "Thoughts on: ", "PSA: ", "Question: ", "Update: ", "ICYMI: ")


def _jsonl(path: Path) -> Iterator[dict]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _ts(x: object) -> datetime:
    if isinstance(x, (int, float)):
        return datetime.fromtimestamp(float(x), tz=timezone.utc)
    return datetime.fromisoformat(str(x).replace("Z", "+00:00"))


def world_items(root: Path) -> tuple[list[Item], list[Item], list[Item]]:
    """(papers, Reddit posts, HN stories) of one replay world folder, as Items."""
    papers: list[Item] = []
    posts: list[Item] = []
    hn: list[Item] = []
    for r in _jsonl(root / "arxiv" / "papers.jsonl"):
        cats = tuple(r.get("categories") or ())
        papers.append(
            Item(
                key=f"arxiv:{r['id']}",
                source="arxiv",
                url=f"https://arxiv.org/abs/{r['id']}",
                title=" ".join(str(r.get("title") or "").split()),
                text=" ".join(str(r.get("summary") or "").split()),
                published=_ts(r["published"]),
                authors=tuple(r.get("authors") or ()),
                categories=cats,
                feed=r.get("primary_category") or (cats[0] if cats else ""),
                comment=r.get("comment") or "",
            )
        )
    for r in _jsonl(root / "reddit" / "posts.jsonl"):
        posts.append(
            Item(
                key=f"reddit:{r['id']}",
                source="reddit",
                url=r.get("url") or f"https://www.reddit.com/comments/{r['id']}",
                title=r.get("title") or "",
                text=r.get("selftext") or "",
                published=_ts(r["created_utc"]),
                authors=(r.get("author") or "",),
                categories=(r.get("subreddit") or "",),
                metrics={"score": float(r.get("score") or 0), "comments": float(r.get("num_comments") or 0)},
                feed=r.get("subreddit") or "",
            )
        )
    for r in _jsonl(root / "hn" / "items.jsonl"):
        hn.append(
            Item(
                key=f"hn:{r['id']}",
                source="hn",
                url=r.get("url") or f"https://news.ycombinator.com/item?id={r['id']}",
                title=r.get("title") or "",
                text=r.get("text") or "",
                published=_ts(r["created_utc"]),
                authors=(r.get("author") or "",),
                metrics={"points": float(r.get("points") or 0), "comments": float(r.get("comments") or 0)},
            )
        )
    return papers, posts, hn


def base_texts(shared: Path = SHARED) -> tuple[list[Item], list[Item], list[Item]]:
    """(papers, reddit posts, feed entries incl. HN) of every replay world found."""
    from sources.rss import parse_feed

    papers: list[Item] = []
    posts: list[Item] = []
    feeds: list[Item] = []
    for world in WORLDS:
        root = shared / "data" / world
        w_papers, w_posts, w_hn = world_items(root)
        papers += w_papers
        posts += w_posts
        feeds += w_hn
        for xml in sorted((root / "feeds").glob("*.xml")) if (root / "feeds").exists() else []:
            feed = FeedConfig(url=f"https://example.org/{xml.stem}.xml", name=xml.stem)
            try:
                feeds.extend(parse_feed(xml.read_bytes(), feed))
            except ValueError:
                continue
    return papers, posts, feeds


def synthetic_items(n: int, source: str, rng: random.Random) -> list[Item]:
    words = [
        "model",
        "agent",
        "reasoning",
        "benchmark",
        "inference",
        "sparse",
        "attention",
        "retrieval",
        "alignment",
        "safety",
        "token",
        "training",
        "data",
        "scaling",
        "vision",
        "language",
        "robot",
        "policy",
        "memory",
        "graph",
        "kernel",
        "quantization",
    ]
    out = []
    for k in range(n):
        title = " ".join(rng.choice(words) for _ in range(8)).capitalize()
        text = ". ".join(" ".join(rng.choice(words) for _ in range(14)) for _ in range(6)) + "."
        out.append(
            Item(
                key=f"{source}:syn{k}",
                source=source,
                url=f"https://example.org/{source}/{k}",
                title=title,
                text=text,
                published=datetime(2026, 2, 3, tzinfo=timezone.utc),
                feed="syn",
            )
        )
    return out


def _rotate(text: str, k: int) -> str:
    parts = [p for p in text.split(". ") if p]
    if len(parts) < 2 or k == 0:
        return text
    k %= len(parts)
    return ". ".join(parts[k:] + parts[:k])


def _grow(base: list[Item], n: int, kind: str, start: datetime, rng: random.Random) -> list[Item]:
    """n items from `base`: the originals first, then reworded copies, each at a time in the week."""
    out: list[Item] = []
    for k in range(n):
        orig = base[k % len(base)]
        copy = k // len(base)
        when = start + timedelta(seconds=rng.uniform(0, 7 * 86400 - 1))
        metrics = {m: round(v * rng.uniform(0.3, 2.0)) for m, v in orig.metrics.items()}
        if kind == "arxiv":
            aid = f"26{rng.randrange(10):02d}.{k:05d}"
            key, url = f"arxiv:{aid}", f"https://arxiv.org/abs/{aid}"
            prefix = _TITLE_PREFIXES[copy % len(_TITLE_PREFIXES)]
        else:
            key = f"{orig.key}-c{copy}" if copy else orig.key
            url = orig.url if not copy else f"{orig.url.rstrip('/')}?copy={copy}"
            prefix = _POST_PREFIXES[copy % len(_POST_PREFIXES)]
        title = orig.title if not copy else prefix + orig.title
        out.append(
            Item(
                key=key,
                source=orig.source,
                url=url,
                title=title,
                text=_rotate(orig.text, copy),
                published=when,
                authors=orig.authors,
                categories=orig.categories,
                metrics=metrics,
                links=orig.links,
                feed=orig.feed,
                comment=orig.comment,
            )
        )
    return out


def build_week(n: int, start: datetime, seed: int = 0, shared: Path = SHARED) -> tuple[list[Item], str]:
    """n items (80% papers, 10% Reddit posts, 10% feed entries) and a note on where they came from."""
    rng = random.Random(seed)
    papers, posts, feeds = base_texts(shared) if shared.exists() else ([], [], [])
    note = f"{len(papers)} papers, {len(posts)} posts, {len(feeds)} feed entries from the replay worlds"
    if not papers or not posts or not feeds:
        note = "NOTE: ../shared not found: synthetic text (timings are not representative)"
        papers, posts, feeds = (
            synthetic_items(500, "arxiv", rng),
            synthetic_items(100, "reddit", rng),
            synthetic_items(100, "rss", rng),
        )
    n_posts = n_feeds = n // 10
    items = (
        _grow(papers, n - n_posts - n_feeds, "arxiv", start, rng)
        + _grow(posts, n_posts, "post", start, rng)
        + _grow(feeds, n_feeds, "post", start, rng)
    )
    return items, note
