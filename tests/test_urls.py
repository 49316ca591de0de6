"""canonical_url, arxiv_ids and dois: the join keys of link-based deduplication."""

from __future__ import annotations

import pytest

from digest.urls import arxiv_ids, canonical_url, dois, is_promo_link


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTP://WWW.Example.com/a/b/", "https://example.com/a/b"),
        ("https://example.com/post?utm_source=tw&utm_medium=social&id=3", "https://example.com/post?id=3"),
        ("https://example.com/post?fbclid=abc&ref=hn", "https://example.com/post"),
        ("https://example.com/post#comments", "https://example.com/post"),
        ("https://example.com/p?b=2&a=1", "https://example.com/p?a=1&b=2"),
        (
            "https://m.nytimes.com/2026/02/05/tech/ai.html?smid=tw-share",
            "https://nytimes.com/2026/02/05/tech/ai.html",
        ),
        ("https://www.theverge.com/2026/2/5/opus/amp", "https://theverge.com/2026/2/5/opus"),
        (
            "https://example-com.cdn.ampproject.org/c/s/www.example.com/news/story/amp/",
            "https://example.com/news/story",
        ),
        ("https://twitter.com/user/status/1?s=20", "https://x.com/user/status/1"),
        ("https://youtu.be/abc123?si=xyz", "https://www.youtube.com/watch?v=abc123&feature=share"),
        (
            "https://old.reddit.com/r/LocalLLaMA/comments/abc/x/",
            "https://www.reddit.com/r/LocalLLaMA/comments/abc/x",
        ),
        ("https://arxiv.org/pdf/2506.11093v3.pdf", "http://export.arxiv.org/abs/2506.11093v1"),
        ("https://blog.example.com/index.html", "https://blog.example.com"),
        ("github.com/foo/bar", "https://github.com/foo/bar/"),
        ("https://github.com/QwenLM/Qwen3-Coder/tree/main", "https://github.com/qwenlm/qwen3-coder.git"),
        (
            "https://github.com/QwenLM/Qwen3-Coder/blob/master/README.md",
            "https://github.com/QwenLM/Qwen3-Coder#readme",
        ),
        (
            "https://huggingface.co/Qwen/Qwen3-Coder-Next/tree/main",
            "https://huggingface.co/Qwen/Qwen3-Coder-Next",
        ),
        # A post's id is its identity: user name (any case), mirrors and photo suffixes are decoration.
        ("https://x.com/AnthropicAI/status/19/photo/1", "https://twitter.com/anthropicai/status/19?s=46"),
        ("https://fxtwitter.com/AnthropicAI/status/19", "https://x.com/i/web/status/19"),
        ("https://nitter.net/someone/status/19", "https://x.com/AnthropicAI/status/19"),
        ("https://redd.it/1qws1kc", "https://www.reddit.com/r/ClaudeAI/comments/1qws1kc/introducing_claude/"),
        (
            "https://www.reddit.com/r/claudeai/comments/1qws1kc/",
            "https://old.reddit.com/r/ClaudeAI/comments/1qws1kc/introducing_claude/o3x9k2a/",  # a comment
        ),
        ("https://youtube.com/shorts/dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ?t=42"),
        ("https://www.youtube.com/live/dQw4w9WgXcQ?si=a", "https://www.youtube.com/embed/dQw4w9WgXcQ"),
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL1&index=3",
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
        ),
    ],
)
def test_canonical_url_makes_variants_equal(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/a", "https://example.com/b"),
        ("https://example.com/p?id=1", "https://example.com/p?id=2"),
        ("https://www.youtube.com/watch?v=aaa", "https://www.youtube.com/watch?v=bbb"),
        ("https://news.ycombinator.com/item?id=1", "https://news.ycombinator.com/item?id=2"),
        ("https://a.example.com/x", "https://b.example.com/x"),
        ("https://github.com/foo/bar/pull/1", "https://github.com/foo/bar"),  # a pull request is not the repo
        (
            "https://github.com/foo/bar/blob/main/src/App.py",
            "https://github.com/foo/bar/blob/main/src/app.py",
        ),
        ("https://huggingface.co/Qwen/Qwen3-Coder-Next", "https://huggingface.co/Qwen/Qwen3-Coder-Next-GGUF"),
        ("https://x.com/AnthropicAI/status/19", "https://x.com/AnthropicAI/status/20"),
        ("https://www.reddit.com/r/a/comments/abc1/x/", "https://www.reddit.com/r/a/comments/abc2/x/"),
        ("https://www.youtube.com/playlist?list=PL1", "https://www.youtube.com/playlist?list=PL2"),
    ],
)
def test_canonical_url_keeps_different_pages_apart(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://forum.example.org/viewtopic.php?t=101", "https://forum.example.org/viewtopic.php?t=202"),
        ("https://blog.example.com/?s=llama", "https://blog.example.com/?s=mistral"),  # a WordPress search
    ],
)
def test_one_letter_query_keys_are_identity_on_other_hosts(a: str, b: str) -> None:
    """`t` and `s` are tracking only on the hosts known to use them so (X's share links)."""
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://twitter.com/search?q=llm&src=typed_query&s=20&t=abc", "https://x.com/search?q=llm"),
        ("https://medium.com/@a/post-1a2b?source=rss-abc", "https://medium.com/@a/post-1a2b"),
        # a Medium publication on its own domain: the stored entry keys of older versions depend on it
        (
            "https://towardsthings.example.com/post-4d5e?source=rss----7f60cf5620c9---4",
            "https://towardsthings.example.com/post-4d5e",
        ),
    ],
)
def test_generic_short_query_keys_are_dropped_where_they_are_tracking(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b) != ""


def test_canonical_url_of_non_web_strings_is_empty() -> None:
    assert canonical_url("") == ""
    assert canonical_url("not a url") == ""
    assert canonical_url("mailto:someone@example.com") == ""


@pytest.mark.parametrize(
    "text",
    [
        "https://arxiv.org/abs/2506.11093",
        "https://arxiv.org/abs/2506.11093v3",
        "http://arxiv.org/pdf/2506.11093v2.pdf",
        "https://arxiv.org/html/2506.11093v1",
        "https://www.alphaxiv.org/abs/2506.11093",
        "https://huggingface.co/papers/2506.11093",
        "see arXiv:2506.11093 for details",
        "arxiv 2506.11093v4",
        "https://doi.org/10.48550/arXiv.2506.11093",
    ],
)
def test_arxiv_ids_finds_the_version_free_id_in_every_form(text: str) -> None:
    assert arxiv_ids(text) == {"2506.11093"}


def test_arxiv_ids_old_style_and_several_in_one_text() -> None:
    text = (
        "compare arxiv.org/abs/hep-th/9901001v2 with arXiv:2601.00001 and https://arxiv.org/abs/2601.00002v3"
    )
    assert arxiv_ids(text) == {"hep-th/9901001", "2601.00001", "2601.00002"}


def test_arxiv_ids_ignores_bare_numbers_and_other_sites() -> None:
    assert arxiv_ids("version 2506.11093 of the report") == set()
    assert arxiv_ids("https://example.com/abs/2506.11093") == set()
    assert arxiv_ids("") == set()


def test_dois_are_found_lower_cased_and_trimmed() -> None:
    text = "Paper (doi: 10.1145/3442188.3445922). Also https://doi.org/10.1038/S41586-021-03819-2."
    assert dois(text) == {"10.1145/3442188.3445922", "10.1038/s41586-021-03819-2"}
    assert dois("no doi here, 10.12 is a number") == set()


@pytest.mark.parametrize(
    ("url", "promo"),
    [
        ("https://www.patreon.com/someone", True),
        ("https://x.com/sama", True),
        ("https://x.com/sama/status/123", False),  # a post is content
        ("https://github.com/karpathy", True),
        ("https://github.com/karpathy/nanochat", False),  # a repository is content
        ("https://www.youtube.com/@someone/videos", True),
        ("https://www.youtube.com/watch?v=abc", False),
        ("https://huggingface.co/Qwen", True),
        ("https://huggingface.co/Qwen/Qwen3-Coder-Next", False),
        ("https://www.anthropic.com/news/claude-opus-4-6", False),
        ("https://www.reddit.com/r/LocalLLaMA/", True),  # a subreddit's front page is no story
        ("https://redd.it/1qws1kc", False),
    ],
)
def test_is_promo_link_knows_profiles_and_tip_jars_from_content(url: str, promo: bool) -> None:
    assert is_promo_link(canonical_url(url)) is promo
