"""Clustering: verified semantic merges and their constraints (geometry-only vectors).

Link joins are in test_cluster_links.py, the real model in test_cluster_real.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from cluster_helpers import T0, assert_partition, groups, item, orthogonal, unit

from digest.cluster import cluster
from digest.config import ClusterConfig
from digest.models import Item

CFG = ClusterConfig()


# --- semantic merges with geometry-only vectors ------------------------------------------------


def near(base: np.ndarray, k: int, eps: float = 0.05) -> np.ndarray:
    """Geometry-only: k unit vectors within a small angle of `base`."""
    rng = np.random.default_rng(k)
    return unit(base[None, :] + eps * rng.normal(size=(k, base.shape[0])))


def background(n: int, dim: int = 64) -> tuple[list[Item], np.ndarray]:
    words = [
        "kettle",
        "violin",
        "glacier",
        "tulip",
        "harbor",
        "pepper",
        "comet",
        "saddle",
        "lantern",
        "quartz",
    ]
    items = [item(f"bg:{k}", f"{words[k % 10]} notes {k}", "rss", f"bg{k}") for k in range(n)]
    return items, np.eye(n, dim, k=dim - n, dtype=np.float32)


def test_noise_is_a_story_of_its_own_and_every_item_lands_once() -> None:
    items = [item(f"r:{k}", f"unrelated title number {k}", feed=f"sub{k}") for k in range(8)]
    stories = cluster(items, orthogonal(8), CFG)
    assert len(stories) == 8
    assert_partition(items, stories)
    assert all(s.lead is s.items[0] and s.headline == s.lead.title for s in stories)


def test_papers_never_merge_and_one_channel_merges_only_its_duplicates() -> None:
    bg, bgv = background(6)
    title = "Zorblax 3 released with streaming support"
    items = [
        item("arxiv:1", title, "arxiv", "cs.LG"),
        item("arxiv:2", title, "arxiv", "cs.CL"),  # another paper: never one story by similarity
        item("reddit:1", title, feed="LocalLLaMA"),
        item("reddit:2", title, feed="LocalLLaMA"),  # the same news posted twice in one subreddit
        item("reddit:3", title, feed="OpenAI"),  # a crosspost elsewhere
        *bg,
    ]
    vecs = np.vstack([near(np.eye(1, 64, 0)[0], 5), bgv])
    stories = cluster(items, vecs, CFG)
    assert_partition(items, stories)
    story_of = {k: s.id for s in stories for k in s.item_keys}
    assert story_of["arxiv:1"] != story_of["arxiv:2"]
    posts = items[2:5] + bg
    assert frozenset({"reddit:1", "reddit:2", "reddit:3"}) in groups(cluster(posts, vecs[2:], CFG))


def bridge(cos_ab: float) -> np.ndarray:
    """Geometry-only: A and B at cosine `cos_ab`, C halfway between them."""
    angle = np.arccos(cos_ab)
    v = np.zeros((3, 64), dtype=np.float32)
    v[0, 0] = 1.0
    v[1, 0], v[1, 1] = np.cos(angle), np.sin(angle)
    v[2, 0], v[2, 1] = np.cos(angle / 2), np.sin(angle / 2)
    return v


def test_a_group_average_never_carries_in_a_second_post_of_one_channel() -> None:
    """A and B are only loosely alike; C is close to both. Posts of one subreddit (A, B) must be
    close on their own to share a story; from two subreddits, average linkage may join all three."""
    bg, bgv = background(6)
    titles = ["zorblax alpha", "zorblax beta", "zorblax alpha beta"]
    vecs = np.vstack([bridge(0.3), bgv])
    one = [
        item(f"r:{k}", t, feed=f)
        for k, (t, f) in enumerate(zip(titles, ["sub", "sub", "other"], strict=True))
    ]
    story_of = {k: s.id for s in cluster(one + bg, vecs, CFG) for k in s.item_keys}
    assert story_of["r:0"] != story_of["r:1"]
    assert story_of["r:2"] in {story_of["r:0"], story_of["r:1"]}
    two = [
        item(f"r:{k}", t, feed=f)
        for k, (t, f) in enumerate(zip(titles, ["sub", "sub2", "other"], strict=True))
    ]
    assert frozenset({"r:0", "r:1", "r:2"}) in groups(cluster(two + bg, vecs, CFG))


def test_one_channel_threads_sharing_a_versioned_name_merge_without_the_channel_penalty() -> None:
    """Geometry-only, cosine 0.6: two threads of one subreddit on one new model ("Zorblax-9": a
    coherent word with letters and digits) are one story; the same pair naming only "Zorblax" (a
    topic word, no version) keeps the one-channel penalty and stays apart."""
    bg, bgv = background(6)
    vecs = np.vstack([bridge(0.6)[:2], bgv])

    def threads(name: str) -> list[Item]:
        return [
            item("r:1", f"{name} numbers on my old workstation GPU", feed="sub"),
            item("r:2", f"{name} disappointing results for agentic refactors", feed="sub"),
            *bg,
        ]

    assert frozenset({"r:1", "r:2"}) in groups(cluster(threads("Zorblax-9"), vecs, CFG))
    assert frozenset({"r:1", "r:2"}) not in groups(cluster(threads("Zorblax"), vecs, CFG))
    other = [replace(i, feed="sub2") if i.key == "r:2" else i for i in threads("Zorblax")]
    assert frozenset({"r:1", "r:2"}) in groups(cluster(other, vecs, CFG))  # two subreddits: no penalty


def test_strong_overlap_of_rare_words_vouches_without_a_coherent_word() -> None:
    """Geometry-only: cosine 0.3 (no paraphrase, no coherent word), but the titles share their rare
    words; the lexical vouch merges them, and turning it off does not."""
    bg, bgv = background(6)
    items = [
        item("hn:1", "Quorvex malware in the top downloaded skill", "hn"),
        item("r:1", "Top downloaded Quorvex skill ships malware", feed="programming"),
        *bg,
    ]
    vecs = np.vstack([bridge(0.3)[:2], bgv])
    assert frozenset({"hn:1", "r:1"}) in groups(cluster(items, vecs, CFG))
    assert len(cluster(items, vecs, ClusterConfig(lexical_vouch=2.0))) == len(items)


def test_two_shared_rare_names_vouch_but_lower_case_prose_words_do_not() -> None:
    """Geometry-only: cosine 0.45 (no paraphrase; a word two items share is not coherent at that
    cosine) and little word overlap. Two rare names in both headlines vouch for the pair; the same
    two words shared as lower-case prose do not, and one name with a version counts once."""
    bg, bgv = background(6)
    vecs = np.vstack([bridge(0.45)[:2], bgv])
    named = [
        item("r:1", "Lena Dunham calls out sexism in her keynote speech at the festival", feed="a"),
        item("r:2", "Lena Dunham jokes about an old tweet, then quickly regrets posting it", feed="b"),
    ]
    assert frozenset({"r:1", "r:2"}) in groups(cluster(named + bg, vecs, CFG))
    prose = [
        item("r:1", "Astronomers say at a closed door meeting that the funding is frozen", feed="a"),
        item("r:2", "Why a closed door policy at the lab is a mistake, then quickly regrets", feed="b"),
    ]
    assert len(cluster(prose + bg, vecs, CFG)) == len(prose + bg)
    versioned = [
        item("r:1", "Is Sonnet 5 coming this week? What we know about the next model", feed="a"),
        item("r:2", "Opus and Sonnet 5 spotted in a cloud console list, launch could be near", feed="b"),
    ]
    assert len(cluster(versioned + bg, vecs, CFG)) == len(versioned + bg)


def test_names_are_capitalised_or_numbered_headline_words() -> None:
    from digest.cluster_text import _names

    assert _names(item("r:1", "Lena Dunham jokes about an old tweet")) == {"lena", "dunham"}
    assert _names(item("r:1", "Astronomers say at a closed meeting")) == set()
    assert _names(item("r:1", "Trader Isn't So Good With Numbers")) >= {"trader", "good", "number"}
    assert _names(item("x:1", "", text="Voxtral Realtime runs on a laptop. More below.")) == {
        "voxtral",
        "realtime",
    }
    assert _names(item("r:1", "Claude Opus 4.6 is out")) == {"claude", "opus_4.6"}


def test_two_groups_with_disjoint_own_names_stay_apart() -> None:
    """Geometry-only: two companies' earnings, each reported twice; alike across (topic) but each pair
    has its own names, so the groups stay two stories unless the name guard is off."""
    bg, bgv = background(6)
    items = [
        item("rss:1", "Acmeco profit falls on weak sales", "rss", "a"),
        item("rss:2", "Acmeco sees profit fall", "rss", "b"),
        item("rss:3", "Boltworks profit rises on strong sales", "rss", "c"),
        item("rss:4", "Boltworks profit rises", "rss", "d"),
        *bg,
    ]
    base = np.zeros((4, 64), dtype=np.float32)
    base[:2, 0] = 1.0
    base[2:, 0], base[2:, 1] = 0.6, 0.8  # cosine 0.6 across the two groups
    vecs = np.vstack([base + 0.05 * np.eye(4, 64, 2), bgv])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    guarded = groups(cluster(items, vecs, CFG))
    assert frozenset({"rss:1", "rss:2"}) in guarded and frozenset({"rss:3", "rss:4"}) in guarded
    merged = groups(cluster(items, vecs, ClusterConfig(name_guard=False)))
    assert frozenset({"rss:1", "rss:2", "rss:3", "rss:4"}) in merged


def test_spread_lets_two_halves_of_a_loose_story_meet() -> None:
    from digest.cluster_link import average_link

    # Two pairs, each only loosely alike inside (0.3), 0.2 across: as a mean, 0.2 is under tau; relative
    # to how loose each half is (centroid cosine), the halves belong together.
    sim = np.full((4, 4), 0.2)
    sim[:2, :2] = sim[2:, 2:] = 0.3
    np.fill_diagonal(sim, 1.0)
    bad = np.zeros((4, 4), dtype=bool)
    ok = np.ones((4, 4), dtype=bool)
    halves = [[0, 1], [2, 3]]
    assert len(average_link(halves, sim, bad, ok, tau=0.25, floor=0.0, spread=0.0)) == 2
    assert len(average_link(halves, sim, bad, ok, tau=0.25, floor=0.0, spread=1.0)) == 1
    # A single item is never judged by a group's looseness: it needs the plain mean.
    single = [[0, 1], [2]]
    assert len(average_link(single, sim, bad, ok, tau=0.25, floor=0.0, spread=1.0)) == 2


def test_time_and_rumour_penalties_are_gradual_and_directed() -> None:
    from digest.cluster_link import Rules, penalty
    from digest.cluster_text import build_features

    items = [
        item("x:1", "", "x", text="Zorblax 4 spotted in the model list, launch soon", published=T0),
        item("hn:1", "Zorblax 4 released", "hn", published=T0 + timedelta(hours=18)),
        item("hn:2", "Zorblax 4 review", "hn", published=T0 + timedelta(days=3)),
        item("x:2", "", "x", text="so the leaks were right", published=T0 + timedelta(days=1)),
    ]
    feats = build_features(items, orthogonal(4))
    rules = Rules(7.0, 0.7, 0.5, channel_penalty=0.0, day_penalty=0.03, rumour_penalty=0.3)
    a, b = np.array([0, 0, 1, 1]), np.array([1, 2, 2, 3])
    p = penalty(feats, a, b, rules)
    assert p[0] == pytest.approx(0.3)  # the leak came first: rumour, not launch
    assert p[1] == pytest.approx(0.3 + 0.03 * 2)  # plus two days beyond the first
    assert p[2] == pytest.approx(0.03 * (3 - 0.75 - 1))  # no rumour: only the gradual time cost
    assert p[3] == pytest.approx(0.0)  # a "leak" post after the launch is about the launch


def test_items_far_apart_in_time_do_not_merge() -> None:
    bg, bgv = background(6)
    title = "Zorblax 3 released with streaming support"
    items = [
        item("hn:1", title, "hn"),
        item("reddit:1", title, feed="LocalLLaMA", published=T0 + timedelta(days=1)),
        item("reddit:2", title, feed="OpenAI", published=T0 + timedelta(days=12)),
        *bg,
    ]
    vecs = np.vstack([near(np.eye(1, 64, 0)[0], 3), bgv])
    story_of = {k: s.id for s in cluster(items, vecs, CFG) for k in s.item_keys}
    assert story_of["hn:1"] == story_of["reddit:1"] != story_of["reddit:2"]


def test_chaining_guard_keeps_the_ends_of_a_chain_apart() -> None:
    """Geometry-only: A~B, B~C, C~D, but A and D are strangers; average linkage must not chain them."""
    bg, bgv = background(6)
    angles = np.radians([0, 55, 110, 165])
    vecs = np.zeros((4, 64), dtype=np.float32)
    vecs[:, 0], vecs[:, 1] = np.cos(angles), np.sin(angles)
    titles = ["alpha zorblax", "zorblax quibble", "quibble frobnitz", "frobnitz omega"]
    items = [item(f"r:{k}", t, feed=f"sub{k}") for k, t in enumerate(titles)] + bg
    stories = cluster(items, np.vstack([vecs, bgv]), CFG)
    story_of = {k: s.id for s in stories for k in s.item_keys}
    assert story_of["r:0"] != story_of["r:3"]
    assert max(len(s.items) for s in stories) <= 2


def test_an_unvouched_pair_needs_a_paraphrase_level_cosine() -> None:
    """Geometry-only: no shared word at all, so only a cosine >= cfg.paraphrase may merge."""
    bg, bgv = background(6)
    items = [item("hn:1", "aardvark", "hn"), item("r:1", "bassoon", feed="x"), *bg]
    close = near(np.eye(1, 64, 0)[0], 2, eps=0.01)
    far = np.zeros((2, 64), dtype=np.float32)
    far[0, 0], far[1, 0], far[1, 1] = 1.0, 0.6, 0.8  # cosine 0.6
    assert len(cluster(items, np.vstack([close, bgv]), CFG)) == 7
    assert len(cluster(items, np.vstack([far, bgv]), CFG)) == 8


def test_one_channel_launch_threads_join_by_the_group_average_but_not_a_sibling_product() -> None:
    """Geometry-only: A and B only loosely alike (0.3), C close to both. Three threads of one subreddit
    naming one new model ("Zorblax-9") are its launch story, joined by the group's average as threads of
    different subreddits would be; a thread on a sibling product ("Zorblax-9-Coder") is not carried in."""
    bg, bgv = background(6)
    vecs = np.vstack([bridge(0.3), bgv])

    def threads(a: str, b: str) -> list[Item]:
        return [
            item("r:a", f"{a} numbers on my old workstation GPU", feed="sub"),
            item("r:b", f"{b} disappointing results for agentic refactors", feed="sub"),
            item("r:c", "Zorblax-9 is out: weights and release notes", feed="sub"),
            *bg,
        ]

    assert frozenset({"r:a", "r:b", "r:c"}) in groups(cluster(threads("Zorblax-9", "Zorblax-9"), vecs, CFG))
    story_of = {
        k: s.id for s in cluster(threads("Zorblax-9-Coder", "Zorblax-9"), vecs, CFG) for k in s.item_keys
    }
    assert story_of["r:a"] != story_of["r:b"]
    # "Zorblax-9 Coder" spelled with spaces on one side is the same sibling, not a conflict
    assert frozenset({"r:a", "r:b", "r:c"}) in groups(
        cluster(threads("Zorblax-9-Coder", "Zorblax-9 Coder"), vecs, CFG)
    )


def test_a_feeds_recurring_title_on_two_days_is_two_stories() -> None:
    """A newsletter's 'not much happened today' on Monday and Tuesday: same title, same feed, different
    issues. Geometry says identical; the recurring-title cannot-link keeps them apart. Two outlets'
    identical headlines (two feeds) still merge."""
    vecs = np.vstack([np.eye(2, 64)[[0, 0]], np.eye(4, 64, k=60)])
    bg, _ = background(4)

    def entries(second_feed: str) -> list[Item]:
        return [
            item("rss:1", "not much happened today", "rss", "AINews", url="https://news.example/issues/1"),
            item("rss:2", "not much happened today", "rss", second_feed, url="https://news.example/issues/2",
                 published=T0 + timedelta(days=1)),
            *bg,
        ]  # fmt: skip

    assert frozenset({"rss:1", "rss:2"}) not in groups(cluster(entries("AINews"), vecs, CFG))
    assert frozenset({"rss:1", "rss:2"}) in groups(cluster(entries("Other Weekly"), vecs, CFG))


def test_a_long_headline_is_cut_to_fit_without_losing_its_words() -> None:
    words = "Readable words after it " * 3
    long_word = item("rss:a", f"{'A' * 30} {'B' * 300} {words}", source="rss")
    story = cluster([long_word], orthogonal(1), CFG)[0]
    assert len(story.headline) <= 140 and story.headline.startswith("A" * 30 + " BBB")
    prose = item("rss:b", "word " * 60, source="rss")
    cut = cluster([prose], orthogonal(1), CFG)[0].headline
    assert len(cut) <= 140 and cut.endswith("word…")
