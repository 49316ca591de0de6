"""`python -m digest.bench_store [--weeks 52] [--items 1500] [--judgements 200]`: a store after a year.

A weekly cron job keeps every item and the vectors of every text it embedded. This fills a fresh store
in a temporary folder with `--weeks` synthetic weeks of `--items` items each (each with links, as posts
have, and one 384-dimension vector, as the transformer stores), then measures what grows with the
store: its size, looking up `--judgements` feedback targets (keys, URLs as stored, canonical URLs and
links: what every build and `feedback list` do), one week's items, and reading everything as `digest
export` does. No model runs: the vectors are random, the texts synthetic (`bench_week.synthetic_items`).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import tracemalloc
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from digest.bench_week import synthetic_items
from digest.embed import text_hash
from digest.store import SQLiteStore
from digest.urls import canonical_url

START = datetime(2025, 12, 1, tzinfo=timezone.utc)  # a Monday


def fill(store: SQLiteStore, weeks: int, per_week: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """Store the synthetic weeks; returns (key, URL, link) of one item in every 50 (lookup targets)."""
    targets: list[tuple[str, str, str]] = []
    for w in range(weeks):
        base = synthetic_items(per_week, "reddit", rng)
        monday = START + timedelta(weeks=w)
        week = [
            replace(
                it,
                key=f"reddit:w{w}x{k}",
                url=f"https://www.example.org/r/{w}/{k}/?utm_source=rss",
                links=(f"https://blog{k % 40}.example.com/post/{w}-{k}",),
                published=monday + timedelta(minutes=6 * k),
            )
            for k, it in enumerate(base)
        ]
        store.upsert_items(week)
        vecs = {text_hash(f"{i.title}. {i.text}"): rng_vector(rng) for i in week}
        store.put_embeddings("all-MiniLM-L6-v2", vecs)
        targets += [(i.key, i.url, i.links[0]) for i in week[::50]]
    return targets


def rng_vector(rng: random.Random) -> np.ndarray:
    return np.asarray([rng.gauss(0.0, 1.0) for _ in range(384)], dtype=np.float32)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m digest.bench_store", description=__doc__)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--items", type=int, default=1500, help="items per week")
    ap.add_argument("--judgements", type=int, default=200)
    args = ap.parse_args(argv)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "year.db"
        with SQLiteStore(path) as store:
            t0 = time.perf_counter()
            stored = fill(store, args.weeks, args.items, rng)
            filled = time.perf_counter() - t0
            size = path.stat().st_size
            picks = rng.sample(stored, min(len(stored), args.judgements))
            # as feedback targets come: a quarter each by key, URL as stored, canonical URL and a link
            needles = [
                (key, url, canonical_url(url), link)[k % 4] for k, (key, url, link) in enumerate(picks)
            ]
            t0 = time.perf_counter()
            found = sum(bool(store.find_items(n)) for n in needles)
            lookups = time.perf_counter() - t0
            last = START + timedelta(weeks=args.weeks - 1)
            t0 = time.perf_counter()
            week = store.items_between(last, last + timedelta(days=7))
            one_week = time.perf_counter() - t0
            tracemalloc.start()
            t0 = time.perf_counter()
            everything = sum(1 for _ in store.each_item())
            export_s = time.perf_counter() - t0
            export_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    total = args.weeks * args.items
    print(f"store after {args.weeks} weeks of {args.items} items ({total:,} items, one vector each)")
    print(f"  filled in {filled:.1f} s; file {size / 1e6:.0f} MB ({size / 1e6 / args.weeks:.1f} MB a week)")
    print(f"  {len(needles)} feedback lookups: {lookups:.2f} s ({found} found)")
    print(f"  one week's items: {len(week):,} in {one_week:.2f} s")
    print(
        f"  export of everything: {everything:,} items in {export_s:.1f} s, {export_peak / 1e6:.0f} MB peak"
    )


if __name__ == "__main__":
    main()
