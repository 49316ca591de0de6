"""Clustering a week where posts sit among hundreds of papers (geometry-only vectors).

A batch with papers must judge posts as a batch without them would: what a paper's abstract names
(the model it fine-tuned) is not what the paper is, and a post names a paper only by its whole name.
"""

from __future__ import annotations

import numpy as np
from cluster_helpers import assert_partition, groups, item, unit

from digest.cluster import cluster
from digest.config import ClusterConfig

CFG = ClusterConfig()
DIM = 64


def test_papers_that_use_a_model_do_not_make_its_launch_threads_a_topic() -> None:
    """Three threads (HN and two of one subreddit) on the "Zorblax-9" launch, among 20 unrelated posts
    and 40 papers that fine-tune Zorblax-9 and are all alike (one field). The launch is one story; with
    the papers' abstracts and their likeness counted, "zorblax_9" looked like a topic word and the
    threads split."""
    rng = np.random.default_rng(7)
    threads = [
        item("hn:1", "Zorblax-9", "hn", url="https://zorblax.example/blog/zorblax-9"),
        item("r:1", "Zorblax-9 on a 16 GB card: some numbers", feed="LocalModels"),
        item("r:2", "Zorblax 9 poor performance on my workstation", feed="LocalModels"),
    ]
    papers = [
        item(f"arxiv:2602.{k:05d}", f"Method {k} for structured prediction", "arxiv", "cs.CL",
             url=f"https://arxiv.org/abs/2602.{k:05d}",
             text=f"We fine-tune Zorblax-9 with objective {k} and report gains on benchmarks.")
        for k in range(40)
    ]  # fmt: skip
    posts = [item(f"bg:{k}", f"unrelated note {k}", "rss", f"blog{k}") for k in range(20)]
    t = np.zeros((23, DIM), dtype=np.float32)
    t[0, 0] = 1.0
    t[1, 0], t[1, 1] = 0.6, 0.8
    t[2, 0], t[2, 2] = 0.6, 0.8  # r:1 and r:2 at 0.36: one channel, loosely alike
    t[3:, 40:60] = np.eye(20, dtype=np.float32)
    field = np.zeros(DIM, dtype=np.float32)
    field[10] = 1.0
    p = unit(field[None, :] + 0.3 * rng.normal(size=(40, DIM)) * (np.arange(10, DIM + 10) < 40))
    stories = cluster(threads + posts + papers, np.vstack([t, p]), CFG)
    assert_partition(threads + posts + papers, stories)
    assert frozenset({"hn:1", "r:1", "r:2"}) in groups(stories)
    assert all(len(s.items) == 1 for s in stories if s.lead.source == "arxiv")


def test_a_post_names_a_paper_only_with_every_part_of_its_name() -> None:
    """A thread on vibe coding shares "vibe" with "Vibe AIGC: …" but does not name it; a thread saying
    "Vibe AIGC" does. Same geometry (cosine 0.6) for both pairs."""
    paper = item("arxiv:2602.00001", "Vibe AIGC: A New Paradigm for Content Generation", "arxiv", "cs.AI",
                 url="https://arxiv.org/abs/2602.00001")  # fmt: skip
    v = np.zeros((6, DIM), dtype=np.float32)
    v[0, 0] = 1.0
    v[1, 0], v[1, 1] = 0.6, 0.8
    v[2:, 20:24] = np.eye(4, dtype=np.float32)  # unrelated background

    def week(title: str) -> list:
        bg = [
            item(f"bg:{k}", f"{w} notes", "rss", f"bg{k}")
            for k, w in enumerate(("kettle", "tulip", "comet", "quartz"))
        ]
        return [paper, item("r:1", title, feed="ClaudeAI"), *bg]

    assert frozenset({paper.key, "r:1"}) not in groups(cluster(week('Can we retire "vibe-coding"?'), v, CFG))
    assert frozenset({paper.key, "r:1"}) in groups(
        cluster(week("Vibe AIGC looks like a new paradigm"), v, CFG)
    )
