"""`python -m digest.bench [--items N]`: a cold and a warm build of a big week, stage by stage.

Cold = a fresh SQLite store (no cached vectors); warm = the same build again on that store. Printed per
run: seconds for embed, cluster, rank and render (+ store), items per second for embedding, and the peak
memory of the process. `embed_ratio` compares the embedding throughput with the naive pipeline (plain
`SentenceTransformer.encode` of each item's full text, measured on a random sample in the same run and
extrapolated, so the figure holds on a busy machine). The last line is one JSON object.

`--check-rank`: on the dev ranking pools, the two-stage top 10 against the one-stage top 10.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from digest.config import Config, Interest, ProfileConfig
from digest.models import Item, SourceResult

WEEK = "2026-W06"
PLAIN_SAMPLE = 300
POOLS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "rank-potw-dev"


def _config(root: Path) -> Config:
    return dataclasses.replace(
        Config(base_dir=str(root)),
        store=dataclasses.replace(Config().store, path=str(root / "bench.db")),
        archive=dataclasses.replace(Config().archive, path=str(root / "archive")),
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed_build(cfg: Config, week: str, log: Any = print) -> dict[str, float]:
    """One `build` of `week`, with the seconds of each stage (render = the rest of `build`)."""
    from digest import pipeline

    times: dict[str, float] = {}
    inner = pipeline.rank_week

    def rank_week(*args: Any, **kwargs: Any) -> Any:
        return inner(*args, **{**kwargs, "times": times})

    pipeline.rank_week = rank_week  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        with pipeline.open_store(cfg) as store:
            pipeline.build(cfg, store, week, log)
        total = time.perf_counter() - t0
    finally:
        pipeline.rank_week = inner  # type: ignore[assignment]
    staged = sum(times.values())
    return {**times, "render": max(0.0, total - staged), "total": total}


def plain_rate(items: Sequence[Item], sample: int = PLAIN_SAMPLE, seed: int = 0) -> float:
    """Texts per second of the naive pipeline: the full title + text of each item, plain encode."""
    from sentence_transformers import SentenceTransformer

    from digest.embed import bundled_path

    model = SentenceTransformer(bundled_path(), device="cpu")
    texts = [f"{i.title}. {i.text}" for i in random.Random(seed).sample(list(items), min(sample, len(items)))]
    model.encode(texts[:8])  # warm-up, as the pipeline's model would be
    t0 = time.perf_counter()
    model.encode(texts, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - t0)


def _line(name: str, t: dict[str, float], n: int) -> str:
    per = ", ".join(f"{k} {t.get(k, 0.0):.1f} s" for k in ("embed", "cluster", "rank", "render"))
    rate = n / t["embed"] if t.get("embed") else float("inf")
    return f"{name}: {t['total']:.1f} s ({per}); embedding {rate:.0f} items/s"


def run_bench(n: int, seed: int = 0) -> dict[str, Any]:
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from digest.bench_week import build_week
    from digest.static_embed import distilled_dir, load_static_embedder
    from digest.store import SQLiteStore
    from digest.weeks import week_window

    start, _ = week_window(WEEK)
    items, note = build_week(n, start, seed)
    kinds = {s: sum(i.source == s for i in items) for s in sorted({i.source for i in items})}
    print(f"week of {len(items)} items {kinds}; {note}")
    cfg0 = Config()
    folder, _ = distilled_dir(cfg0.embed)
    if not (folder / "config.json").exists():
        t0 = time.perf_counter()
        load_static_embedder(cfg0.embed)
        print(f"static model distilled once in {time.perf_counter() - t0:.0f} s → {folder} (not in cold_s)")
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        cfg = _config(Path(tmp))
        with SQLiteStore(cfg.resolve(cfg.store.path)) as store:
            store.save_source_result(WEEK, SourceResult(name="bench", items=tuple(items)))
        cold = timed_build(cfg, WEEK)
        print(_line("cold", cold, n))
        warm = timed_build(cfg, WEEK)
        print(_line("warm", warm, n))
    plain = plain_rate(items)
    naive_s = n / plain
    ours = n / cold["embed"]
    print(
        f"naive embedding (full title + text, plain encode): {plain:.1f} texts/s on a {PLAIN_SAMPLE}-text "
        f"sample → {naive_s:.0f} s for {n}; ours {ours:.0f} items/s in the cold embed stage"
    )
    peak = _peak_mb()
    print(f"peak memory (max RSS of the process): {peak:.0f} MB")
    return {
        "items": n,
        "cold_s": round(cold["total"], 2),
        "warm_s": round(warm["total"], 2),
        "peak_mb": round(peak),
        "embed_ratio": round(ours / plain, 1),
        "cold": {k: round(v, 2) for k, v in cold.items()},
        "warm": {k: round(v, 2) for k, v in warm.items()},
        "plain_texts_per_s": round(plain, 1),
    }


# -- --check-rank ------------------------------------------------------------------------------------
def check_rank(pools_dir: str, limit: int = 0) -> dict[str, Any]:
    """Per dev pool: the pipeline's top 10 one-stage (transformer for all) vs two-stage; gold hits of each."""
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from digest.embed import CachedEmbedder, load_embedder
    from digest.eval_rank import EVAL_INTERESTS, _like_item, _paper_item, history_featured, load_pools
    from digest.profile import build_profile
    from digest.rank import select
    from digest.static_embed import cache_root, load_static_embedder
    from digest.store import SQLiteStore
    from digest.twostage import one_stage, rank_two_stage

    cfg = Config()
    pools, likes = load_pools(pools_dir)
    papers = {p["id"]: p for pool in pools for p in pool["pool"]}
    cache_root().mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(cache_root() / "bench-check-rank.db")  # vectors cached between checks
    emb = CachedEmbedder(load_embedder(cfg.embed, lazy=True), store)
    static = load_static_embedder(cfg.embed)
    assert static is not None
    sta = CachedEmbedder(static, store)
    pcfg = ProfileConfig(interests=tuple(Interest(t.strip()) for t in EVAL_INTERESTS.split(",")))
    rows = []
    for pool in pools[:limit] if limit > 0 else pools:
        start = _day(pool["start"])
        end = _day(pool["end"])
        items = [_paper_item(p, start) for p in pool["pool"]]
        history = [x for x in likes if _day(x["published"]) < start]
        liked = [
            _paper_item(papers[str(x.get("arxiv_id"))], _day(x["published"]))
            if str(x.get("arxiv_id") or "") in papers
            else _like_item(x)
            for x in history
        ]
        featured = history_featured(history)

        def profile_of(e: Any, liked: list[Item] = liked) -> Any:
            return build_profile(pcfg, e, liked, [], {})

        gold = {f"arxiv:{g['arxiv_id']}" for g in pool["gold"]}
        t0 = time.perf_counter()
        one = one_stage(cfg, items, emb, profile_of, featured, start, end)
        t1 = time.perf_counter()
        two = rank_two_stage(cfg, items, emb, sta, profile_of, featured, start, end)
        t2 = time.perf_counter()
        top1 = [r.story.lead.key for r in select(one.ranked, cfg.rank, one.vectors)]
        top2 = [r.story.lead.key for r in select(two.ranked, cfg.rank, two.vectors)]
        rank1 = [r.story.lead.key for r in one.ranked]
        rank2 = [r.story.lead.key for r in two.ranked]
        row = {
            "week": pool["start"],
            "pool": len(items),
            "ranked_overlap10": len(set(rank1[:10]) & set(rank2[:10])),
            "ranked_overlap50": len(set(rank1[:50]) & set(rank2[:50])),
            "overlap10": len(set(top1) & set(top2)),
            "gold_in_top10_one": len(gold & set(top1)),
            "gold_in_top10_two": len(gold & set(top2)),
            "gold_in_shortlist": len(
                gold & {r.story.lead.key for r in two.ranked if r.story.id in two.vectors}  # shortlisted
            ),
            "gold": len(gold),
            "transformer_items_two": two.transformer_items,
            "one_s": round(t1 - t0, 1),
            "two_s": round(t2 - t1, 1),
        }
        print(json.dumps(row))
        rows.append(row)
    total = {
        "pools": len(rows),
        "mean_ranked_overlap10": round(sum(r["ranked_overlap10"] for r in rows) / max(1, len(rows)), 2),
        "mean_ranked_overlap50": round(sum(r["ranked_overlap50"] for r in rows) / max(1, len(rows)), 2),
        "mean_selected_overlap10": round(sum(r["overlap10"] for r in rows) / max(1, len(rows)), 2),
        "gold_top10_one": sum(r["gold_in_top10_one"] for r in rows),
        "gold_top10_two": sum(r["gold_in_top10_two"] for r in rows),
        "gold_in_shortlist": sum(r["gold_in_shortlist"] for r in rows),
        "gold": sum(r["gold"] for r in rows),
    }
    return total


def _day(s: str) -> Any:
    from datetime import datetime, timezone

    return datetime.fromisoformat(s[:10]).replace(tzinfo=timezone.utc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-rank", action="store_true", help="two-stage vs one-stage top 10 on dev pools")
    ap.add_argument("--pools", default=str(POOLS))
    ap.add_argument("--weeks", type=int, default=0, help="--check-rank on the first N pools only (0 = all)")
    args = ap.parse_args(argv)
    result = check_rank(args.pools, args.weeks) if args.check_rank else run_bench(args.items, args.seed)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
