"""The two-stage path: which items clustering must see with the transformer, and the shortlist re-rank."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from test_embed import tiny_static_model

from digest import twostage
from digest.config import Config, EmbedConfig
from digest.embed import Embedder, load_embedder
from digest.models import Item
from digest.profile import Profile, build_profile
from digest.static_embed import load_static_embedder
from digest.textfmt import truncate
from digest.twostage import merge_candidates, one_stage, rank_two_stage

T0 = datetime(2026, 2, 2, tzinfo=timezone.utc)


def paper(n: int, title: str) -> Item:
    aid = f"2602.{n:05d}"
    return Item(
        key=f"arxiv:{aid}",
        source="arxiv",
        url=f"https://arxiv.org/abs/{aid}",
        title=title,
        text=f"We study {title.lower()}. Results improve on strong baselines.",
        published=T0 + timedelta(hours=n),
        feed="cs.CL",
    )


def post(key: str, title: str, text: str = "", links: tuple[str, ...] = ()) -> Item:
    return Item(
        key=key,
        source="reddit",
        url=f"https://reddit.com/{key}",
        title=title,
        text=text,
        published=T0,
        links=links,
        feed="MachineLearning",
    )


def test_clustering_sees_posts_and_the_papers_they_link_name_or_sit_next_to() -> None:
    items = [
        paper(1, "Kimi K2.5: Visual Agentic Intelligence"),
        paper(2, "A survey of protein folding"),
        paper(3, "Sparse attention for long context"),
        paper(4, "Graph kernels revisited"),
        post("reddit:a", "Kimi K2.5 is out and it is good"),
        post("reddit:b", "Paper discussion", links=("https://arxiv.org/abs/2602.00003v2",)),
        post("reddit:c", "Unrelated question about GPUs"),
    ]
    # Hand-made static vectors (a geometry test): post c sits next to paper 4 only.
    v = np.eye(7, dtype=np.float32)
    v[6, 3] = 2.0
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    need = merge_candidates(items, v)
    assert need.tolist() == [True, False, True, True, True, True, True]
    far = merge_candidates(items, np.eye(7, dtype=np.float32))
    assert far.tolist() == [True, False, True, False, True, True, True]


def test_a_paper_whose_title_opens_with_a_versioned_mark_is_seen_when_a_post_names_it() -> None:
    """A post spells "Phi 4 Reasoning" where the paper says "Phi-4-reasoning Technical Report" (no
    colon, so no name): were the paper left out, the post would join its nearest sibling
    ("Phi-4-Mini-Reasoning: ...") instead."""
    items = [
        paper(1, "Phi-4-reasoning Technical Report"),
        paper(2, "Phi-4-Mini-Reasoning: Small Reasoning Models in Math"),
        paper(3, "Qwen2.5 fine-tuning for legal text"),  # a mark no post names
        paper(4, "4-bit quantization of vision transformers"),  # opens with digits: not a product
        post("reddit:a", "Microsoft just released Phi 4 Reasoning (14b)", "We can run 4-bit quants."),
    ]
    need = merge_candidates(items, np.eye(5, dtype=np.float32))  # no paper is statically near
    assert need.tolist() == [True, False, False, False, True]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Embedder, Embedder]:
    folder = tiny_static_model(tmp_path_factory.mktemp("m2v") / "tiny")
    static = load_static_embedder(EmbedConfig(static_model=str(folder)))
    assert static is not None
    return load_embedder(EmbedConfig()), static


def test_a_shortlist_holding_every_story_reproduces_the_one_stage_ranking(
    models: tuple[Embedder, Embedder], monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder, static = models
    topics = ["agents", "reasoning with RL", "protein folding", "quantization", "robot grasping", "retrieval"]
    items = [paper(k, f"{topics[k % len(topics)]} study number {k}") for k in range(24)]
    cfg = Config()

    def profile_of(e: Embedder) -> Profile:
        return build_profile(cfg.profile, e, [], [], {})

    start, end = T0, T0 + timedelta(days=7)
    one = one_stage(cfg, items, embedder, profile_of, [], start, end)
    wide = dataclasses.replace(cfg, embed=dataclasses.replace(cfg.embed, shortlist=1000))
    two = rank_two_stage(wide, items, embedder, static, profile_of, [], start, end)
    assert [r.story.id for r in two.ranked] == [r.story.id for r in one.ranked]
    narrow = dataclasses.replace(cfg, embed=dataclasses.replace(cfg.embed, shortlist=5))
    monkeypatch.setattr(twostage, "BACKGROUND", 3)
    times: dict[str, float] = {}
    short = rank_two_stage(narrow, items, embedder, static, profile_of, [], start, end, times)
    # Papers alone need no transformer to cluster: 5 shortlisted + 3 background stories were embedded.
    assert short.transformer_items == 8 and len(short.vectors) == 5
    assert len(short.ranked) == len(items)  # the rest follow, so `select` sees the whole week
    assert {r.story.id for r in short.ranked[:5]} == set(short.vectors)
    assert set(times) == {"embed", "cluster", "rank"}


def test_a_paper_alone_is_headed_as_cluster_heads_a_story() -> None:
    """One heading rule for a story, whichever path made it: cut at a word without a dangling comma."""
    title = "Scaling, " * 20  # 180 characters: the cut at 139 falls after "Scaling,"
    alone = [paper(1, title), paper(2, "Short title")]
    stories = twostage._alone_stories(alone, np.zeros((2, 4), dtype=np.float32), Config())
    assert [s.headline for s in stories] == [truncate(title.strip(), 140), "Short title"]
    assert stories[0].headline.endswith("Scaling…") and len(stories[0].headline) <= 140
