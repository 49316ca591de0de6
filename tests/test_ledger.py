"""The featured ledger in ranking: a repeat is excluded, a material update comes back marked and
linked, a story close to a sent one pays novelty, a liked item is not sent again.

Vectors come from `TopicEmbedder` (a fake, one axis per topic word), as in test_rank.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rank_helpers import CFG, T0, T1, TopicEmbedder, item, rank_stories, story, vectors

from digest.config import Interest, ProfileConfig
from digest.ledger import featured_records, fingerprint
from digest.profile import build_profile
from digest.rank import rank, select

PAPER: dict[str, Any] = {"source": "arxiv", "url": "https://arxiv.org/abs/2506.11093v1", "feed": "cs.CL"}


def test_ledger_excludes_a_repeat_and_a_new_arxiv_version_is_not_an_update() -> None:
    first = story(item("arxiv:2506.11093", "agent paper", **PAPER))
    ledger = featured_records("2026-W05", rank_stories([first]))
    assert ledger[0].keys == ("arxiv:2506.11093", "https://arxiv.org/abs/2506.11093")
    assert ledger[0].fingerprint == fingerprint(first) == "sources=arxiv;domains=arxiv.org"
    v2 = story(
        item(
            "arxiv:2506.11093v2", "agent paper (v2)", **{**PAPER, "url": "https://arxiv.org/abs/2506.11093v2"}
        )
    )
    other = story(item("rss:z", "bread"))
    ranked = rank_stories([v2, other], featured=ledger)
    assert ranked[-1].story.id == v2.id and "already featured in 2026-W05" in ranked[-1].reasons
    assert ranked[-1].update_of is None
    assert [r.story.id for r in select(ranked, CFG)] == ["rss:z"]


def test_material_update_comes_back_marked_with_the_earlier_week() -> None:
    paper = item("arxiv:2506.11093", "agent paper", **PAPER)
    ledger = featured_records("2026-W05", rank_stories([story(paper)]))
    hn = item("hn:7", "Show HN: agent paper", source="hn", url="https://news.ycombinator.com/item?id=7")
    blog = item("rss:lab", "Our agent paper", url="https://lab.example/blog/agent")
    updated = story(replace(paper, published=T0), hn, blog, sid="s-new")
    ranked = rank_stories([updated], featured=ledger)
    assert ranked[0].update_of == "2026-W05"
    assert ranked[0].reasons[0] == "update since 2026-W05: new hn, lab.example, news.ycombinator.com, rss"
    assert "excluded" not in ranked[0].components and select(ranked, CFG)[0].update_of == "2026-W05"


def test_a_later_post_that_links_a_sent_paper_is_its_update_unless_it_is_a_roundup() -> None:
    """A week on, the paper is not in the pool to join; the lab's post links it. A newsletter linking
    many papers is about none of them and stays a story of its own."""
    paper = item("arxiv:2506.11093", "agent paper", **PAPER)
    ledger = featured_records("2026-W05", rank_stories([story(paper)]))
    blog = item("rss:lab", "Weights are out", url="https://github.com/lab/agent",
                links=("https://arxiv.org/abs/2506.11093v2",))  # fmt: skip
    roundup = item("rss:news", "This week in papers", url="https://news.example/42",
                   links=tuple(f"https://arxiv.org/abs/2506.1109{k}" for k in range(2, 8)))  # fmt: skip
    ranked = {r.story.id: r for r in rank_stories([story(blog), story(roundup)], featured=ledger)}
    assert ranked["rss:lab"].update_of == "2026-W05"
    assert ranked["rss:lab"].reasons[0] == "update since 2026-W05: new github.com, rss"
    assert ranked["rss:news"].update_of is None and "excluded" not in ranked["rss:news"].components


def test_a_story_like_one_already_sent_costs_novelty_but_its_own_update_does_not() -> None:
    sent = featured_records("2026-W05", rank_stories([story(item("rss:old", "agent agent launch"))]))
    p = build_profile(
        ProfileConfig(interests=(Interest("agent"),)), TopicEmbedder(), [], [], {}, featured=sent
    )
    again = story(item("rss:new", "agent agent launch, one week on"))
    nearby = story(item("rss:q", "agent quantization"))
    other = story(item("rss:b", "bread"))
    got = {
        r.story.id: r
        for r in rank([again, nearby, other], vectors([again, nearby, other]), p, sent, CFG, T0, T1)
    }
    assert got["rss:new"].components["novelty"] == pytest.approx(-1.0, abs=0.01)
    assert "close to 'agent agent launch', sent 2026-W05 (1.00)" in got["rss:new"].reasons
    assert got["rss:new"].follows == "2026-W05" and got["rss:b"].follows is None  # linked back to
    assert got["rss:new"].components["novelty"] < got["rss:q"].components["novelty"] < 0  # cos 0.71
    assert got["rss:b"].components["novelty"] == 0.0 and not any("sent" in r for r in got["rss:b"].reasons)
    # The sent story back with a new source is an update: its own earlier title is not held against it.
    hn = item("hn:1", "agent agent launch", source="hn", url="https://news.ycombinator.com/item?id=1")
    update = story(item("rss:old", "agent agent launch"), hn, sid="s-up")
    r = rank([update], vectors([update]), p, sent, CFG, T0, T1)[0]
    assert r.update_of == "2026-W05" and r.components["novelty"] == 0.0 and r.follows is None


def test_an_already_liked_item_is_not_sent_again() -> None:
    liked = item("arxiv:2501.00001", "agent paper", source="arxiv", url="https://arxiv.org/abs/2501.00001")
    p = build_profile(ProfileConfig(), TopicEmbedder(), [liked], [], {})
    ranked = rank_stories([story(replace(liked, key="arxiv:2501.00001")), story(item("rss:a", "bread"))], p)
    assert ranked[-1].reasons[-1] == "already liked" and ranked[0].story.id == "rss:a"
