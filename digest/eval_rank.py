"""`digest eval rank --pools DIR`: recall@10, recall@50, nDCG@10 on weekly pools, ours beside two baselines.

Format: ../shared/FORMATS.md ("Ranking pools"). For each week the reader's liked history is the likes
published before the week starts; gold picks are read only to score the finished ranking. Our profile
is the eval README's interest text (one interest per comma-separated phrase) plus that history, with
liked papers resolved to their full records when any pool has them (as the store would), and the
liked papers on the ledger (a reader is never sent what they already picked).
Embeddings are cached under a cache folder (not the repo), keyed by model and text hash.
"digest, issue as sent" scores what the reader receives: `select`'s top 10 (MMR diversity and caps of
`cfg.rank`) before the rest of the ranking. The last row re-chooses the fitted weights
(`LOWO_COMPONENTS`) leave-one-week-out: the honest number for them.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from digest.config import Config, Interest
from digest.errors import InputError
from digest.models import Item
from digest.profile import Featured, build_profile
from digest.rank import WEIGHTS, item_story, rank, select
from digest.summarize import plain_text

EVAL_INTERESTS = (
    "large language models, LLM agents, reasoning, reinforcement learning for LLMs, retrieval-augmented "
    "generation, efficient inference, multimodal models, AI safety and alignment, evaluation benchmarks"
)
BASELINE_HISTORY = 200  # the README's baselines use the 200 most recent likes
# The weights fitted on these pools, re-chosen leave-one-week-out: for each week, the grid values that
# score best on the other weeks rank it. That row is the number to trust for the fitted weights.
LOWO_COMPONENTS = ("title_words", "record")
LOWO_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
Week = tuple[list[str], list[dict[str, float]], list[str]]  # ids best first, components, gold
LOWO_METHOD = "digest, leave-one-week-out"
ISSUE_METHOD = "digest, issue as sent"  # select()'s top 10 (MMR, caps) first, then the ranking
LEAD_CHARS = 300


def eval_text(item: Item) -> str:
    """Title plus the first 300 characters of the abstract (or the like's description).

    A longer lead than the pipeline's one-sentence lead: on the dev pools it doubled what similarity
    to the interests and likes finds in the top 10, the abstract's second sentence carrying the topic.
    """
    return f"{item.title}. {' '.join(item.text.split())[:LEAD_CHARS]}"


def metrics(order: Sequence[str], gold: Sequence[str]) -> tuple[int, int, float]:
    """(hits in the top 10, hits in the top 50, nDCG@10 with binary gains)."""
    g = set(gold)
    h10 = sum(x in g for x in order[:10])
    h50 = sum(x in g for x in order[:50])
    dcg = sum(1 / math.log2(r + 2) for r, x in enumerate(order[:10]) if x in g)
    idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(g))))
    return h10, h50, (dcg / idcg if idcg else 0.0)


class CachedEmbedder:
    """Wraps an embedder with a per-text vector cache in one .npz file per model (outside the repo)."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self.inner = inner
        self.model_id: str = inner.model_id
        self.path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', self.model_id)}.npz"
        self.vecs: dict[str, np.ndarray] = {}
        self.dirty = False
        if self.path.exists():
            try:
                with np.load(self.path) as f:
                    self.vecs = dict(zip(f["hashes"].tolist(), f["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                self.vecs = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [hashlib.sha256(t.encode("utf-8", "replace")).hexdigest()[:24] for t in texts]
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in self.vecs}
        if todo:
            keys = sorted(todo, key=lambda h: len(todo[h]))  # similar lengths batch with less padding
            new = np.asarray(self.inner.encode([todo[h] for h in keys]), dtype=np.float32)
            self.vecs.update(zip(keys, new, strict=True))
            self.dirty = True
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self.vecs[h] for h in hashes]).astype(np.float32)

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, hashes=np.array(list(self.vecs)), vectors=np.stack(list(self.vecs.values())))
        os.replace(tmp, self.path)
        self.dirty = False


def cache_dir() -> Path:
    env = os.environ.get("DIGEST_CACHE_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / "digest-cache" / "eval-rank"


def _paper_item(p: Mapping[str, Any], published: datetime) -> Item:
    cats = tuple(p.get("categories") or ())
    return Item(
        key=f"arxiv:{p['id']}",
        source="arxiv",
        url=f"https://arxiv.org/abs/{p['id']}",
        title=" ".join(str(p.get("title") or "").split()),
        text=" ".join(str(p.get("summary") or "").split()),
        published=published,
        authors=tuple(p.get("authors") or ()),
        categories=cats,
        feed=cats[0] if cats else "",
        comment=" ".join(str(p.get("comment") or "").split()),
    )


def _like_item(line: Mapping[str, Any]) -> Item:
    """A like as an item: markdown/HTML stripped, the title not repeated at the head of the text."""
    item = Item.from_line(line)
    title, text = plain_text(item.title), plain_text(item.text)
    if title and text.startswith(title):
        text = text[len(title) :].lstrip(" -–—:")
    return replace(item, title=title, text=text)


def load_pools(pools_dir: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    folder = Path(pools_dir)
    files = sorted(folder.glob("pool_*.json.gz"))
    if not files:
        raise InputError(f"{pools_dir}: no pool_*.json.gz files")
    likes_path = folder / "likes.jsonl"
    if not likes_path.exists():
        raise InputError(f"{likes_path}: file not found")
    pools = []
    for f in files:
        try:
            pools.append(json.loads(gzip.decompress(f.read_bytes())))
        except (OSError, ValueError) as e:
            raise InputError(f"{f}: not a gzip JSON pool ({e})") from None
    likes = [json.loads(x) for x in likes_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return pools, likes


def _day(s: str) -> datetime:
    return datetime.fromisoformat(s[:10]).replace(tzinfo=timezone.utc)


def _zotero(x: np.ndarray, liked: np.ndarray) -> np.ndarray:
    w = 1.0 / np.log10(np.arange(len(liked))[::-1] + 10.0)
    return np.asarray((x @ liked.T) @ w / w.sum())


def _sanity(pool_texts: list[str], like_texts: list[str]) -> np.ndarray:
    from scipy.sparse import vstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(ngram_range=(1, 2), max_features=20000, sublinear_tf=True, dtype=np.float32)
    vec.fit(pool_texts + like_texts)
    xp, xl = vec.transform(pool_texts), vec.transform(like_texts)
    y = np.r_[np.ones(len(like_texts)), np.zeros(len(pool_texts))]
    clf = LinearSVC(C=0.01, class_weight="balanced", max_iter=10000, tol=1e-6)
    clf.fit(vstack([xl, xp]), y)
    return np.asarray(clf.decision_function(xp))


def _order(ids: Sequence[str], scores: np.ndarray) -> list[str]:
    return [ids[k] for k in np.argsort(-scores, kind="stable")]


def evaluate_rank(pools_dir: str, cfg: Config, weeks: Sequence[str] | None = None) -> str:
    """The table of recall@10, recall@50, nDCG@10 per week and overall for the baselines and ours."""
    from digest.embed import load_embedder

    pools, likes = load_pools(pools_dir)
    if weeks:
        pools = [p for p in pools if p["start"] in weeks]
    papers: dict[str, Mapping[str, Any]] = {p["id"]: p for pool in pools for p in pool["pool"]}
    embedder = CachedEmbedder(load_embedder(cfg.embed), cache_dir())
    profile_cfg = replace(
        cfg.profile,
        interests=tuple(Interest(t.strip()) for t in EVAL_INTERESTS.split(",")),
        negatives=(),
        liked=(),
        liked_file="",
    )
    methods = ("arxiv-sanity-lite", "zotero-arxiv-daily", "digest")
    rows: dict[str, list[tuple[int, int, float, int]]] = {m: [] for m in methods}
    fitted: list[Week] = []
    for pool in pools:
        start, end = _day(pool["start"]), _day(pool["end"])
        items = [_paper_item(p, start) for p in pool["pool"]]
        ids = [i.key for i in items]
        gold = [f"arxiv:{g['arxiv_id']}" for g in pool["gold"]]
        history = [x for x in likes if _day(x["published"]) < start]
        vecs = embedder.encode([eval_text(i) for i in items])
        recent = history[-BASELINE_HISTORY:]
        like_items = [_like_item(x) for x in recent]
        like_vecs = embedder.encode([eval_text(i) for i in like_items])
        scores = {
            "arxiv-sanity-lite": _sanity(
                [f"{i.title} {i.text}" for i in items], [f"{i.title} {i.text}" for i in like_items]
            ),
            "zotero-arxiv-daily": _zotero(vecs, like_vecs),
        }
        liked: list[Item] = []
        for x in history:
            aid = str(x.get("arxiv_id") or "")
            rec = papers.get(aid)
            liked.append(_paper_item(rec, _day(x["published"])) if rec else _like_item(x))
        profile = build_profile(profile_cfg, embedder, liked, [], {}, text=eval_text)
        featured = history_featured(history)
        ranked = rank([item_story(i) for i in items], vecs, profile, featured, cfg.rank, start, end)
        orders = {m: _order(ids, s) for m, s in scores.items()}
        orders["digest"] = [r.story.id for r in ranked]
        fitted.append(([r.story.id for r in ranked], [dict(r.components) for r in ranked], gold))
        sent = [r.story.id for r in select(ranked, cfg.rank, dict(zip(ids, vecs, strict=True)))]
        issue = sent + [x for x in orders["digest"] if x not in set(sent)]
        rows.setdefault(ISSUE_METHOD, []).append((*metrics(issue, gold), len(gold)))
        for m in methods:
            rows[m].append((*metrics(orders[m], gold), len(gold)))
    embedder.save()
    if len(fitted) > 1:
        rows[LOWO_METHOD] = _leave_one_week_out(fitted)
    return _table(pools, rows)


def _reweighted(week: Week, weights: Sequence[float]) -> list[str]:
    ids, comps, _ = week
    scales = [(c, w / WEIGHTS[c] - 1) for c, w in zip(LOWO_COMPONENTS, weights, strict=True)]
    scores = np.array([sum(c.values()) + sum(s * c.get(k, 0.0) for k, s in scales) for c in comps])
    return _order(ids, scores)


def _leave_one_week_out(weeks: Sequence[Week]) -> list[tuple[int, int, float, int]]:
    """Each week ranked with the grid weights that did best on the other weeks (recall@10 + nDCG@10 +
    0.3 recall@50, summed over them); the held-out week's gold is read only to score it afterwards."""
    grid = list(itertools.product(LOWO_GRID, repeat=len(LOWO_COMPONENTS)))
    value: dict[tuple[int, tuple[float, ...]], float] = {}
    for k, week in enumerate(weeks):
        n = max(1, len(week[2]))
        for w in grid:
            h10, h50, nd = metrics(_reweighted(week, w), week[2])
            value[(k, w)] = h10 / n + nd + 0.3 * h50 / n
    out = []
    for k, week in enumerate(weeks):
        best = max(grid, key=lambda w: sum(value[(j, w)] for j in range(len(weeks)) if j != k))
        out.append((*metrics(_reweighted(week, best), week[2]), len(week[2])))
    return out


def _table(pools: Sequence[Mapping[str, Any]], rows: Mapping[str, list[tuple[int, int, float, int]]]) -> str:
    lines = [f"{'week':<12}{'method':<28}{'recall@10':>10}{'recall@50':>10}{'nDCG@10':>9}{'gold':>6}"]
    for k, pool in enumerate(pools):
        for m, r in rows.items():
            h10, h50, nd, n = r[k]
            n = n or 1
            lines.append(f"{pool['start']:<12}{m:<28}{h10 / n:>10.3f}{h50 / n:>10.3f}{nd:>9.3f}{n:>6}")
    lines.append("")
    for m, r in rows.items():
        n = sum(x[3] for x in r) or 1
        r10, r50 = sum(x[0] for x in r) / n, sum(x[1] for x in r) / n
        nd = sum(x[2] for x in r) / max(1, len(r))
        lines.append(f"{'all weeks':<12}{m:<28}{r10:>10.3f}{r50:>10.3f}{nd:>9.3f}{n:>6}")
    return "\n".join(lines)


def history_featured(history: Sequence[Mapping[str, Any]]) -> list[Featured]:
    """The reader's liked history as already-featured stories: a pick is never news again."""
    return [
        Featured(
            x["published"][:10], x["id"], (f"arxiv:{x['arxiv_id']}",), "", "sources=arxiv;domains=arxiv.org"
        )
        for x in history
        if x.get("arxiv_id")
    ]
