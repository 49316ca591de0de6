"""`digest eval dedup`: cluster a labelled item file and score it against its `story` labels.

The labels are read here and only here, after clustering ran on `Item.from_line` records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from digest.config import ClusterConfig, Config
from digest.errors import InputError
from digest.itemfile import json_lines
from digest.models import Item, brief_json


@dataclass(frozen=True)
class DedupScores:
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    ari: float
    items: int
    gold_stories: int
    predicted_stories: int


def _pairs(labels: Sequence[str]) -> int:
    return sum(c * (c - 1) // 2 for c in Counter(labels).values())


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(gold: Sequence[str], pred: Sequence[str]) -> DedupScores:
    """Pairwise P/R/F1 (a pair = two items put in one story), B-cubed P/R/F1 and adjusted Rand index."""
    if len(gold) != len(pred):
        raise ValueError("gold and predicted labels differ in length")
    n = len(gold)
    joint = Counter(zip(gold, pred, strict=True))
    both = sum(c * (c - 1) // 2 for c in joint.values())
    gold_pairs, pred_pairs = _pairs(gold), _pairs(pred)
    p = both / pred_pairs if pred_pairs else 1.0
    r = both / gold_pairs if gold_pairs else 1.0
    gsize, psize = Counter(gold), Counter(pred)
    # B-cubed: per item, the share of its predicted cluster that is right, and of its gold story found.
    bp = sum(joint[(g, q)] / psize[q] for g, q in zip(gold, pred, strict=True)) / n if n else 1.0
    br = sum(joint[(g, q)] / gsize[g] for g, q in zip(gold, pred, strict=True)) / n if n else 1.0
    total = n * (n - 1) // 2
    expected = gold_pairs * pred_pairs / total if total else 0.0
    max_index = (gold_pairs + pred_pairs) / 2
    ari = (both - expected) / (max_index - expected) if max_index != expected else 1.0
    return DedupScores(
        precision=p,
        recall=r,
        f1=_f1(p, r),
        bcubed_precision=bp,
        bcubed_recall=br,
        bcubed_f1=_f1(bp, br),
        ari=ari,
        items=n,
        gold_stories=len(gsize),
        predicted_stories=len(psize),
    )


def read_labelled(path: str) -> tuple[list[Item], list[str]]:
    """Items (through Item.from_line, blind to labels) and the `story` label of each line.

    A label is a non-empty string or a number: a null, empty or other `story` is no label, and a file without
    any labelled line has nothing to score (not a perfect score).
    """
    items: list[Item] = []
    labels: list[str] = []
    for where, line in json_lines(path):
        if "story" not in line:
            raise InputError(f"{where}: missing key 'story' (not a labelled dedup file)")
        story = line["story"]
        if isinstance(story, int) and not isinstance(story, bool):
            story = str(story)  # "items with the same value": a number is a label too
        if not isinstance(story, str) or not story.strip():
            raise InputError(f"{where}: key 'story': expected a label, got {brief_json(story)}")
        items.append(Item.from_line(line, where))
        labels.append(story)
    if not items:
        raise InputError(f"{path}: no labelled items")
    return items, labels


def format_scores(name: str, s: DedupScores) -> str:
    return (
        f"{name}: pairwise P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} | "
        f"B-cubed P {s.bcubed_precision:.3f} R {s.bcubed_recall:.3f} F1 {s.bcubed_f1:.3f} | "
        f"ARI {s.ari:.3f} | {s.items} items, {s.gold_stories} gold stories, "
        f"{s.predicted_stories} predicted"
    )


def plain_hdbscan(vectors: np.ndarray, min_cluster_size: int = 2) -> list[str]:
    """The baseline of ../shared/eval/README.md: hdbscan on the embeddings, noise as singletons."""
    import hdbscan

    if len(vectors) < 2:
        return [f"n{k}" for k in range(len(vectors))]
    labels = hdbscan.HDBSCAN(min_cluster_size=min_cluster_size).fit_predict(vectors)
    return [f"c{lab}" if lab >= 0 else f"n{k}" for k, lab in enumerate(labels)]


def _predict(items: Sequence[Item], vectors: np.ndarray, cfg: ClusterConfig) -> list[str]:
    from digest.cluster import cluster

    story_of = {key: s.id for s in cluster(items, vectors, cfg) for key in s.item_keys}
    return [story_of[i.key] for i in items]


def evaluate_dedup(path: str, cfg: Config) -> str:
    """Embed, cluster and score a labelled file, beside the plain-hdbscan baseline; returns the report."""
    from digest.embed import embed_items, load_embedder

    items, labels = read_labelled(path)
    vectors = embed_items(items, load_embedder(cfg.embed))
    pred = _predict(items, vectors, cfg.cluster)
    name = Path(path).name
    return "\n".join(
        [
            format_scores(f"{name} digest", score(labels, pred)),
            format_scores(f"{name} plain hdbscan", score(labels, plain_hdbscan(vectors))),
        ]
    )


def sweep_dedup(path: str, cfg: Config, thresholds: Sequence[float]) -> list[tuple[float, DedupScores]]:
    """Scores at each similarity threshold (embedding once): how sensitive the method is to its knob."""
    from digest.embed import embed_items, load_embedder

    items, labels = read_labelled(path)
    vectors = embed_items(items, load_embedder(cfg.embed))
    out = []
    for t in thresholds:
        if t <= 0:
            raise ValueError(f"threshold must be > 0, got {t}")
        pred = _predict(items, vectors, replace(cfg.cluster, similarity=t))
        out.append((t, score(labels, pred)))
    return out


def format_sweep(rows: Sequence[tuple[float, DedupScores]]) -> str:
    return "\n".join(
        f"similarity {t:.3f}: pairwise P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} | "
        f"B-cubed F1 {s.bcubed_f1:.3f} | ARI {s.ari:.3f}"
        for t, s in rows
    )


if __name__ == "__main__":  # pragma: no cover - manual check; the lead wires `digest eval dedup`
    import sys

    if len(sys.argv) > 2:  # python -m digest.eval_dedup FILE 0.2 0.225 0.25 ...: threshold sensitivity
        print(format_sweep(sweep_dedup(sys.argv[1], Config(), [float(x) for x in sys.argv[2:]])))
    else:
        print(evaluate_dedup(sys.argv[1], Config()))
