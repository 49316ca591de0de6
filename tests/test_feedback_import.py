"""`digest feedback import`: only the digest's own readers judge, and the plain-text email's "id: KEY"
lines read back as ids. Real mbox files, a real SQLite store, the real command line."""

from __future__ import annotations

import mailbox
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest

from digest.cli import main
from digest.feedback import read_mbox
from digest.models import Item
from digest.store import SQLiteStore

T = datetime(2026, 2, 5, tzinfo=timezone.utc)
NEWS = "rss:AINews:cecabe3119e5"


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    with SQLiteStore(tmp_path / "d.db") as store:
        store.upsert_items(
            [Item(key=NEWS, source="rss", url="https://news.example/a", title="News", text="", published=T)]
        )
    p = tmp_path / "digest.toml"
    p.write_text(
        '[store]\npath = "d.db"\n[email]\nfrom = "Digest <digest@example.org>"\n'
        'to = ["Alice <Alice@Example.org>", "bob@example.org"]\n'
    )
    return str(p)


def _mbox(path: Path, *mails: tuple[str | None, str, str]) -> str:
    """An mbox of (From, Subject, body) replies, a day apart."""
    box = mailbox.mbox(str(path))
    for day, (sender, subject, body) in enumerate(mails, 9):
        msg = EmailMessage()
        if sender is not None:
            msg["From"] = sender
        msg["Subject"] = subject
        msg["Date"] = f"{day} Feb 2026 09:00:00 +0000"
        msg.set_content(body)
        box.add(msg)
    box.close()
    return str(path)


SENDERS = "[email] to, from or feedback_from (list it in feedback_from to take its replies)"


def test_only_replies_from_the_digests_recipients_or_sender_are_imported(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The archive's public pages carry the same mailto links: a stranger's "mute llm" once cut an issue
    from 14 stories to 2. Addresses compare by mailbox, however they are spelled."""
    path = _mbox(
        tmp_path / "replies.mbox",
        ("alice@example.org", "digest feedback: like arxiv:2504.16074", ""),
        ('"Bob B." <BOB@example.org>', "Re: digest 2026-W06", "mute crypto\n"),
        ("digest@example.org", "digest feedback: dislike hn:46871173", ""),
        ("Mallory <mallory@evil.example>", "digest feedback: mute llm", ""),
        ("mallory@evil.example", "digest feedback: mute agents", ""),
        ("Eve <eve@evil.example>", "Re: digest", "mute models\n"),
        (None, "digest feedback: mute arxiv", ""),
        ("carol@example.net", "Lunch?", "See you at noon"),  # no judgement: not a skipped reply
    )
    assert main(["--config", cfg, "feedback", "import", path]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: 3 judgements read, 3 new; 4 replies from 3 other senders skipped\n"
    assert err.splitlines() == [
        f"digest: warning: {path}: skipped 2 replies from mallory@evil.example: not an address of {SENDERS}",
        f"digest: warning: {path}: skipped 1 reply from eve@evil.example: not an address of {SENDERS}",
        f"digest: warning: {path}: skipped 1 reply from a message without a From address: "
        f"not an address of {SENDERS}",
    ]
    with SQLiteStore(tmp_path / "d.db") as store:
        assert sorted((fb.kind, fb.target) for fb in store.feedback()) == [
            ("dislike", "hn:46871173"),
            ("like", "arxiv:2504.16074"),
            ("mute", "crypto"),
        ]
    from digest.feedback import read_replies  # imported here so that the CLI's part fails on its own

    got = read_replies(path, ["bob@example.org"], warn=lambda _: None)
    assert [fb.target for fb in got.judgements] == ["crypto"]
    assert dict(got.skipped) == {"alice@example.org": 1, "digest@example.org": 1, "mallory@evil.example": 2,
                                 "eve@evil.example": 1, "": 1}  # fmt: skip


def test_the_plain_text_emails_id_lines_are_ids_and_a_liked_word_is_no_judgement(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plain-text email shows "id: arxiv:2504.16074" under each story: a reply pasting that line
    judges the paper. "Like GPT-5, it plans …" opening a reply is prose, not a like of a keyword; and a
    key typed in another case is the stored item's key."""
    path = _mbox(
        tmp_path / "replies.mbox",
        ("bob@example.org", "digest feedback: dislike id: arxiv:2504.16074v2", ""),
        ("bob@example.org", "Re: digest 2026-W06", "like id: rss:ainews:cecabe3119e5\nmute id: hn:1\n"),
        ("bob@example.org", "Re: digest 2026-W06", "Like GPT-5, it plans before it acts.\nmute crypto\n"),
        ("bob@example.org", "digest feedback: dislike vibe coding", ""),
    )
    assert [(f.kind, f.target) for f in read_mbox(path)] == [
        ("dislike", "arxiv:2504.16074"),
        ("like", "rss:ainews:cecabe3119e5"),
        ("mute", "hn:1"),
    ]
    capsys.readouterr()
    assert main(["--config", cfg, "feedback", "import", path]) == 0
    out, err = capsys.readouterr()
    assert out == f"{path}: 3 judgements read, 3 new\n"
    why = "judges no item: like and dislike take an id or URL, only mute takes words (skipped)"
    assert err.splitlines() == [  # said, not dropped in silence
        f"digest: warning: {path}: message 3: 'Like GPT-5, it plans before it acts.' {why}",
        f"digest: warning: {path}: message 4: 'digest feedback: dislike vibe coding' {why}",
    ]
    with SQLiteStore(tmp_path / "d.db") as store:
        assert sorted((fb.kind, fb.target) for fb in store.feedback()) == [
            ("dislike", "arxiv:2504.16074"),
            ("like", NEWS),
            ("mute", "hn:1"),
        ]


def test_a_reader_who_is_not_mailed_is_listed_in_feedback_from(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Replies from the owner's own address, which `[email] to` does not list (they read the archive),
    were all skipped after the upgrade, with no way to take them short of mailing that address."""
    path = _mbox(tmp_path / "mine.mbox", ("Me <ME@home.example>", "digest feedback: mute crypto", ""))
    assert main(["--config", cfg, "feedback", "import", path]) == 0
    assert "0 judgements read" in capsys.readouterr().out
    Path(cfg).write_text(Path(cfg).read_text() + 'feedback_from = ["me@home.example"]\n')
    assert main(["--config", cfg, "feedback", "import", path]) == 0
    assert capsys.readouterr().out == f"{path}: 1 judgements read, 1 new\n"
    Path(cfg).write_text(Path(cfg).read_text().replace("me@home.example", "me at home"))
    assert main(["--config", cfg, "feedback", "import", path]) == 2
    assert "email.feedback_from[0]: not an email address: 'me at home'" in capsys.readouterr().err
