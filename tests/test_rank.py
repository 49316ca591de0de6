"""Ranking behaviour: signals, negatives, mutes, diversity and reasons (the ledger: test_ledger.py).

Vectors come from `TopicEmbedder` (a fake, one axis per topic word) because these tests are about
geometry and bookkeeping; `test_rank_file.py` runs the real model on real text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from rank_helpers import CFG, T0, TopicEmbedder, agent_profile, item, rank_stories, story, vectors

from digest.config import Interest, ProfileConfig
from digest.feedback import parse_target
from digest.profile import Feedback, build_profile
from digest.rank import select
from digest.signals import age_factor, coverage, engagement, notability, track_record


def test_engagement_is_a_percentile_within_the_feed_and_unknown_is_neutral() -> None:
    scored = [
        item(f"reddit:{s}", "agent", source="reddit", feed="LocalLLaMA", metrics={"score": s})
        for s in (10, 50, 100, 500, 950)
    ]
    unknown = item("reddit:none", "agent", source="reddit", feed="LocalLLaMA")
    blog = item("rss:b", "agent", source="rss")
    got = engagement([story(i) for i in [*scored, unknown, blog]])
    assert got[4] == (0.9, "r/LocalLLaMA 90th percentile")
    assert got[0][0] == pytest.approx(0.1)
    assert got[5] == (0.5, "") and got[6] == (0.5, "")
    ranked = {r.story.id: r for r in rank_stories([story(i) for i in [*scored, unknown]])}
    assert ranked["reddit:none"].components["engagement"] == 0.0
    assert ranked["reddit:950"].components["engagement"] > 0 > ranked["reddit:10"].components["engagement"]
    assert "r/LocalLLaMA 90th percentile" in ranked["reddit:950"].reasons


def test_small_feed_falls_back_to_the_whole_source() -> None:
    a = item("hn:1", "x", source="hn", feed="HN front", metrics={"points": 100})
    b = item("hn:2", "x", source="hn", feed="Show HN", metrics={"points": 10})
    more = [item(f"hn:{k}", "x", source="hn", feed="Ask HN", metrics={"points": k}) for k in (20, 30, 40)]
    got = engagement([story(x) for x in (a, b, *more)])
    assert got[0] == (0.9, "HN 90th percentile")  # 100 of 100, 40, 30, 20, 10 within all of HN
    lone = engagement([story(a)])
    assert lone == [(0.5, "100 points on HN")]  # nothing to compare with: neutral, the number said


def test_a_new_post_is_judged_for_its_age() -> None:
    # Posts read at the newest post's time: a 300-point post an hour old is not below week-old 500s.
    old = [item(f"hn:{p}", "x", source="hn", feed="HN", metrics={"points": p}) for p in (200, 400, 500, 600)]
    new = item("hn:new", "x", source="hn", feed="HN", metrics={"points": 300}, day=5)
    newest = replace(new, key="hn:last", metrics={"points": 5}, published=new.published + timedelta(hours=1))
    stories = [story(x) for x in [*old, new, newest]]
    got = dict(zip([s.id for s in stories], engagement(stories), strict=True))
    assert got["hn:new"][0] > got["hn:600"][0]  # raw, it would sit below 400, 500 and 600
    assert got["hn:new"][1] == "HN 92nd percentile for its age (300 points while new)"
    assert got["hn:600"][1] == "HN 75th percentile"  # a settled post's reason is unchanged
    # Caps and limits of the projection itself.
    assert age_factor(0.0) == age_factor(0.01) == 4.0
    assert age_factor(2.0) > age_factor(8.0) > age_factor(24.0) > age_factor(96.0) >= 1.0
    assert age_factor(96.0) == pytest.approx(1.0, abs=1e-4)


def test_a_score_is_aged_to_when_the_store_last_read_it() -> None:
    """Monday's run reads the week's newest post 3 hours after it went up. Aged to the newest post
    (age 0), its 300 points would count 4 times over and beat settled posts of 1,000 and 1,100; aged to
    its read time they count about 3.2 times (≈ 960) and stay below. An item read long after the week
    (a replayed world) falls back to the newest-post guess."""
    fetch = T0 + timedelta(days=6, hours=3)
    settled = [
        item(f"hn:{p}", "x", source="hn", feed="HN", metrics={"points": p}, day=2, seen=fetch)
        for p in (50, 60, 70, 80, 1000, 1100)
    ]
    fresh = item("hn:new", "x", source="hn", feed="HN", metrics={"points": 300}, day=6, seen=fetch)
    got = engagement([story(x) for x in (*settled, fresh)])
    assert got[6][0] < got[4][0]  # 300 × 3.2 < 1,000
    assert 300 * age_factor(3.0) < 1000 < 300 * age_factor(0.0)
    months = fetch + timedelta(days=200)
    replayed = [replace(x, seen=months) for x in (*settled, fresh)]
    again = engagement([story(x) for x in replayed])
    assert again[6][0] > again[5][0]  # read months later: aged to the newest post, 1,200 beats 1,100
    unknown = engagement([story(replace(x, seen=None)) for x in (*settled, fresh)])
    assert unknown == again  # an item file has no read time: the same guess


def test_reasons_are_itemised_and_components_sum_to_the_score() -> None:
    s = [
        story(item("rss:a", "agent agent news", day=6)),
        story(item("rss:b", "bread news")),
        story(
            item("rss:c", "agent story", source="hn"),
            item("rss:d", "agent story", url="https://blog.example/x"),
        ),
    ]
    ranked = rank_stories(s)
    assert ranked[0].story.id in ("rss:a", "rss:c") and ranked[-1].story.id == "rss:b"
    for r in ranked:
        assert r.score == pytest.approx(sum(r.components.values()), abs=1e-3)
    assert all(r.summary for r in select(ranked, CFG))  # only what reaches the issue is summarised
    top = next(r for r in ranked if r.story.id == "rss:a")
    assert any(re.fullmatch(r"matches 'agent' 0\.\d\d", x) for x in top.reasons)
    multi = next(r for r in ranked if r.story.id == "rss:c")
    assert "2 sources" in multi.reasons and multi.components["coverage"] > 0


def test_the_interest_a_reason_names_is_the_one_its_number_is_for() -> None:
    """A heavy weight on one interest once made the reason name it beside another interest's cosine."""
    p = build_profile(
        ProfileConfig(interests=(Interest("agent"), Interest("bread", 4.0))), TopicEmbedder(), [], [], {}
    )
    s = [story(item("rss:a", "agent agent agent bread")), story(item("rss:b", "crypto"))]
    top = next(r for r in rank_stories(s, p) if r.story.id == "rss:a")
    vec, (agent, bread) = vectors(s)[0], TopicEmbedder().encode(["agent", "bread"])
    assert float(vec @ agent) > float(vec @ bread)
    assert f"matches 'agent' {float(vec @ agent):.2f}" in top.reasons


def test_select_summarises_within_the_configured_length() -> None:
    body = " ".join(f"Sentence {k} says one more thing about the agent launch." for k in range(20))
    s = [story(item("rss:a", "agent launch", text=body))]
    short, long = (select(rank_stories(s), CFG, summary_chars=n)[0].summary for n in (120, 900))
    assert len(short) <= 120 < 320 < len(long) <= 900 and long.startswith(short)


def test_coverage_counts_a_launchs_threads_not_only_its_sources() -> None:
    """Public Reddit RSS gives no scores: a launch's twenty threads in one subreddit are still the week's
    attention. Posts beyond one per source count by their doubling; a lone post or a paper and its one
    thread get no such credit."""
    threads = [item(f"reddit:{k}", "Zorblax-9 thread", source="reddit", feed="LocalLLaMA") for k in range(16)]
    paper = item("arxiv:1", "Zorblax-9 paper", source="arxiv")
    assert coverage(story(threads[0])) == (0.0, "")
    assert coverage(story(paper, threads[0])) == (0.5, "2 sources")
    assert coverage(story(*threads[:2])) == (0.25, "")  # a repost: no "posts" reason for two
    assert coverage(story(*threads[:3])) == (pytest.approx(0.396, abs=1e-3), "3 posts")
    assert coverage(story(*threads)) == (1.0, "16 posts")
    assert coverage(story(paper, *threads[:3])) == (pytest.approx(0.896, abs=1e-3), "2 sources, 4 posts")


def test_negative_interest_pushes_a_story_down() -> None:
    s = [story(item("rss:a", "agent news")), story(item("rss:b", "agent crypto crypto news"))]
    plain = {r.story.id: r for r in rank_stories(s)}
    crypto = agent_profile(negatives=(Interest("crypto"),))
    neg = {r.story.id: r for r in rank_stories(s, crypto)}
    assert neg["rss:b"].score < plain["rss:b"].score
    assert neg["rss:b"].components["negative"] < 0 and "negative" not in neg["rss:a"].components
    assert any(x.startswith("close to negative 'crypto'") for x in neg["rss:b"].reasons)
    assert [r.story.id for r in rank_stories(s, crypto)] == ["rss:a", "rss:b"]


def test_a_negatives_weight_scales_its_cost_and_the_reason_quotes_the_cosine() -> None:
    s = [story(item("rss:a", "agent news")), story(item("rss:b", "agent crypto crypto news"))]
    vecs = vectors(s)
    twice = {r.story.id: r for r in rank_stories(s, agent_profile(negatives=(Interest("crypto", 2.0),)))}
    once = {r.story.id: r for r in rank_stories(s, agent_profile(negatives=(Interest("crypto"),)))}
    cos = float(vecs[1] @ TopicEmbedder().encode(["crypto"])[0])
    assert twice["rss:b"].components["negative"] == pytest.approx(
        2 * once["rss:b"].components["negative"], 1e-3
    )
    assert f"close to negative 'crypto' {cos:.2f}" in twice["rss:b"].reasons
    # the weight does not lower the floor: a story far from the negative costs nothing, whatever the weight
    assert "negative" not in twice["rss:a"].components


def test_a_disliked_story_stays_out_even_beside_a_like_of_the_same_topic() -> None:
    liked, disliked = item("rss:l", "agent crypto launch"), item("rss:d", "agent crypto launch again")
    fb = [Feedback("like", "rss:l", T0), Feedback("dislike", "rss:d", T0)]
    profile = build_profile(
        ProfileConfig(interests=(Interest("agent"),)),
        TopicEmbedder(),
        [],
        fb,
        {"rss:l": liked, "rss:d": disliked},
    )
    s = [story(disliked), story(item("rss:c", "agent crypto crypto")), story(item("rss:x", "bread"))]
    ranked = {r.story.id: r for r in rank_stories(s, profile)}
    assert "disliked" in ranked["rss:d"].reasons and ranked["rss:d"].score < ranked["rss:x"].score
    assert "excluded" not in ranked["rss:c"].components  # similar stories are lowered, not removed


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"muted_keywords": ("Crypto",)}, "muted keyword 'crypto'"),
        ({"muted_sources": ("hn",)}, "muted source hn"),
        ({"muted_domains": ("spam.example",)}, "muted domain spam.example"),
    ],
)
def test_muted_stories_sink_with_the_reason_and_are_never_selected(kw: dict, reason: str) -> None:
    bad = item("hn:1", "agent agent crypto", source="hn", url="https://www.news.spam.example/a")
    s = [story(bad), story(item("rss:a", "bread"))]
    ranked = rank_stories(s, agent_profile(**kw))
    assert ranked[-1].story.id == "hn:1" and reason in ranked[-1].reasons
    assert ranked[-1].components["excluded"] < 0
    assert [r.story.id for r in select(ranked, CFG)] == ["rss:a"]


def test_a_muted_word_mutes_its_versions_but_not_longer_words() -> None:
    """`digest feedback mute qwen` hides Qwen3-Coder-Next and Qwen2.5-Math (the name with a version),
    not QwenLM or, for a muted "gem", Gemini (more letters: another word)."""
    titles = {
        "rss:v1": "Qwen3-Coder-Next agent",
        "rss:v2": "New Qwen2.5-Math agent",
        "rss:v3": "qwen-3 agent",
        "rss:v4": "the qwen agent",
        "rss:w1": "QwenLM agent",
        "rss:w2": "Gemini agent",
        "rss:w3": "GPT-40 agent",
        "rss:w4": "qwen_3 agent",
    }
    s = [story(item(key, title)) for key, title in titles.items()]
    mutes = [Feedback("mute", parse_target(w), T0) for w in ("Qwen", "gem", "GPT-4")]
    profile = build_profile(ProfileConfig(interests=(Interest("agent"),)), TopicEmbedder(), [], mutes, {})
    reasons = {r.story.id: r.reasons for r in rank_stories(s, profile)}
    muted = {k for k, why in reasons.items() if any(x.startswith("muted") for x in why)}
    assert muted == {"rss:v1", "rss:v2", "rss:v3", "rss:v4"}
    assert all("muted keyword 'qwen'" in reasons[k] for k in muted)


def test_caps_keep_one_source_from_filling_the_list_until_nothing_else_is_left() -> None:
    reddit = [
        story(item(f"reddit:{k}", f"agent agent {k}", source="reddit", feed=f"sub{k % 2}")) for k in range(6)
    ]
    rss = [story(item(f"rss:{k}", f"bread {k}")) for k in range(3)]
    ranked = rank_stories(reddit + rss)
    assert all(r.story.lead.source == "reddit" for r in ranked[:6])  # reddit is more relevant
    cfg = replace(CFG, top_n=4, max_per_source=2, max_per_feed=1)
    picked = select(ranked, cfg)
    assert [r.story.lead.source for r in picked] == ["reddit", "reddit", "rss", "rss"]
    assert len({r.story.lead.feed for r in picked if r.story.lead.source == "reddit"}) == 2
    only_reddit = select(rank_stories(reddit), replace(cfg, top_n=4))
    assert len(only_reddit) == 4  # caps yield when nothing else is left


def test_mmr_diversity_lets_a_different_topic_in() -> None:
    same = [story(item(f"rss:a{k}", "agent agent agent", day=k)) for k in range(3)]
    other = story(item("rss:s", "agent safety safety"))
    ranked = rank_stories([*same, other])
    assert ranked[-1].story.id == "rss:s"
    vecs = dict(zip([s.id for s in [*same, other]], vectors([*same, other]), strict=True))
    assert select(ranked, replace(CFG, top_n=2, diversity=0.0), vecs)[1].story.id != "rss:s"
    assert select(ranked, replace(CFG, top_n=2, diversity=0.7), vecs)[1].story.id == "rss:s"
    # without vectors, word overlap of headlines stands in
    assert select(ranked, replace(CFG, top_n=2, diversity=0.7))[1].story.id == "rss:s"


def test_notability_reads_the_paper_record() -> None:
    p = item(
        "arxiv:1",
        "Tina: Tiny Reasoning Models",
        source="arxiv",
        text="We fine-tune Qwen2.5. Code: github.com/x/y",
        authors=tuple(f"A{k} B" for k in range(16)),
        comment="Technical report, 40 pages",
    )
    value, reasons = notability(p)
    assert reasons == [
        "large team (16 authors)",
        "'technical report': a fresh release",
        "40 pages",
        "named system 'Tina'",
        "works with Qwen2.5",
        "code or project page",
    ]
    plain_value, _ = notability(
        replace(p, authors=("A B",), comment="Accepted at ACL 2025", title="On things", text="A study.")
    )
    assert value > 2 > 0 > plain_value
    # A model named with a finer version is never reported by a shorter one ("Qwen2" for Qwen2.5-Math).
    for text, named in [("on Qwen2.5-Math-7B we gain", None), ("with Llama 3.1 and", "Llama 3.1")]:
        _, why = notability(replace(p, text=text))
        assert [r for r in why if r.startswith("works with")] == ([f"works with {named}"] if named else [])
    # A title's catchphrase counts as a name but is not reported as a system.
    for title, reason in [
        ("BitNet v2: 4-bit activations", "named system 'BitNet v2'"),
        ("Video SimpleQA: factuality", "named system 'Video SimpleQA'"),
        ("Beyond Words: a benchmark", "named 'Beyond Words'"),
        ("Taming the Titans: a survey", "named 'Taming the Titans'"),
        ("Humanizing LLMs: a survey", "named 'Humanizing LLMs'"),
    ]:
        named_value, why = notability(replace(p, title=title))
        assert reason in why and named_value == value


def test_track_record_counts_liked_papers_of_the_same_author() -> None:
    p = item("arxiv:1", "x", source="arxiv", authors=("Ada Lovelace", "Alan Turing"))
    assert track_record(p, {"ada lovelace": 2, "alan turing": 1}) == (
        1.0,
        "by Ada Lovelace: 2 liked papers (and 1 more liked author)",
    )
    assert track_record(p, {"grace hopper": 3}) == (0.0, "")


def test_a_sources_best_story_competes_with_many_stronger_scored_papers() -> None:
    # Papers earn record signals a post cannot, so raw scores favour them; the week's best HN story
    # must still reach the list once the paper cap is hit, ahead of the 7th-best paper.
    papers = [
        story(item(f"arxiv:{k}", f"Agent{k}: agent agent agent", source="arxiv", authors=tuple("abcdefghij")))
        for k in range(60)
    ]
    post = story(item("hn:1", "quantization agent release", source="hn", metrics={"points": 300}))
    ranked = rank_stories([*papers, post])
    assert ranked.index(next(r for r in ranked if r.story.id == "hn:1")) >= 50  # beyond the global top 50
    picked = select(ranked, replace(CFG, top_n=7, max_per_source=6))
    assert [r.story.lead.source for r in picked].count("hn") == 1
    assert len(picked) == 7


def test_only_papers_have_a_record_to_read() -> None:
    post = item("hn:2", "Show HN: Tina, tiny reasoning models", source="hn", authors=tuple("abcdefghij"))
    assert notability(post) == (0.0, [])


def test_a_story_several_sources_carry_is_not_held_back_by_its_leads_feed_cap() -> None:
    hn = [story(item(f"hn:{k}", f"agent agent {k}", source="hn", feed="Hacker News")) for k in range(3)]
    launch = story(
        item("hn:9", "bread launch", source="hn", feed="Hacker News"),
        item("reddit:9", "bread launch", source="reddit", feed="LocalLLaMA"),
    )
    post = story(item("reddit:1", "bread post", source="reddit", feed="LocalLLaMA"))
    ranked = rank_stories([*hn, launch, post])
    order = [r.story.id for r in ranked]
    assert order.index("hn:9") > max(order.index(f"hn:{k}") for k in range(3))  # the launch scores lowest
    picked = [r.story.id for r in select(ranked, replace(CFG, top_n=4, max_per_feed=2, diversity=0.0))]
    # two single-feed HN stories fill the HN feed's cap; the launch, carried by Reddit too, still gets in
    # ahead of the third single-feed HN story, which the cap holds back
    assert launch.id in picked and "hn:2" not in picked


def test_similarities_are_compared_within_a_source_of_twenty_or_more() -> None:
    from digest.signals import zscore, zscore_by_source

    papers = [story(item(f"arxiv:{k}", "p", source="arxiv")) for k in range(20)]
    posts = [story(item(f"hn:{k}", "h", source="hn")) for k in range(20)]
    # papers' long texts sit around cosine 0.6, bare titles around 0.2: the best title is still the best
    x = np.array([0.6 + 0.01 * k for k in range(20)] + [0.2 + 0.01 * k for k in range(20)])
    z = zscore_by_source(x, papers + posts)
    assert z[39] == pytest.approx(z[19]) and z[39] > 1.5
    few = zscore_by_source(x[:25], papers + posts[:5])  # 5 posts: too few to stand on their own
    assert few[24] < 0
    # A launch of fourteen threads that one newsletter issue joined and leads: its vector is the threads'
    # mean, so it is judged as the threads are, not against the papers (the newsletter has too few issues).
    threads = [item(f"hn:l{k}", "launch", source="hn") for k in range(14)]
    launch = story(item("rss:news:1", "issue", source="rss"), *threads)
    mixed = zscore_by_source(np.append(x, 0.39), [*papers, *posts, launch])
    assert mixed[40] == pytest.approx(14 / 15 * z[39] + 1 / 15 * zscore(np.append(x, 0.39))[40])
    assert mixed[40] > 1.0 > zscore(np.append(x, 0.39))[40]


def test_the_issue_opens_with_what_several_sources_carry_then_keeps_mmr_order() -> None:
    """A paper's record cues (a named system, a big team, a technical report) outscore a launch's
    coverage; the launch that HN and Reddit both carry still opens the issue, the rest keep their order."""
    authors = tuple(f"A{k}" for k in range(12))
    papers = [
        story(item(f"arxiv:{k}", f"Agentron{k}: agent paper", source="arxiv", day=k % 5, authors=authors,
                   comment="Technical report"))
        for k in range(4)
    ]  # fmt: skip
    launch = story(
        item("hn:1", "agent launch", source="hn", url="https://lab.example/launch"),
        item("reddit:1", "agent launch thread", source="reddit", url="https://reddit.example/1"),
    )
    ranked = rank_stories([*papers, launch])
    assert ranked[-1].story.id == launch.id  # by score alone it comes last
    picked = select(ranked, replace(CFG, top_n=5, diversity=0.0))
    assert picked[0].story.id == launch.id and picked[0].components["coverage"] >= 0.5
    assert [r.story.id for r in picked[1:]] == [r.story.id for r in ranked[:-1]]
