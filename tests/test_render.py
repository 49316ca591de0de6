"""Rendering: email HTML (inlined, under Gmail's clip, inert feed content), plain text, pages, Atom feed."""

from __future__ import annotations

import dataclasses
import importlib.resources
import mailbox
import re
from email.message import EmailMessage
from pathlib import Path

import feedparser
import pytest
from render_fixtures import BUILT, XSS_MARKER, Tags, sample_issue, sample_stories, summaries

from digest.config import ArchiveConfig, Config, EmailConfig, RenderConfig
from digest.deliver import build_message
from digest.errors import ConfigError
from digest.feedback import parse_target, read_mbox
from digest.models import Item, RankedStory, Story
from digest.render import (
    GMAIL_CLIP_BYTES,
    plain,
    render_email,
    render_feed,
    render_issue_page,
    safe_url,
    templates_dir,
    unsubscribe_url,
)
from digest.serialize import issue_from_dict, issue_to_dict

CFG = Config(archive=ArchiveConfig(base_url="https://news.example.org/digest/"))


def long_issue():
    """Worst realistic case: long summaries, long reasons and eight member links per story."""
    stories = []
    for rs in sample_stories():
        extra = tuple(
            Item(
                key=f"{rs.story.id}:x{k}",
                source="reddit",
                url=f"https://www.reddit.com/r/MachineLearning/comments/1q{k}abc/a_rather_long_slug_for_post_{k}/",
                title=rs.story.headline,
                text="",
                published=BUILT,
                feed="MachineLearning",
            )
            for k in range(6)
        )
        story = dataclasses.replace(rs.story, items=rs.story.items + extra)
        stories.append(
            dataclasses.replace(
                rs,
                story=story,
                summary=rs.summary * 6,
                reasons=(*rs.reasons, "Similar to three papers you liked in January: " + "x" * 120),
            )
        )
    return dataclasses.replace(sample_issue(), stories=tuple(stories))


def test_full_ten_story_email_stays_under_gmail_clip_limit():
    html, text = render_email(long_issue(), CFG)
    size = len(html.encode("utf-8"))
    assert size < GMAIL_CLIP_BYTES, f"{size} bytes would be clipped by Gmail"
    assert html.count('class="story"') == 10
    assert text.count("=\n10. ") == 1


def test_oversized_summaries_are_shortened_to_fit_the_clip_limit():
    cfg = dataclasses.replace(CFG, render=RenderConfig(summary_chars=100_000))
    stories = tuple(dataclasses.replace(rs, summary=rs.summary * 40) for rs in sample_stories())
    html, _ = render_email(dataclasses.replace(sample_issue(), stories=stories), cfg)
    assert len(html.encode("utf-8")) < GMAIL_CLIP_BYTES
    assert html.count('class="story"') == 10


def test_email_css_is_inlined_and_only_media_queries_stay_in_a_style_block():
    html, _ = render_email(sample_issue(), CFG)
    story_td = re.search(r'<td class="story"[^>]*>', html)
    assert story_td and "padding:20px 24px" in story_td.group(0)
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and styles[0].lstrip().startswith("@media")
    assert "max-width:640px" in html  # fluid card, Outlook gets a fixed 640 table in conditional comments
    assert "<!--[if mso]>" in html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "prefers-color-scheme: dark" in html
    body_tag = re.search(r"<body[^>]*>", html)
    assert (
        body_tag and "background-color:#eef0f3" in body_tag.group(0) and "color:#1f2328" in body_tag.group(0)
    )


def test_feed_payloads_are_inert_in_email_and_archive_page():
    html, _ = render_email(sample_issue(), CFG)
    page = render_issue_page(sample_issue(), CFG)
    for doc in (html, page):
        tags = Tags(doc)
        assert "script" not in tags.names()
        assert "img" not in tags.names()  # nothing from feed content becomes an image (no tracking pixels)
        assert XSS_MARKER not in tags.names()
        handlers = [k for _, attrs in tags.tags for k in attrs if k.startswith("on")]
        assert handlers == []
        assert all(h.startswith(("https://", "http://", "mailto:", "../", "#")) for h in tags.hrefs()), (
            tags.hrefs()
        )
        assert "javascript:" not in " ".join(tags.hrefs())
        # the title is shown to the reader as text, not dropped
        assert "Prompt injection via RSS &lt;script&gt;document.title=" in doc


def test_summary_html_is_reduced_to_text_and_urls_must_be_http():
    assert plain("<p>a &amp; b<script>evil()</script> <b>c</b></p>") == "a & b c"
    assert plain("x < y and y > z") == "x < y and y > z"
    # a "<" that starts no HTML tag is text: abstracts and posts say these
    for text in ("reach p<0.05 when a<b holds, so", "for k<n, the bound", "Vector<T> and the <think> tag"):
        assert plain(text) == text
    assert plain('x <img src="a>b" onerror=alert(1)> y <b>z</b>') == "x y z"
    assert safe_url("javascript:alert(1)") == ""
    assert safe_url("https://ok.example/a b") == ""
    assert safe_url(" https://ok.example/p?q=1 ") == "https://ok.example/p?q=1"


def test_plain_text_reads_on_its_own():
    _, text = render_email(sample_issue(), CFG)
    numbered = re.findall(r"^(\d+)\.\s", text, re.M)
    assert numbered[:10] == [str(n) for n in range(1, 11)]
    for line in text.splitlines():
        if max(map(len, line.split()), default=0) <= 40:  # only URLs and unbreakable words run over
            assert len(line) <= 72, line
    assert "    - arXiv: https://arxiv.org/abs/2602.01234" in text
    assert "Update — first featured in 2026-W03 (https://news.example.org/digest/2026-W03/)" in text
    assert "rss:OpenAI: 0 items this week, failed" in text
    assert "Read on the web: https://news.example.org/digest/2026-W06/" in text
    assert "<p" not in text and "&amp;" not in text


def test_plain_text_feedback_is_a_reply_with_ids_that_the_mbox_reader_takes(tmp_path):
    """No wall of mailto URLs in plain text: each story shows its id, and a reply naming it counts."""
    _, text = render_email(sample_issue(), CFG)
    keys = [rs.story.lead.key for rs in sample_stories()]
    assert [f"    id: {k}" for k in keys] == [ln for ln in text.splitlines() if ln.startswith("    id: ")]
    assert "mailto:" not in text.replace(unsubscribe_url(CFG), "")
    reply = EmailMessage()
    reply["Subject"] = "Re: " + sample_issue().title
    reply.set_content(f"like {keys[0]}\nmute {keys[1]}\n\n" + text)  # quoted without "> ", as some do
    box = mailbox.mbox(str(tmp_path / "r.mbox"))
    box.add(reply)
    box.close()
    got = [(f.kind, f.target) for f in read_mbox(str(tmp_path / "r.mbox"))]
    assert got == [("like", parse_target(keys[0])), ("mute", parse_target(keys[1]))]


def test_story_shows_reasons_all_links_update_and_feedback():
    html, _ = render_email(sample_issue(), CFG)
    hrefs = Tags(html).hrefs()
    for rs in sample_stories():
        for urls in rs.story.links_by_source.values():
            for url in urls:
                if safe_url(url):
                    assert url in hrefs
    assert "Why this is here" in html and "Matches your interest" in html
    assert "https://news.example.org/digest/2026-W03/" in hrefs
    assert "Update — first featured in" in html.replace("&mdash;", "—")
    mailtos = [h for h in hrefs if h.startswith("mailto:")]
    assert len(mailtos) >= 30  # like, dislike, mute per story (+ unsubscribe)
    page_hrefs = Tags(render_issue_page(sample_issue(), CFG)).hrefs()
    assert "../2026-W03/index.html" in page_hrefs  # relative in the archive: works from file://


def test_a_story_close_to_a_sent_one_links_back_to_that_issue():
    """The Qwen 3 release a week after "Qwen 3 release imminent": not the same story (no update), but
    the reader gets the earlier issue's link beside the reason that names it."""
    stories = list(sample_stories())
    stories[1] = dataclasses.replace(stories[1], follows="2026-W04")
    issue = dataclasses.replace(sample_issue(), stories=tuple(stories))
    html, text = render_email(issue, CFG)
    assert "Follows a story sent in 2026-W04 (https://news.example.org/digest/2026-W04/)" in text
    assert "https://news.example.org/digest/2026-W04/" in Tags(html).hrefs()
    page = render_issue_page(issue, CFG, archived={"2026-W04"})
    assert "../2026-W04/index.html" in Tags(page).hrefs()
    unarchived = render_issue_page(issue, CFG, archived=set())
    assert "2026-W04/index.html" not in unarchived and "Follows a story sent in 2026-W04" in unarchived
    back = issue_from_dict(issue_to_dict(issue))
    assert back.stories[1].follows == "2026-W04" and back.stories[6].update_of == "2026-W03"


def test_a_link_post_links_its_article_under_the_site_and_its_thread_under_its_source():
    thread = "https://news.ycombinator.com/item?id=46902223"
    hn = Item(
        key="hn:46902223",
        source="hn",
        url="https://www.anthropic.com/news/claude-opus-4-6",
        title="Claude Opus 4.6",
        text="",
        published=BUILT,
        links=(thread,),
    )
    rs = dataclasses.replace(
        sample_stories()[0], story=Story(id="s-hn", items=(hn,), lead=hn, headline=hn.title)
    )
    html, text = render_email(dataclasses.replace(sample_issue(), stories=(rs,)), Config())
    assert "- anthropic.com: https://www.anthropic.com/news/claude-opus-4-6" in text
    assert f"- Hacker News: {thread}" in text
    title = re.search(r'<a class="title-link"[^>]*href="([^"]+)"', html)
    assert title and title.group(1) == hn.url  # the headline still opens the article
    assert thread in Tags(html).hrefs()
    # A Reddit link post the same way: the thread under its subreddit, not the PDF under it.
    permalink = "https://www.reddit.com/r/LocalLLaMA/comments/1kbvrgs/phi_4_reasoning/"
    pdf = "https://www.microsoft.com/en-us/research/wp-content/uploads/2025/04/phi_4_reasoning.pdf"
    post = Item(key="reddit:1kbvrgs", source="reddit", url=pdf, title="Phi 4 reasoning", text="",
                published=BUILT, links=(pdf, permalink), feed="LocalLLaMA")  # fmt: skip
    self_post = dataclasses.replace(post, key="reddit:2", url=permalink.replace("1kbvrgs", "2"), links=())
    both = Story(id="s-r", items=(post, self_post), lead=post, headline=post.title)
    rs = dataclasses.replace(rs, story=both)
    _, text = render_email(dataclasses.replace(sample_issue(), stories=(rs,)), Config())
    assert f"- microsoft.com: {pdf}" in text and f"- r/LocalLLaMA: {permalink}" in text
    assert f"- r/LocalLLaMA: {self_post.url}" in text and f"r/LocalLLaMA: {pdf}" not in text
    # An article link that is no http(s) URL is dropped, not the discussion with it.
    unsafe = dataclasses.replace(hn, url="javascript:alert(8)")
    rs = dataclasses.replace(rs, story=Story(id="s-x", items=(unsafe,), lead=unsafe, headline=hn.title))
    html, text = render_email(dataclasses.replace(sample_issue(), stories=(rs,)), Config())
    assert f"- Hacker News: {thread}" in text and "javascript:" not in html + text
    title = re.search(r'<a class="title-link"[^>]*href="([^"]+)"', html)
    assert title and title.group(1) == thread


def test_health_footer_names_failed_and_fallback_sources():
    html, text = render_email(sample_issue(), CFG)
    footer = html[html.index("Where this came from") :]
    assert "failed: rss:OpenAI" in footer
    assert "HTTP 503 Service Unavailable" in footer
    assert "fell back: reddit" in footer and "public RSS (no Reddit credentials)" in footer
    # the text part's summary line says the same, not only the per-source lines under it
    summary = " ".join(text[text.index("Where this came from") :].split("\n  - ")[0].split())
    assert "; failed: rss:OpenAI" in summary and "; fell back: reddit" in summary


def test_quiet_week_renders_without_stories():
    issue = dataclasses.replace(sample_issue(), stories=(), story_count=0)
    html, text = render_email(issue, Config())
    assert "A quiet week" in html and "A quiet week" in text
    assert "A quiet week" in render_issue_page(issue, Config())


def test_story_without_safe_url_falls_back_to_a_member_link():
    rs = sample_stories()[2]  # lead url is javascript:
    issue = dataclasses.replace(sample_issue(), stories=(rs,))
    html, _ = render_email(issue, Config())
    title = re.search(r'<a class="title-link"[^>]*href="([^"]+)"', html)
    assert title and title.group(1) == "https://news.ycombinator.com/item?id=46900001"


def test_a_bare_link_whose_summary_is_its_title_shows_the_title_once():
    rs = sample_stories()[0]
    title = rs.story.headline
    bare = dataclasses.replace(rs, summary=f"{title.upper()}.")  # an HN link: nothing but its title
    issue = dataclasses.replace(sample_issue(), stories=(bare,))
    html, text = render_email(issue, Config())
    page = render_issue_page(issue, Config())
    for out in (html, page):
        assert 'class="summary"' not in out
    assert " ".join(title.upper().split()[:3]) not in text
    kept = dataclasses.replace(sample_issue(), stories=(rs,))
    assert 'class="summary"' in render_email(kept, Config())[0]


def test_a_story_without_summary_shows_its_lead_text_cut_to_the_summary_bound():
    rs = sample_stories()[0]
    words = " ".join(f"word{k}" for k in range(200))  # 1,589 characters, far over summary_chars
    lead = dataclasses.replace(rs.story.lead, text=f"<p>Lead opening &amp; {words} LEAD-END</p>")
    story = dataclasses.replace(rs.story, lead=lead, items=(lead, *rs.story.items[1:]))
    issue = dataclasses.replace(sample_issue(), stories=(dataclasses.replace(rs, story=story, summary=""),))
    cfg = Config(render=RenderConfig(summary_chars=100))
    html, text = render_email(issue, cfg)
    shown = re.search(r'<p class="summary"[^>]*>([^<]*)</p>', html)  # styles are inlined
    assert shown is not None, "the lead's text stands in for the missing summary"
    assert shown.group(1).startswith("Lead opening &amp; word0 word1") and shown.group(1).endswith("…")
    assert len(shown.group(1).replace("&amp;", "&")) <= 100
    assert "LEAD-END" not in html and "LEAD-END" not in text and "Lead opening & word0" in text


def test_user_templates_override_bundled_ones(tmp_path: Path):
    (tmp_path / "email.txt.j2").write_text("CUSTOM {{ issue.week }} {{ stories|length }}\n")
    cfg = Config(render=RenderConfig(templates=str(tmp_path)))
    html, text = render_email(sample_issue(), cfg)
    assert text == "CUSTOM 2026-W06 10\n"
    assert 'class="story"' in html  # the rest still comes from the bundled set


def test_template_errors_are_one_line_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"render\.templates: folder not found"):
        render_email(sample_issue(), Config(render=RenderConfig(templates=str(tmp_path / "nope"))))
    (tmp_path / "email.txt.j2").write_text("{{ issue.weeek }}\n")
    with pytest.raises(ConfigError, match=r"email\.txt\.j2: template uses an unknown value"):
        render_email(sample_issue(), Config(render=RenderConfig(templates=str(tmp_path))))
    (tmp_path / "email.txt.j2").write_text("{% for %}\n")
    with pytest.raises(ConfigError, match=r"email.txt.j2:1: template error"):
        render_email(sample_issue(), Config(render=RenderConfig(templates=str(tmp_path))))


def test_bundled_templates_are_found_in_checkout_and_as_package():
    assert (templates_dir() / "email.html.j2").is_file()
    pkg = importlib.resources.files("templates")
    for name in ("email.html.j2", "email.txt.j2", "issue.html.j2", "index.html.j2", "feed.xml.j2"):
        assert pkg.joinpath(name).is_file(), name


def test_control_characters_in_feed_text_reach_no_output():
    """A raw \\x07 in a blog title would make feed.xml unreadable XML and the Subject header dirty."""
    from xml.etree import ElementTree

    rs = sample_stories()[0]
    story = dataclasses.replace(rs.story, headline="Bell\x07 title\x01 with\x08 controls")
    bad = dataclasses.replace(rs, story=story, summary="A summary\x0b with\x1f controls", reasons=("r\x07",))
    issue = dataclasses.replace(sample_issue(), title="Week\x07 title", stories=(bad,))
    html, text = render_email(issue, Config())
    page = render_issue_page(issue, Config())
    summary = dataclasses.replace(summaries()[1], title="Week\x07 six", headlines=(("Bell\x07", ""),))
    feed = render_feed([summary], CFG)
    for out in (html, text, page, feed):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", out)
    assert "Bell title with controls" in html and "Bell title with controls" in text
    ElementTree.fromstring(feed.encode())  # well-formed XML
    assert feedparser.parse(feed).bozo == 0
    assert build_message(issue, html, text, Config(), "ada@example.org")["Subject"] == "Week title"


def test_email_subject_source_of_title_has_no_newlines():
    rs = sample_stories()[0]
    story = Story(id="x", items=rs.story.items, lead=rs.story.lead, headline="Line one\nline two")
    issue = dataclasses.replace(
        sample_issue(), title="T\r\nBcc: x@y", stories=(RankedStory(story=story, score=1),)
    )
    html, text = render_email(issue, Config(email=EmailConfig()))
    assert "Line one line two" in html and "T Bcc: x@y" in html
    msg = build_message(issue, html, text, Config(), "ada@example.org")
    assert msg["Subject"] == "T Bcc: x@y" and msg["Bcc"] is None


def test_the_inbox_preview_goes_on_from_the_stories_the_subject_names():
    """Gmail and Outlook show the hidden preheader after the subject: it lists the next stories."""
    from digest.pipeline import issue_title

    issue = sample_issue()
    stories = tuple(
        dataclasses.replace(rs, story=dataclasses.replace(rs.story, headline=f"Story number {k}"))
        for k, rs in enumerate(issue.stories, 1)
    )
    issue = dataclasses.replace(issue, stories=stories, title=issue_title(issue.week, stories))
    named = len(stories) - int(issue.title.rsplit(" and ", 1)[1].split()[0])
    html, _ = render_email(issue, CFG)
    preview = re.search(r'<div style="display:none[^>]*>([^<]*)</div>', html)
    assert preview is not None
    n = named + 1
    assert preview.group(1) == f"Also: Story number {n}; Story number {n + 1}; Story number {n + 2}"
