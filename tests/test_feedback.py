"""Feedback by mail: targets normalise, mailto links carry the judgement, an mbox of replies reads back."""

from __future__ import annotations

import mailbox
from datetime import datetime, timezone
from email.message import EmailMessage, Message
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from digest.errors import InputError
from digest.feedback import feedback_links, judged_target, parse_target, read_mbox
from digest.models import Item
from digest.store import SQLiteStore


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("2506.11093v2", "arxiv:2506.11093"),
        ("arXiv:2506.11093", "arxiv:2506.11093"),
        ("https://arxiv.org/pdf/2506.11093v3", "arxiv:2506.11093"),
        ("https://www.reddit.com/r/LocalLLaMA/comments/1qwgz6i/some_title/", "reddit:1qwgz6i"),
        ("https://news.ycombinator.com/item?id=46902223", "hn:46902223"),
        ("reddit:1qwgz6i", "reddit:1qwgz6i"),
        ("https://www.Example.com/post/?utm_source=x", "https://example.com/post"),
        ("  Crypto  ", "crypto"),
        ("", ""),
    ],
)
def test_parse_target(raw: str, want: str) -> None:
    assert parse_target(raw) == want


def test_a_url_target_finds_the_stored_item_however_its_source_spelled_the_url(tmp_path: Path) -> None:
    """A like of a blog post's URL names the post, not a placeholder titled with the URL; a post that
    only links the page is found when nothing has it as its own URL."""
    t = datetime(2026, 2, 5, tzinfo=timezone.utc)
    blog = "https://www.anthropic.com/news/claude-opus-4-6"
    with SQLiteStore(tmp_path / "d.db") as store:
        store.upsert_items([
            Item(key="rss:1", source="rss", url=blog, title="Claude Opus 4.6", text="", published=t),
            Item(key="hn:1", source="hn", url="https://news.ycombinator.com/item?id=1", title="Opus", text="",
                 published=t, links=(blog + "/", "https://github.com/QwenLM/Qwen3-Coder/tree/main")),
            Item(key="x:1", source="x", url="https://twitter.com/AnthropicAI/status/2019474062436552",
                 title="", text="Opus 4.6", published=t),
        ])  # fmt: skip

        def keys(raw: str) -> list[str]:
            return [i.key for i in store.find_items(parse_target(raw))]

        assert keys("anthropic.com/news/claude-opus-4-6?utm_source=x") == ["rss:1"]
        assert keys("https://github.com/qwenlm/qwen3-coder") == ["hn:1"]
        assert keys("https://x.com/anthropicai/status/2019474062436552/photo/1") == ["x:1"]
        assert keys("https://anthropic.com/news/claude-sonnet-5") == []
        assert keys("reddit:1qwgz6i") == []


def test_a_url_target_is_found_among_many_urls_with_the_same_tail(tmp_path: Path) -> None:
    """300 pages stored first end in the same path segment; the one the target names is still found."""
    t = datetime(2026, 2, 5, tzinfo=timezone.utc)
    with SQLiteStore(tmp_path / "d.db") as store:
        store.upsert_items([
            Item(key=f"rss:n{k}", source="rss", url=f"https://news{k}.example/post/announcement",
                 title="x", text="", published=t)
            for k in range(300)
        ])  # fmt: skip
        store.upsert_items([Item(key="rss:1", source="rss", url="https://www.lab.example/news/announcement",
                                 title="Our model", text="", published=t)])  # fmt: skip
        found = store.find_items(parse_target("https://lab.example/news/announcement/"))
        assert [i.key for i in found] == ["rss:1"]


def _reply(link: str, when: str) -> EmailMessage:
    """What a mail client sends when the reader clicks a mailto link."""
    parts = urlsplit(link)
    q = parse_qs(parts.query)
    msg = EmailMessage()
    msg["From"] = "reader@example.com"
    msg["To"] = unquote(parts.path)
    msg["Subject"] = q["subject"][0]
    msg["Date"] = when
    msg.set_content(q["body"][0])
    return msg


def test_links_round_trip_through_an_mbox(tmp_path: Path) -> None:
    links = feedback_links("arxiv:2506.11093", "digest@example.com", "2026-W06")
    assert set(links) == {"like", "dislike", "mute"}
    assert links["like"].startswith("mailto:digest@example.com?subject=digest%20feedback%3A%20like%20arxiv")
    assert "2026-W06" in unquote(links["like"])
    path = tmp_path / "replies.mbox"
    box = mailbox.mbox(str(path))
    box.add(_reply(links["dislike"], "Tue, 10 Feb 2026 09:00:00 +0000"))
    box.add(_reply(links["like"], "Mon, 09 Feb 2026 09:00:00 +0000"))
    unrelated = EmailMessage()
    unrelated["Subject"] = "lunch?"
    unrelated.set_content("like pizza")  # a like of a word is no judgement: only mute takes words
    box.add(unrelated)
    quoted = EmailMessage()
    quoted["Subject"] = "Re: digest feedback: mute https://www.spam.example/a?utm_medium=x"
    quoted["Date"] = "Wed, 11 Feb 2026 09:00:00 +0000"
    quoted.set_content("> quoted")
    box.add(quoted)
    box.flush()
    box.close()
    got = read_mbox(str(path))
    kinds = [(f.kind, f.target) for f in got]
    assert kinds == [
        ("like", "arxiv:2506.11093"),
        ("dislike", "arxiv:2506.11093"),
        ("mute", "https://spam.example/a"),
    ]
    assert got[0].at == datetime(2026, 2, 9, 9, tzinfo=timezone.utc)


def test_muting_a_blog_post_whose_feed_name_has_a_space_mutes_it_by_link_reply_or_command(
    tmp_path: Path,
) -> None:
    """The default feeds include "Google DeepMind": its item keys have a space and must stay keys."""
    key = "rss:Google DeepMind:08f23752d1db"
    path = tmp_path / "replies.mbox"
    box = mailbox.mbox(str(path))
    box.add(
        _reply(
            feedback_links(key, "digest@example.com", "2026-W06")["mute"], "Mon, 09 Feb 2026 09:00:00 +0000"
        )
    )
    for body in (f"mute {key}\n\n> quoted issue", "mute Vibe   Coding"):  # plain replies to the issue
        reply = EmailMessage()
        reply["Subject"] = "Re: the week in AI"
        reply.set_content(body)
        box.add(reply)
    box.close()
    assert [f.target for f in read_mbox(str(path))] == [key, key, "vibe coding"]
    assert judged_target("mute", f" {key} ") == key
    assert judged_target("like", "https://arxiv.org/abs/2602.02979v2") == "arxiv:2602.02979"


def test_plain_mail_without_a_judgement_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.mbox"
    box = mailbox.mbox(str(path))
    msg = EmailMessage()
    msg["Subject"] = "Your newsletter"
    msg.set_content("Thanks, great issue!")
    box.add(msg)
    box.close()
    assert read_mbox(str(path)) == []


def test_a_plain_reply_judges_by_its_first_lines_not_by_the_quoted_issue(tmp_path: Path) -> None:
    """Replying to the issue itself: judgement lines at the top count, one per line; the issue quoted
    below without "> " marks (as some clients quote) does not, though a summary line starts "Like"."""
    path = tmp_path / "m.mbox"
    box = mailbox.mbox(str(path))
    msg = EmailMessage()
    msg["Subject"] = "Re: digest 2026-W06: CPMobius, Kimi K2.5 and 8 more"
    msg["Date"] = "Mon, 09 Feb 2026 09:00:00 +0000"
    msg.set_content(
        "like arxiv:2602.02276v2\n"
        "Dislike hn:46871173\n"
        "mute crypto tokens\n"
        "\n"
        "On Mon, 9 Feb 2026, digest wrote:\n"
        "    Like GPT-5, it plans before it acts.\n"
        "mute reddit:1qwp7kt\n"
    )
    box.add(msg)
    chat = EmailMessage()
    chat["Subject"] = "Re: digest 2026-W06"
    chat.set_content("Great issue!\n\n    Like GPT-5, it plans before it acts.\n")
    box.add(chat)
    box.close()
    got = [(f.kind, f.target) for f in read_mbox(str(path))]
    assert got == [("like", "arxiv:2602.02276"), ("dislike", "hn:46871173"), ("mute", "crypto tokens")]


def test_an_html_only_reply_judges_by_its_first_lines(tmp_path: Path) -> None:
    """Some clients send a reply as HTML alone: its block elements are its lines."""
    path = tmp_path / "m.mbox"
    box = mailbox.mbox(str(path))
    msg = EmailMessage()
    msg["Subject"] = "Re: digest 2026-W06: CPMobius, Kimi K2.5 and 8 more"
    msg.set_content(
        "<html><body><div>like arxiv:2602.02276</div><div>dislike&nbsp;hn:46871173<br></div>"
        '<div><br></div><div class="gmail_quote">On Mon, digest wrote:<br><blockquote>'
        "<p>Like GPT-5, it plans before it acts.</p><p>mute reddit:1qwp7kt</p>"
        "</blockquote></div></body></html>",
        subtype="html",
    )
    box.add(msg)
    box.close()
    got = [(f.kind, f.target) for f in read_mbox(str(path))]
    assert got == [("like", "arxiv:2602.02276"), ("dislike", "hn:46871173")]


def test_missing_mbox_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.mbox: no such mbox file"):
        read_mbox(str(tmp_path / "nope.mbox"))


_ODD_MBOX = (
    b"From a@b Mon Feb  9 10:00:00 2026\n"
    b"Subject: =?bogus-charset?B?ZGlnZXN0IGZlZWRiYWNrOiBsaWtlIGFyeGl2OjI2MDIuMDIyNzY=?=\n"
    b"Date: Mon, 09 Feb 2026 10:00:00 +0000\n\nhi\n\n"
    b"From a@b Mon Feb  9 11:00:00 2026\n"
    b"Subject: Re: digest 2026-W06\n"
    b"Date: Mon, 09 Feb 2026 11:00:00 +0000\n"
    b"Content-Type: text/plain; charset=bogus\n\n"
    b"dislike hn:46871173\n\n"
    b"From a@b Mon Feb  9 12:00:00 2026\n"
    b"Subject: =?utf-8?B?bGlrZ?= broken base64\n"
    b"Date: Mon, 09 Feb 2026 12:00:00 +0000\n"
    b"Content-Type: text/plain; charset*=b\x00gus''x\n\n"
    b"mute crypto\n\n"
    b"From caf\xe9@b Mon Feb  9 13:00:00 2026\n"
    b"Subject: digest feedback: like reddit:1qwgz6i\n"
    b"Date: Mon, 09 Feb 2026 13:00:00 +0000\n\nhi\n"
)


def test_unknown_charsets_and_broken_headers_are_read_and_the_rest_of_the_mbox_still_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A charset no codec knows (in an encoded-word subject or a body's Content-Type), a subject whose
    base64 is broken, a garbled charset parameter and an 8-bit "From " line: each message is still read."""
    path = tmp_path / "odd.mbox"
    path.write_bytes(_ODD_MBOX)
    got = [(f.kind, f.target) for f in read_mbox(str(path))]
    assert got == [
        ("like", "arxiv:2602.02276"),
        ("dislike", "hn:46871173"),
        ("mute", "crypto"),
        ("like", "reddit:1qwgz6i"),
    ]
    assert capsys.readouterr().err == ""


def test_a_message_that_cannot_be_read_is_skipped_with_one_warning_naming_the_mbox_and_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No real message is known to fail any more; should one, it costs that message only."""
    import digest.feedback as feedback

    path = tmp_path / "odd.mbox"
    path.write_bytes(_ODD_MBOX)
    judgements = feedback._judgements

    def failing(msg: Message) -> list[tuple[str, str]]:
        if "bogus" in str(msg.get("Content-Type")):
            raise LookupError("unknown encoding: bogus")
        return judgements(msg)

    monkeypatch.setattr(feedback, "_judgements", failing)
    warnings: list[str] = []
    got = [f.target for f in read_mbox(str(path), warn=warnings.append)]
    assert got == ["arxiv:2602.02276", "crypto", "reddit:1qwgz6i"]
    assert warnings == [f"{path}: skipped message 2: cannot read it (unknown encoding: bogus)"]
    read_mbox(str(path))  # by default the warning is one stderr line
    assert capsys.readouterr().err == f"digest: warning: {warnings[0]}\n"
