"""Mutes and dislikes across weeks: what the reader silenced stays silent when it comes back as an
update, a muted source is named as the reader names it, and muting a newsletter drops its entries, not
the launch it covered.

Ranking vectors come from `TopicEmbedder` (a fake, one axis per topic word, as in test_rank.py: these
tests are about which stories are left out and why, and need exact geometry); the build test at the end
runs the real model on a real SQLite store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rank_helpers import CFG, T0, TopicEmbedder, agent_profile, item, rank_stories, story

from digest.config import Interest, ProfileConfig
from digest.ledger import featured_records
from digest.profile import Feedback, build_profile
from digest.rank import select

PAPER: dict[str, Any] = {"source": "arxiv", "url": "https://arxiv.org/abs/2504.16074v1", "feed": "cs.CL"}


def _judged(kind: str, target: Any) -> Any:
    return build_profile(
        ProfileConfig(interests=(Interest("agent"),)),
        TopicEmbedder(),
        [],
        [Feedback(kind, target.key, T0)],
        {target.key: target},
    )


def test_a_disliked_or_muted_paper_stays_out_when_a_later_post_about_it_is_an_update() -> None:
    """A week on, a blog post linking the paper is the paper's update: it must not bring back what the
    reader disliked or muted (it came back marked "Update" before the dislike and mute were checked)."""
    paper = item("arxiv:2504.16074", "agent benchmark", **PAPER)
    ledger = featured_records("2025-W17", rank_stories([story(paper)]))
    post = item("rss:take", "Our take on the agent benchmark", url="https://qalab.example.com/take",
                links=("https://arxiv.org/abs/2504.16074v2",))  # fmt: skip
    other = item("rss:b", "agent bread")
    for kind, reason in (("dislike", "disliked"), ("mute", "muted story")):
        ranked = {
            r.story.id: r for r in rank_stories([story(post), story(other)], _judged(kind, paper), ledger)
        }
        assert reason in ranked["rss:take"].reasons and ranked["rss:take"].update_of is None
        assert [r.story.id for r in select(list(ranked.values()), CFG)] == ["rss:b"]
    # without the judgement it is the paper's update, as before
    ranked = {r.story.id: r for r in rank_stories([story(post)], featured=ledger)}
    assert ranked["rss:take"].update_of == "2025-W17"


def test_a_post_in_another_papers_story_is_not_news_of_the_sent_paper_it_also_links() -> None:
    """A post linking the new paper and an older, sent one joins the new paper's story; that story was
    never featured, so it is not "update since" the older paper's week, nor left out as a repeat."""
    old = item("arxiv:2504.16074", "agent distillation", **PAPER)
    ledger = featured_records("2025-W17", rank_stories([story(old)]))
    new = item("arxiv:2504.21801", "agent prover", **{**PAPER, "url": "https://arxiv.org/abs/2504.21801"})
    post = item("reddit:p", "agent prover is out", source="reddit",
                links=("https://arxiv.org/abs/2504.21801", "https://arxiv.org/abs/2504.16074"))  # fmt: skip
    (ranked,) = rank_stories([story(new, post, sid="s-prover")], featured=ledger)
    assert ranked.update_of is None and "excluded" not in ranked.components
    assert not any("2025-W17" in r for r in ranked.reasons)


def test_a_muted_source_is_a_kind_a_subreddit_or_a_feed_as_the_reader_writes_it() -> None:
    sd = item("reddit:1", "agent art", source="reddit", feed="StableDiffusion")
    news = item("rss:AINews:1", "agent news", feed="AINews")
    keep = item("reddit:2", "agent bread", source="reddit", feed="LocalLLaMA")
    stories = [story(sd), story(news), story(keep)]
    for muted in (("r/StableDiffusion", "ainews"), ("stablediffusion", "AINews")):
        ranked = {r.story.id: r for r in rank_stories(stories, agent_profile(muted_sources=muted))}
        assert "muted source r/StableDiffusion" in ranked["reddit:1"].reasons
        assert "muted source AINews" in ranked["rss:AINews:1"].reasons
        assert "excluded" not in ranked["reddit:2"].components


def test_a_muted_feed_silences_its_entries_not_a_story_that_others_carry() -> None:
    """Muting one entry mutes its feed (README): the feed's other entries go, a story of the feed's entry
    and a Reddit thread stays (the build drops the entry from it: last test)."""
    muted = item("rss:AINews:0", "agent essay", feed="AINews")
    news = item("rss:AINews:1", "agent launch roundup", feed="AINews")
    thread = item("reddit:q", "agent launch", source="reddit", feed="LocalLLaMA")
    other = item("rss:AINews:2", "agent opinion", feed="AINews")
    stories = [story(news, thread, sid="s-launch"), story(other)]
    ranked = {r.story.id: r for r in rank_stories(stories, _judged("mute", muted))}
    assert "muted feed AINews" in ranked["rss:AINews:2"].reasons
    assert "excluded" not in ranked["s-launch"].components


def test_muting_a_blog_post_mutes_its_feed_not_a_subreddit_of_the_same_name() -> None:
    blog = item("rss:OpenAI:1", "agent launch post", feed="OpenAI")
    other = item("rss:OpenAI:2", "agent news", feed="OpenAI")
    thread = item("reddit:o", "agent question", source="reddit", feed="OpenAI")
    ranked = {r.story.id: r for r in rank_stories([story(other), story(thread)], _judged("mute", blog))}
    assert "muted feed OpenAI" in ranked["rss:OpenAI:2"].reasons
    assert "excluded" not in ranked["reddit:o"].components


def test_a_later_post_about_a_liked_paper_is_not_left_out_as_already_liked() -> None:
    paper = item(
        "arxiv:2504.13837", "agent reasoning", **{**PAPER, "url": "https://arxiv.org/abs/2504.13837"}
    )
    liked = build_profile(ProfileConfig(interests=(Interest("agent"),)), TopicEmbedder(), [paper], [], {})
    post = item("rss:code", "Code release: agent reasoning", url="https://lab.example/code",
                links=("https://arxiv.org/abs/2504.13837",))  # fmt: skip
    ranked = {r.story.id: r for r in rank_stories([story(paper), story(post)], liked)}
    assert "already liked" in ranked["arxiv:2504.13837"].reasons
    assert "excluded" not in ranked["rss:code"].components


def test_a_dislike_close_to_a_story_is_named_in_its_reason() -> None:
    disliked = item("rss:d", "crypto crypto agent")
    ranked = {
        r.story.id: r
        for r in rank_stories([story(item("rss:c", "crypto agent"))], _judged("dislike", disliked))
    }
    assert any(r.startswith("close to disliked 'crypto crypto agent' ") for r in ranked["rss:c"].reasons)


def test_the_weeks_build_leaves_out_a_muted_feeds_entries_and_keeps_the_story_they_joined(
    tmp_path: Path,
) -> None:
    """Muting a newsletter by one of its entries: next build, the launch its entry and a Reddit thread
    both covered is still in the issue, headed by the thread, with no link to the newsletter."""
    from datetime import timedelta

    from digest.config import load_config
    from digest.models import Item
    from digest.pipeline import build
    from digest.store import SQLiteStore

    (tmp_path / "d.toml").write_text(
        '[store]\npath = "d.db"\n[archive]\npath = "archive"\n'
        '[profile]\ninterests = ["open-weight language model releases"]\n'
    )
    cfg = load_config(tmp_path / "d.toml")
    thread_url = "https://www.reddit.com/r/LocalLLaMA/comments/1k9qxbl/qwen3_is_out/"
    day = T0 + timedelta(days=1)
    items = [
        Item(key="reddit:1k9qxbl", source="reddit", feed="LocalLLaMA", url=thread_url, published=day,
             title="Qwen3 open-weight models are out", text="Qwen3 weights released under Apache 2.0."),
        Item(key="rss:AINews:q3", source="rss", feed="AINews", url="https://news.example/issues/q3",
             published=day, title="Qwen 3 launches", text="Qwen 3 is out, see the thread.",
             links=(thread_url,)),
        Item(key="rss:AINews:e", source="rss", feed="AINews", url="https://news.example/issues/e",
             published=day, title="Not much happened today", text="A quiet day in AI."),
    ]  # fmt: skip
    store = SQLiteStore(tmp_path / "d.db")
    try:
        store.upsert_items(items)
        before = build(cfg, store, "2026-W06").issue
        store.add_feedback("mute", "rss:AINews:e")
        after = build(cfg, store, "2026-W06").issue
        # "Mute this" on the story the newsletter's entry heads: that story goes, whole
        store.add_feedback("mute", "rss:AINews:q3")
        muted = build(cfg, store, "2026-W06").issue
    finally:
        store.close()
    (joined,) = [s for s in before.stories if "reddit:1k9qxbl" in s.story.item_keys]
    assert "rss:AINews:q3" in joined.story.item_keys  # one story before the mute
    keys = {k for s in after.stories for k in s.story.item_keys}
    assert keys == {"reddit:1k9qxbl"}
    assert not any("reddit:1k9qxbl" in s.story.item_keys for s in muted.stories)
