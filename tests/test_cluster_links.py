"""Clustering's deterministic joins: canonical URLs, arXiv ids, DOIs and links between items.

Vectors are orthogonal on purpose: only links can join.
"""

from __future__ import annotations

from cluster_helpers import groups, item, orthogonal

from digest.cluster import cluster
from digest.config import ClusterConfig

CFG = ClusterConfig()


def test_same_canonical_url_and_links_join_without_any_similarity() -> None:
    items = [
        item(
            "hn:1",
            "Claude Opus 4.6",
            "hn",
            url="https://www.anthropic.com/news/claude-opus-4-6?utm_source=hn",
        ),
        item(
            "rss:1", "Introducing Opus", "rss", "Anthropic", url="https://anthropic.com/news/claude-opus-4-6/"
        ),
        item("x:1", "", "x", text="wow", links=("https://anthropic.com/news/claude-opus-4-6#top",)),
        item("hn:2", "Something else", "hn", url="https://example.com/other"),
    ]
    stories = cluster(items, orthogonal(4), CFG)
    assert groups(stories) == {frozenset({"hn:1", "rss:1", "x:1"}), frozenset({"hn:2"})}


def test_links_to_one_post_join_however_the_post_is_spelled() -> None:
    """An X post, a Reddit thread and a video, each linked under another spelling than its own URL."""
    items = [
        item("x:19", "", "x", "AnthropicAI", text="Opus 4.6 is here", url="https://x.com/AnthropicAI/status/19"),
        item("x:20", "", "x", "someone", text="huge", links=("https://fxtwitter.com/anthropicai/status/19/photo/1",)),
        item("reddit:1qws1kc", "Introducing Claude Opus 4.6", feed="ClaudeAI",
             url="https://www.reddit.com/r/ClaudeAI/comments/1qws1kc/introducing_claude_opus_46/"),
        item("hn:1", "Discussion", "hn", url="https://redd.it/1qws1kc"),
        item("yt:1", "Opus 4.6 tested", "youtube", "creator", url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        item("x:21", "", "x", "fan", text="watch", links=("https://youtube.com/shorts/dQw4w9WgXcQ?si=a",)),
    ]  # fmt: skip
    stories = cluster(items, orthogonal(6), CFG)
    assert groups(stories) == {
        frozenset({"x:19", "x:20"}),
        frozenset({"reddit:1qws1kc", "hn:1"}),
        frozenset({"yt:1", "x:21"}),
    }


def test_arxiv_id_and_doi_in_any_form_join() -> None:
    items = [
        item("arxiv:2602.01234", "A paper", "arxiv", "cs.LG", url="https://arxiv.org/abs/2602.01234v1"),
        item("reddit:1", "[R] a thread", feed="MachineLearning", text="pdf: arxiv.org/pdf/2602.01234v2.pdf"),
        item("hn:1", "HF page", "hn", url="https://huggingface.co/papers/2602.01234"),
        item("rss:1", "Journal version", "rss", "Nature", url="https://doi.org/10.1038/s41586-026-00001-x"),
        item("x:1", "", "x", text="Now out in Nature: doi:10.1038/S41586-026-00001-X"),
    ]
    stories = cluster(items, orthogonal(5), CFG)
    assert groups(stories) == {
        frozenset({"arxiv:2602.01234", "reddit:1", "hn:1"}),
        frozenset({"rss:1", "x:1"}),
    }


def test_a_paper_citing_another_paper_is_not_joined_to_it() -> None:
    items = [
        item("arxiv:2602.01234", "A", "arxiv", "cs.LG", url="https://arxiv.org/abs/2602.01234"),
        item("arxiv:2602.05555", "B", "arxiv", "cs.CL", text="We build on arXiv:2602.01234."),
    ]
    assert len(cluster(items, orthogonal(2), CFG)) == 2


def test_a_roundup_linking_many_things_joins_none_of_them() -> None:
    links = tuple(f"https://site{k}.example.com/post" for k in range(5))
    items = [item("x:1", "", "x", text="reading list", links=links)]
    items += [item(f"rss:{k}", f"post {k}", "rss", f"site{k}", url=links[k]) for k in range(5)]
    stories = cluster(items, orthogonal(6), CFG)
    assert len(stories) == 6


def test_a_video_description_full_of_creator_links_still_joins_the_page_it_covers() -> None:
    """A YouTube description links the launch post once, then the creator's Patreon, X profile,
    Discord and channel: those are no stories, so the video is no roundup and joins the launch."""
    promo = (
        "Sources: https://www.anthropic.com/news/claude-opus-4-6\n"
        "Support: https://www.patreon.com/someone  Follow: https://x.com/someone  "
        "Chat: https://discord.gg/abcdef  More: https://www.youtube.com/@someone"
    )
    items = [
        item("yt:1", "This changes everything", "youtube", "someone", text=promo),
        item(
            "rss:1",
            "Introducing our newest model",
            "rss",
            "Anthropic",
            url="https://anthropic.com/news/claude-opus-4-6",
        ),
        item(
            "x:2",
            "",
            "x",
            text="my week: https://a.example.com/1 https://b.example.com/2 "
            "https://c.example.com/3 https://anthropic.com/news/claude-opus-4-6",
        ),
    ]
    assert groups(cluster(items, orthogonal(3), CFG)) == {frozenset({"yt:1", "rss:1"}), frozenset({"x:2"})}
