"""Link extraction: arXiv ids in every spelling become one canonical abs URL; media and chrome are dropped."""

from __future__ import annotations

from sources.links import arxiv_id, extract_links, html_to_text


def test_arxiv_spellings_share_one_canonical_link() -> None:
    for url in (
        "https://arxiv.org/abs/2504.20879v2",
        "http://arxiv.org/pdf/2504.20879",
        "https://arxiv.org/pdf/2504.20879v1.pdf",
        "https://arxiv.org/html/2504.20879v3",
        "https://www.alphaxiv.org/abs/2504.20879",
        "https://alphaxiv.org/overview/2504.20879",
        "https://huggingface.co/papers/2504.20879",
    ):
        assert arxiv_id(url) == "2504.20879", url
        assert extract_links(url)[0] == "https://arxiv.org/abs/2504.20879"
    assert arxiv_id("https://arxiv.org/abs/cs/0112017v1") == "cs/0112017"
    assert arxiv_id("https://github.com/org/repo") is None


def test_mentions_punctuation_media_and_order() -> None:
    text = (
        "A Cohere paper (arXiv:2504.20879) and the arXiv paper (2504.16940). Code: "
        "https://github.com/ggml-org/llama.cpp/issues/13164, demo (https://demo.example/x). "
        "Pic https://i.redd.it/abc.png by https://www.reddit.com/user/someone and https://github.com/org/repo."
    )
    assert extract_links(text) == (
        "https://github.com/ggml-org/llama.cpp/issues/13164",
        "https://demo.example/x",
        "https://github.com/org/repo",
        "https://arxiv.org/abs/2504.20879",
        "https://arxiv.org/abs/2504.16940",
    )
    html = '<p>See <a href="https://arxiv.org/pdf/2602.00001v2">pdf</a> &amp; https://blog.example/post</p>'
    assert extract_links(html_parts=(html,), exclude=("https://blog.example/post",)) == (
        "https://arxiv.org/abs/2602.00001",
        "https://arxiv.org/pdf/2602.00001v2",
    )


def test_html_to_text_keeps_paragraphs_only_when_asked() -> None:
    html = "<p>One &amp; <b>two</b></p><p>Three</p>"
    assert html_to_text(html) == "One & two Three"
    assert html_to_text(html, paragraphs=True) == "One & two\n\nThree"
