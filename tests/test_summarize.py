"""Extractive summaries: plain text out of HTML/markdown, whole lead sentences, never over the bound."""

from __future__ import annotations

from datetime import datetime, timezone

from digest.models import Item, Story
from digest.summarize import boilerplate, plain_text, summarize, summarize_story

T0 = datetime(2026, 2, 2, tzinfo=timezone.utc)


def _item(title: str, text: str, key: str = "k", source: str = "rss", url: str = "") -> Item:
    return Item(key=key, source=source, url=url, title=title, text=text, published=T0)


def test_html_and_markdown_are_stripped() -> None:
    text = (
        "<p>We <b>release</b> a model &amp; its <a href='https://x.org'>weights</a>.</p>"
        "<script>alert(1)</script>## Results\n- **Fast**: see [the post](https://blog.example/p) and `code`."
    )
    out = plain_text(text)
    assert out == "We release a model & its weights. Results Fast: see the post and code."
    assert "<" not in out and "*" not in out and "](" not in out and "alert" not in out


def test_summary_keeps_whole_lead_sentences_within_bound() -> None:
    body = "First sentence is short. Second sentence adds detail. " + "Third one is very long " * 20 + "."
    s = summarize(_item("Title", body), max_chars=60)
    assert s == "First sentence is short. Second sentence adds detail."
    assert len(s) <= 60


def test_one_long_sentence_is_cut_at_a_word_with_ellipsis() -> None:
    body = "word " * 200
    s = summarize(_item("T", body), max_chars=100)
    assert len(s) <= 100 and s.endswith("…") and not s[:-1].endswith(" ")


def test_title_repeated_at_the_head_of_the_body_is_skipped_and_title_stands_in_for_no_body() -> None:
    assert summarize(_item("REPLUG", "**REPLUG** - a retrieval-augmented LM.")) == "a retrieval-augmented LM."
    assert summarize(_item("Only a title", "")) == "Only a title"


def test_an_articles_opening_question_is_its_hook_not_its_summary() -> None:
    body = "Qwen + Inference Engine are all you need?\n\nAfter a delay, Qwen 3 is finally released."
    assert summarize(_item("Qwen 3", body)) == "After a delay, Qwen 3 is finally released."
    asked = "Has anyone run Qwen 3 on a laptop? Mine stalls at 2 tokens per second."
    assert summarize(_item("Qwen 3 on a laptop", asked, source="reddit")).startswith("Has anyone")
    assert summarize(_item("Why?", "Why do models hallucinate?")) == "Why do models hallucinate?"


def test_abbreviations_do_not_end_a_sentence() -> None:
    s = summarize(_item("T", "Models, e.g. GPT, are big. Another sentence here."), max_chars=30)
    assert s == "Models, e.g. GPT, are big."


def test_a_bare_lead_borrows_the_summary_of_a_member_with_a_body() -> None:
    hn = _item("Claude Opus 4.6", "", key="hn:1", source="hn")
    post = _item(
        "Introducing Claude Opus 4.6",
        "Our smartest model got an upgrade. It plans more carefully.",
        key="reddit:1",
        source="reddit",
        url="https://www.reddit.com/r/ClaudeAI/comments/1/",
    )
    launch = Story(id="s", items=(hn, post), lead=hn, headline=hn.title)
    assert summarize_story(launch) == "Our smartest model got an upgrade. It plans more carefully."
    paper = _item("P", "The paper's abstract.", key="arxiv:1", source="arxiv")
    with_paper = Story(id="p", items=(post, paper), lead=paper, headline="P")
    assert summarize_story(with_paper) == "The paper's abstract."  # a lead with a body keeps its own
    alone = Story(id="a", items=(hn,), lead=hn, headline=hn.title)
    assert summarize_story(alone) == "Claude Opus 4.6"  # nothing to borrow: the title stands in


def test_a_reaction_thread_does_not_lend_its_body_to_a_bare_launch_link() -> None:
    hn = _item("Qwen3-Coder-Next", "", key="hn:2", source="hn")
    numbers = _item(
        "Qwen3-Coder-Next on RTX 5060 Ti 16 GB - Some numbers",
        "About 2 weeks ago I posted about another model here www.reddit.com/r/LocalLLaMA/comments/1/.",
        key="reddit:2",
        source="reddit",
        url="https://www.reddit.com/r/LocalLLaMA/comments/2/",
    )
    release = _item(
        "",
        "Qwen3-Coder-Next is out. An 80B MoE with 3B active parameters for coding agents.",
        key="x:1",
        source="x",
    )
    poor = _item(
        "Qwen3 Coder Next poor performance on r9700s",
        "With ROCm 7.2 backend PP512 is only 53.",
        key="reddit:3",
        source="reddit",
    )  # half its words are the headline's
    reactions = Story(id="q", items=(hn, numbers, poor), lead=hn, headline=hn.title)
    assert summarize_story(reactions) == hn.title
    both = Story(id="q", items=(hn, numbers, release), lead=hn, headline=hn.title)
    assert summarize_story(both) == release.text  # the announcement, in its own words, lends its body
    assert "www." not in summarize(numbers)  # a link without a scheme is still a link


def test_angle_brackets_that_are_not_html_stay() -> None:
    body = "Use std::vector<int> or List<T>, not <b>raw</b> arrays.<!-- note --> Map<K, V> works<br/>too."
    assert plain_text(body) == "Use std::vector<int> or List<T>, not raw arrays. Map<K, V> works too."
    html = '<a href="https://x.org">link</a> <IMG SRC=x onerror=alert(1)><svg/onload=alert(1)>ok'
    assert plain_text(html) == "link ok"


def _issue(k: int, lead: str, extra: str = "") -> Item:
    return Item(
        key=f"rss:ainews:{k}",
        source="rss",
        url=f"https://news.example.com/{k}",
        title=f"Issue {k}",
        text=(
            f"{lead} AI News for 4/{20 + k}/2025-4/{21 + k}/2025. We checked 9 subreddits, {440 + k} "
            f"Twitters and 29 Discords ({210 + k} channels, and {5000 + 97 * k} messages) for you. {extra}"
        ),
        published=T0,
        feed="AINews",
    )


def test_a_feeds_boilerplate_sentences_never_make_a_summary() -> None:
    site = "Our new website is now up with full {} search and all past issues."
    issues = [
        _issue(0, "300k is all you need.", site.format("metadata")),
        _issue(1, "A quiet day.", site.format("text")),  # boilerplate drifts at its tail
        _issue(2, ""),
        _issue(3, "", "Autoregressive image generation went mainstream this week."),
    ]
    skip = boilerplate(issues)
    assert len(skip) == 3  # the date line, the "we checked" line whatever its numbers, the website line
    assert summarize(issues[0], skip=skip) == "300k is all you need."
    assert summarize(issues[3], skip=skip) == "Autoregressive image generation went mainstream this week."
    assert summarize(issues[2], skip=skip) == "Issue 2"  # nothing but boilerplate: the title stands in
    assert "We checked" in summarize(issues[0])  # without the feed's other items nothing is known
    assert boilerplate(issues[:2]) == frozenset()  # two items of a feed are too few to tell
    assert boilerplate(issues, feeds={("rss", "Other")}) == frozenset()


def test_a_paper_summary_starts_where_the_abstract_says_what_the_paper_does() -> None:
    abstract = (
        "Multi-Agent Systems built on LLMs often exhibit high variance in their reasoning trajectories. "
        "Process verification has shown promise, but its effectiveness in MAS remains unclear. "
        "To fill this gap, we present MAS-ProVe, a systematic empirical study of process verification. "
        "Our study spans three verification paradigms."
    )
    paper = _item("MAS-ProVe", abstract, source="arxiv")
    assert summarize(paper, max_chars=200) == (
        "We present MAS-ProVe, a systematic empirical study of process verification. "
        "Our study spans three verification paradigms."
    )
    # A post keeps its lead; so does an abstract that opens with its contribution or never states one.
    assert summarize(_item("MAS-ProVe", abstract), max_chars=100).startswith("Multi-Agent Systems")
    late = "Progress needs measures. Arenas rank models. Yet, in this work we identify flaws. Meta tested 27."
    assert (
        summarize(_item("The Leaderboard Illusion", late, source="arxiv"))
        == "We identify flaws. Meta tested 27."
    )
    opens = "We introduce Kimi K2.5, an open model. It is multimodal."
    assert summarize(_item("Kimi K2.5", opens, source="arxiv")) == opens
    background = (
        "Agents are popular. Benchmarks lag. Costs rise. Results vary. It is hard. Data is rare. We study X."
    )
    lead = "Agents are popular. Benchmarks lag."
    assert summarize(_item("T", background, source="arxiv"), max_chars=len(lead)) == lead


def test_an_abstracts_inline_latex_reads_as_text() -> None:
    abstract = (
        r"We study a \emph{verification-cost-limited} setting that is ${\approx}1.2{\times}$ faster "
        r"at $p < 0.001$, costs \$20, and yields $\textbf{S}$tructured \textbf{\textit{gains}}."
    )
    assert summarize(_item("T", abstract, source="arxiv")) == (
        "We study a verification-cost-limited setting that is ≈1.2× faster at p < 0.001, costs $20, "
        "and yields Structured gains."
    )


def test_a_removed_url_leaves_no_empty_or_unbalanced_bracket() -> None:
    cases = {
        "We ran our models on PHYBench (https://phybench.github.io/, the holistic benchmark) today.": (
            "We ran our models on PHYBench (the holistic benchmark) today."
        ),
        "TechCrunch reported (https://techcrunch.com/2026/02/05/openai-x/) that OpenAI's deal closed.": (
            "TechCrunch reported that OpenAI's deal closed."
        ),
        "Read the docs (https://docs.example.com/a). Then run it.": "Read the docs. Then run it.",
        "Sources [https://a.example/1, https://b.example/2] agree (see also https://c.example/x).": (
            "Sources agree (see also)."
        ),
        "See https://en.wikipedia.org/wiki/Foo_(bar) for it.": "See for it.",  # its own brackets go with it
        # Brackets no URL was in stay as they were.
        "Call f() or g(x) [1] as in (Smith, 2020) - see https://x.example/p.": (
            "Call f() or g(x) [1] as in (Smith, 2020) - see."
        ),
    }
    for text, expected in cases.items():
        assert plain_text(text) == expected, text
    body = "TechCrunch reported (https://techcrunch.com/2026/02/05/openai-x/) that it closed. More news."
    assert summarize(_item("OpenAI deal", body)) == "TechCrunch reported that it closed. More news."
