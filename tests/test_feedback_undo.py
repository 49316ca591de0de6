"""Changing one's mind: a judgement given again counts again, `feedback forget` undoes one, `feedback
list` shows which of two contradicting judgements counts, and what could never count is refused.

Every test runs the real command line on a real SQLite store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rank_helpers import TopicEmbedder

from digest.cli import main
from digest.config import Interest, ProfileConfig
from digest.models import Item
from digest.profile import build_profile
from digest.store import SQLiteStore

T = datetime(2026, 2, 5, tzinfo=timezone.utc)
PAPER = "arxiv:2504.16074"
NEWS = "rss:AINews:cecabe3119e5"
HOSTILE = "Agent \x1b[2J\x1b]0;pwned\x07 news\x9b"


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    with SQLiteStore(tmp_path / "d.db") as store:
        store.upsert_items([
            Item(key=PAPER, source="arxiv", url="https://arxiv.org/abs/2504.16074", title="An agent paper",
                 text="agent", published=T),
            Item(key=NEWS, source="rss", url="https://news.example/agents", title=HOSTILE, text="agent",
                 published=T, feed="AINews"),
            Item(key="reddit:1qwgz6i", source="reddit", url="https://reddit.com/r/LocalLLaMA/comments/1qwgz6i/",
                 title="A video post", text="", published=T, links=("https://v.redd.it/k3y9x",)),
        ])  # fmt: skip
    p = tmp_path / "digest.toml"
    p.write_text('[store]\npath = "d.db"\n')
    return str(p)


def _run(cfg: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--config", cfg, "feedback", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _stored(cfg: str) -> list[tuple[str, str]]:
    with SQLiteStore(Path(cfg).parent / "d.db") as store:
        return sorted((fb.kind, fb.target) for fb in store.feedback())


def test_liking_again_after_a_dislike_makes_the_like_count_and_says_so(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    said = [_run(cfg, capsys, kind, PAPER)[1].strip() for kind in ("like", "dislike", "like")]
    day = f"{datetime.now(timezone.utc):%Y-%m-%d}"
    assert said == [
        f'like: {PAPER} — "An agent paper"',
        f'dislike: {PAPER} — "An agent paper" (this overrides the like of {day})',
        f'like: {PAPER} — "An agent paper" (again; this now overrides the dislike of {day})',
    ]
    with SQLiteStore(Path(cfg).parent / "d.db") as store:
        feedback = store.feedback()
        items = {fb.target: store.find_items(fb.target)[0] for fb in feedback}
        profile = build_profile(
            ProfileConfig(interests=(Interest("agent"),)), TopicEmbedder(), [], feedback, items
        )
        assert PAPER in profile.liked_keys and PAPER not in profile.disliked_keys  # the ranking agrees
        # the same like once more, and an old copy of it (a reply imported again), change nothing
        assert _run(cfg, capsys, "like", PAPER)[1].strip().endswith("(already stored)")
        like_at = {fb.kind: fb.at for fb in store.feedback()}["like"]
        assert store.add_feedback("like", PAPER, like_at - timedelta(days=30)) is False
        assert {fb.kind: fb.at for fb in store.feedback()}["like"] == like_at


def test_a_like_says_so_when_a_later_dated_dislike_still_counts(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reply dated ahead of this machine's clock stays the latest: the answer must not claim otherwise."""
    with SQLiteStore(Path(cfg).parent / "d.db") as store:
        store.add_feedback("dislike", PAPER, datetime(2099, 1, 1, tzinfo=timezone.utc))
    _, out, _ = _run(cfg, capsys, "like", PAPER)
    assert out == f'like: {PAPER} — "An agent paper" (the dislike of 2099-01-01 is later and still counts)\n'


def test_list_marks_the_judgement_a_later_opposite_one_overrides(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with SQLiteStore(Path(cfg).parent / "d.db") as store:
        store.add_feedback("like", PAPER, T)
        store.add_feedback("dislike", PAPER, T + timedelta(days=1))
        store.add_feedback("mute", "crypto", T)
        store.add_feedback("like", "qwen", T + timedelta(days=2))  # as an older digest stored a liked word
    code, out, _ = _run(cfg, capsys, "list")
    assert code == 0
    assert out.splitlines() == [
        f'2026-02-05  like     {PAPER}  "An agent paper"  (superseded by the dislike of 2026-02-06)',
        "2026-02-05  mute     crypto",
        f'2026-02-06  dislike  {PAPER}  "An agent paper"',
        "2026-02-07  like     qwen  (counts for nothing: only mute takes words; "
        "`digest feedback forget` removes it)",
    ]


def test_forget_deletes_every_judgement_on_a_target_however_it_is_spelled(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (("dislike", PAPER), ("mute", PAPER), ("mute", "Vibe  Coding"), ("like", NEWS)):
        assert _run(cfg, capsys, *args)[0] == 0
    code, out, _ = _run(cfg, capsys, "forget", f"id: https://arxiv.org/pdf/{PAPER[6:]}v2")
    day = f"{datetime.now(timezone.utc):%Y-%m-%d}"
    assert code == 0
    assert out.splitlines() == [
        f'forgot: dislike {PAPER} of {day} — "An agent paper"',
        f'forgot: mute {PAPER} of {day} — "An agent paper"',
    ]
    assert _run(cfg, capsys, "forget", "vibe coding")[1] == f"forgot: mute vibe coding of {day}\n"
    assert _run(cfg, capsys, "forget", "rss:ainews:cecabe3119e5")[1].startswith(f"forgot: like {NEWS} of")
    assert _stored(cfg) == []
    assert _run(cfg, capsys, "forget", "crypto") == (
        0,
        "forget: no judgement stored on crypto; nothing to forget\n",
        "",
    )
    with SQLiteStore(Path(cfg).parent / "d.db") as store:  # as an older digest stored the email's id line
        store.add_feedback("dislike", "id: arxiv:2504.16074", T)
    assert _run(cfg, capsys, "forget", "id: arxiv:2504.16074")[1].startswith("forgot: dislike id: arxiv:")
    assert _stored(cfg) == []
    code, out, err = _run(cfg, capsys, "forget", "  ")
    assert (code, out) == (2, "") and "feedback forget: empty target" in err


def test_a_like_or_dislike_of_a_word_is_refused_and_the_emails_id_line_is_an_id(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only mute uses words: a liked or disliked word was stored and said to "count once collected",
    and never counted. The plain-text email's "id: KEY" line, pasted as it is, names the item."""
    code, out, err = _run(cfg, capsys, "like", "GPT-5 release notes")
    assert (code, out) == (2, "")
    assert err == (
        "digest: feedback like: 'gpt-5 release notes' is neither an item id nor a URL; "
        "only mute takes words\n"
    )
    assert _run(cfg, capsys, "dislike", f"  id: {PAPER}")[1] == f'dislike: {PAPER} — "An agent paper"\n'
    code, out, _ = _run(cfg, capsys, "like", "rss:ainews:CECABE3119E5")  # keys are typed in any case
    assert out.startswith(f"like: {NEWS} — ")
    assert _stored(cfg) == [("dislike", PAPER), ("like", NEWS)]


@pytest.mark.parametrize(
    "url", ["https://v.redd.it/abc123", "https://i.redd.it/x9.jpeg", "https://preview.redd.it/x9.png?w=640"]
)
def test_muting_a_reddit_media_url_that_nothing_carries_is_refused(
    cfg: str, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """The Reddit source gives a media post its thread URL, so "everything from v.redd.it" is nothing."""
    code, out, err = _run(cfg, capsys, "mute", url)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "thread" in err and "subreddit" in err and url.split("?")[0] in err
    assert _stored(cfg) == []
    # the media link of a stored post names that post: muting it mutes the post
    code, out, _ = _run(cfg, capsys, "mute", "https://v.redd.it/k3y9x")
    assert (code, out) == (0, 'mute: https://v.redd.it/k3y9x — "A video post"\n')


def test_feedback_output_carries_no_control_characters_from_a_feed_title(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = _run(cfg, capsys, "like", NEWS)
    assert out == f'like: {NEWS} — "Agent [2J]0;pwned news"\n'
    with SQLiteStore(Path(cfg).parent / "d.db") as store:
        store.add_feedback("mute", "spam\x1b[31m", T)  # as an old mbox import stored it
    _, out, _ = _run(cfg, capsys, "list")
    assert not any(c in out for c in "\x1b\x07\x9b")
    assert '"Agent [2J]0;pwned news"' in out and "mute     spam[31m" in out
