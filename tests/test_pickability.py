"""Pickability: liked titles and liked paper records against this week's pool, each with its reason."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rank_helpers import T0, T1, TopicEmbedder, item, story, vectors

from digest.config import Interest, ProfileConfig, RankConfig
from digest.models import Item
from digest.pickability import MIN_LIKED_TITLES, MIN_POOL, MIN_RECORDS, record_scores, title_scores
from digest.profile import build_profile
from digest.rank import rank

LIKED = [
    f"{name}: {what}"
    for name, what in [
        ("AgentBench", "evaluating LLM agents"),
        ("WebAgent", "a web agent that plans"),
        ("ReasonRL", "reasoning with reinforcement learning"),
        ("ToolAgent", "tool use for LLM agents"),
        ("DeepThink", "scaling test-time reasoning"),
        ("MemAgent", "long-term memory for agents"),
        ("R1-Lite", "reinforcement learning for reasoning"),
        ("AgentOS", "an operating system for agents"),
        ("CodeAgent", "software agents that fix bugs"),
        ("SmallR", "tiny reasoning models"),
    ]
]
VISION = [f"Segmentation of {x} images with a convolutional network" for x in range(15)] + [
    f"Depth estimation for {x} scenes" for x in range(10)
]
POOL = [*VISION, "Planning agents for web tasks", "Reasoning agents with reinforcement learning"]


def test_titles_like_the_liked_ones_score_high_and_say_which_words() -> None:
    got = title_scores(LIKED, POOL)
    assert len(got) == len(POOL)
    agents = [got[-2][0], got[-1][0]]
    assert min(agents) > 1.0 > max(z for z, _ in got[: len(VISION)])
    assert got[-1][1].startswith("title words you like: ") and "'agents'" in got[-1][1]
    assert all(reason == "" for _, reason in got[: len(VISION)])


def test_too_few_likes_or_stories_give_zeros_and_no_reasons() -> None:
    assert title_scores(LIKED[: MIN_LIKED_TITLES - 1], POOL) == [(0.0, "")] * len(POOL)
    small = POOL[-(MIN_POOL - 1) :]
    assert title_scores(LIKED, small) == [(0.0, "")] * len(small)
    assert title_scores(LIKED, []) == []


def test_rank_adds_the_title_component_only_with_liked_titles() -> None:
    stories = [story(item(f"rss:{k}", t)) for k, t in enumerate(POOL)]
    likes = [item(f"rss:l{k}", t, day=-k) for k, t in enumerate(LIKED)]
    profile = build_profile(ProfileConfig(), TopicEmbedder(), likes, [], {})
    assert len(profile.title_examples) == len(LIKED)
    ranked = {r.story.id: r for r in rank(stories, vectors(stories), profile, [], RankConfig(), T0, T1)}
    top = ranked[f"rss:{len(POOL) - 1}"]
    assert top.components["title_words"] > 0 > ranked["rss:0"].components["title_words"]
    assert any(r.startswith("title words you like:") for r in top.reasons)
    assert top.score == pytest.approx(sum(top.components.values()), abs=1e-3)
    no_likes = build_profile(ProfileConfig(interests=(Interest("agent"),)), TopicEmbedder(), [], [], {})
    plain = rank(stories, vectors(stories), no_likes, [], RankConfig(), T0, T1)
    assert all("title_words" not in r.components for r in plain)
    assert {r.story.id for r in plain[:2]} == {f"rss:{len(POOL) - 1}", f"rss:{len(POOL) - 2}"}


def _paper(
    key: str, cats: tuple[str, ...], n_authors: int, comment: str = "", title: str = "A study"
) -> Item:
    authors = tuple(f"Author{k} Name" for k in range(n_authors))
    return item(key, title, source="arxiv", categories=cats, authors=authors, comment=comment)


def test_record_model_learns_the_readers_categories_and_cues_from_liked_records() -> None:
    liked = [_paper(f"arxiv:l{k}", ("cs.CL", "cs.AI"), 12, "Work in progress") for k in range(6)]
    pool = [_paper(f"arxiv:v{k}", ("cs.CV",), 3) for k in range(25)] + [
        _paper("arxiv:big", ("cs.CL",), 20, "Technical report"),
        _paper("arxiv:small", ("cs.CL",), 2),
    ]
    post = item("reddit:p", "An agent post", source="reddit")
    got = record_scores(liked, [*pool, post])
    assert got[-3][0] > got[-2][0] > max(z for z, _ in got[:25])
    assert got[-3][1].startswith("like papers you liked: ") and "cs.CL" in got[-3][1]
    assert got[-1] == (0.0, "")  # a post has no paper record to compare
    assert all(z == 0.0 for z, _ in record_scores(liked[: MIN_RECORDS - 1], pool))
    no_record = [replace(i, authors=()) for i in liked]  # a like known only by its title
    assert all(z == 0.0 for z, _ in record_scores(no_record, pool))
    posts = [replace(i, source="reddit") for i in liked]  # a subreddit is no arXiv category
    assert all(z == 0.0 for z, _ in record_scores(posts, pool))
