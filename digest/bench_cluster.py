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
import random
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import numpy as np

from digest.config import ClusterConfig, EmbedConfig
from digest.models import Item

WORLD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "world-2026-W06"


def load_world(root: Path = WORLD) -> list[Item]:
    """The replay world's arXiv, Reddit and HN records as Items; synthetic text (said on stderr) where
    there is no world (an installed package has no ../shared beside it)."""
    import random
    import sys

    from digest.bench_week import synthetic_items, world_items

    papers, posts, hn = world_items(root) if (root / "arxiv").exists() else ([], [], [])
    if papers or posts or hn:
        return papers + posts + hn
    print(
        f"NOTE: no replay world at {root} (--world): synthetic text, figures not representative",
        file=sys.stderr,
    )
    rng = random.Random(0)
    return [
        *synthetic_items(1200, "arxiv", rng),
        *synthetic_items(200, "reddit", rng),
        *synthetic_items(60, "hn", rng),
    ]


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
