"""`python -m digest.bench_cluster [--items N]`: time and peak memory of clustering a big week.

Items come from the replay world (../shared/data/world-2026-W06: arXiv, Reddit, HN), repeated with
variations until N: each copy gets a reworded title (words dropped, a prefix), another channel, a shifted
time and, for some, a link to its original, so the clusterer sees duplicates, reposts and link joins as in
a real week. The base texts are embedded once with the real model (reported separately); copies get
their original's vector plus small noise, which keeps the geometry of near-duplicates without paying
for 10k encodes.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from digest.config import ClusterConfig, EmbedConfig
from digest.models import Item

WORLD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "world-2026-W06"


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _ts(x: object) -> datetime:
    if isinstance(x, (int, float)):
        return datetime.fromtimestamp(float(x), tz=timezone.utc)
    return datetime.fromisoformat(str(x).replace("Z", "+00:00"))


def load_world(root: Path = WORLD) -> list[Item]:
    """The replay world's raw arXiv/Reddit/HN records as Items (a minimal reader for benchmarks only)."""
    items: list[Item] = []
    for r in _jsonl(root / "arxiv" / "papers.jsonl"):
        items.append(
            Item(
                key=f"arxiv:{r['id']}",
                source="arxiv",
                url=f"https://arxiv.org/abs/{r['id']}",
                title=r.get("title") or "",
                text=r.get("summary") or "",
                published=_ts(r["published"]),
                authors=tuple(r.get("authors") or ()),
                categories=tuple(r.get("categories") or ()),
                feed=r.get("primary_category") or "",
                comment=r.get("comment") or "",
            )
        )
    for r in _jsonl(root / "reddit" / "posts.jsonl"):
        items.append(
            Item(
                key=f"reddit:{r['id']}",
                source="reddit",
                url=r.get("url") or "",
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
        items.append(
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
    return items


_PREFIXES = ("", "", "New: ", "Thoughts on ", "[D] ", "Discussion: ", "ICYMI ", "Paper: ")
_SOURCES = ("reddit", "x", "hn", "rss", "youtube")


def synthesize(
    base: list[Item], vectors: np.ndarray, n: int, dup_share: float = 0.2, seed: int = 0
) -> tuple[list[Item], np.ndarray]:
    """Grow `base` to n items: `dup_share` of the new ones are reposts of a base item (reworded,
    re-sourced, time-shifted, sometimes linking the original; vector = original + small noise); the
    rest are new stories remixed from two base items (title halves, vector between the two)."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    items = list(base[:n])
    vecs = [vectors[k] for k in range(len(items))]
    k = 0
    while len(items) < n:
        a = rng.randrange(len(base))
        orig = base[a]
        source = rng.choice(_SOURCES)
        words = orig.title.split()
        if rng.random() < dup_share:
            if len(words) > 4:
                drop = rng.randrange(len(words))
                words = words[:drop] + words[drop + 1 :]
            title = rng.choice(_PREFIXES) + " ".join(words)
            text = orig.text[:400]
            links: tuple[str, ...] = (orig.url,) if rng.random() < 0.3 else ()
            vec = vectors[a] + nrng.normal(0.0, 0.02, size=vectors.shape[1])
        else:
            b = rng.randrange(len(base))
            other = base[b].title.split()
            title = " ".join(words[: max(1, len(words) // 2)] + other[len(other) // 2 :])
            text = base[b].text[:400]
            links = ()
            vec = vectors[a] + 0.8 * vectors[b] + nrng.normal(0.0, 0.05, size=vectors.shape[1])
        items.append(
            Item(
                key=f"syn:{k}",
                source=source,
                url=f"https://example.org/{source}/{k}",
                title=title,
                text=text,
                published=orig.published + timedelta(hours=rng.uniform(-48, 48)),
                authors=(f"user{rng.randrange(5000)}",),
                links=links,
                feed=f"{source}-{rng.randrange(40)}",
            )
        )
        vecs.append(vec.astype(np.float32))
        k += 1
    out = np.vstack(vecs).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return items, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--world", default=str(WORLD))
    ap.add_argument("--dup-share", type=float, default=0.2, help="share of added items that are reposts")
    args = ap.parse_args(argv)
    from digest.cluster import cluster
    from digest.embed import embed_items, load_embedder

    base = load_world(Path(args.world))
    t0 = time.perf_counter()
    base_vecs = embed_items(base, load_embedder(EmbedConfig()))
    t_embed = time.perf_counter() - t0
    items, vecs = synthesize(base, base_vecs, args.items, args.dup_share)
    import hdbscan  # noqa: F401  - its import (~1 s, pulls in sklearn) is not clustering time

    t0 = time.perf_counter()
    stories = cluster(items, vecs, ClusterConfig())
    t_cluster = time.perf_counter() - t0
    # A second, traced run for memory: tracemalloc slows allocation-heavy code, so it is not timed.
    tracemalloc.start()
    cluster(items, vecs, ClusterConfig())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    multi = sum(1 for s in stories if len(s.items) > 1)
    print(f"embedding: {len(base)} base texts in {t_embed:.1f} s ({len(base) / t_embed:.0f} items/s)")
    print(
        f"clustering: {len(items)} items -> {len(stories)} stories ({multi} with 2+ items) "
        f"in {t_cluster:.2f} s; peak {peak / 1e6:.0f} MB allocated while clustering (tracemalloc)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
