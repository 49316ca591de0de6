"""The command line: every command answers --help, feeds and feedback round-trip through a real store,
and the file-based stages read and write item lines."""

from __future__ import annotations

import json
import mailbox
import sys
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from sources_helpers import Reply, fixture_bytes, stub_server

from digest.cli import COMMANDS, main
from digest.feedback import feedback_links
from digest.models import Item
from digest.store import SQLiteStore

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    p = tmp_path / "digest.toml"
    p.write_text('[store]\npath = "d.db"\n[archive]\npath = "site"\n')
    return str(p)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert f"usage: digest {command}" in capsys.readouterr().out


def test_feeds_import_then_list(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", cfg, "feeds", "import", str(DATA / "sources" / "feeds.opml")]) == 0
    out = capsys.readouterr().out
    # two of its three feeds are default feeds already: "added" counts only what `feeds list` gains
    assert "3 feeds read, 1 added, 2 already known, 0 skipped" in out
    assert main(["--config", cfg, "feeds", "import", str(DATA / "sources" / "feeds.opml")]) == 0
    assert "3 feeds read, 0 added, 3 already known" in capsys.readouterr().out  # twice adds nothing
    assert main(["--config", cfg, "feeds", "list"]) == 0
    listed = capsys.readouterr().out
    assert "https://hnrss.org/newest?points=100" in listed and "Hugging Face" in listed
    assert main(["--config", cfg, "feeds", "import", str(DATA / "sources" / "broken.opml")]) == 2
    assert "broken.opml" in capsys.readouterr().err


def test_config_and_verbose_work_before_or_after_the_command(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`digest feeds import --config x.toml FILE` is what people type; it must use x.toml."""
    opml = str(DATA / "sources" / "feeds.opml")
    assert main(["feeds", "import", opml, "--config", cfg]) == 0
    assert "feeds read" in capsys.readouterr().out
    assert (Path(cfg).parent / "d.db").exists()  # the store the config names, not ./digest.db
    assert main(["-v", "--config", cfg, "feeds", "list"]) == 0  # given before: not reset after
    assert "Hugging Face" in capsys.readouterr().out
    assert main(["feeds", "list", "--config", str(Path(cfg).parent / "missing.toml")]) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_export_of_an_unknown_source_and_serve_on_a_bad_port_are_one_line(
    cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    opml = str(DATA / "sources" / "feeds.opml")
    assert main(["--config", cfg, "feeds", "import", opml]) == 0  # creates the store
    capsys.readouterr()
    assert main(["--config", cfg, "export", "--source", "arxive"]) == 2  # a typo, not "no items"
    err = capsys.readouterr().err
    assert "--source" in err and "'arxive'" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        main(["--config", cfg, "serve", "--port", "99999"])
    assert e.value.code == 2
    assert "'99999' is not a TCP port" in capsys.readouterr().err


def test_feedback_from_the_command_line_and_from_mail_replies(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", cfg, "feedback", "like", "https://arxiv.org/pdf/2602.02276v2"]) == 0
    assert main(["--config", cfg, "feedback", "like", "arXiv:2602.02276"]) == 0
    assert "already stored" in capsys.readouterr().out  # v1/v2/pdf/abs are one paper
    # a reply made by clicking the email's "mute" link, as a mail client would send it
    link = feedback_links("reddit:1qwgz6i", "digest@example.org", "2026-W06")["mute"]
    from urllib.parse import parse_qs, unquote, urlsplit

    q = parse_qs(urlsplit(link).query)
    msg = EmailMessage()
    msg["From"] = "reader@example.org"
    msg["To"] = unquote(urlsplit(link).path)
    msg["Subject"] = q["subject"][0]
    msg.set_content(q["body"][0])
    box = mailbox.mbox(str(tmp_path / "replies.mbox"))
    box.add(msg)
    box.flush()
    # only the digest's recipients' replies count
    Path(cfg).write_text(Path(cfg).read_text() + '[email]\nto = ["reader@example.org"]\n')
    assert main(["--config", cfg, "feedback", "import", str(tmp_path / "replies.mbox")]) == 0
    assert "1 judgements read, 1 new" in capsys.readouterr().out
    assert main(["--config", cfg, "feedback", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [ln.split()[1:] for ln in listed] == [["like", "arxiv:2602.02276"], ["mute", "reddit:1qwgz6i"]]


def test_feedback_says_what_it_judged(cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stored item is named by its title (its URL as the blog spelled it); an unknown one is flagged."""
    with SQLiteStore(tmp_path / "d.db") as store:
        blog = "https://www.anthropic.com/news/claude-opus-4-6"
        now = datetime.now(timezone.utc)
        store.upsert_items(
            [Item(key="rss:1", source="rss", url=blog, title="Claude Opus 4.6", text="", published=now)]
        )
    said = []
    for args in (
        ["like", "anthropic.com/news/claude-opus-4-6"],
        ["dislike", "arXiv:2602.99999"],
        ["mute", "crypto"],
        ["mute", "https://www.spam.example/a"],
    ):
        assert main(["--config", cfg, "feedback", *args]) == 0
        said.append(capsys.readouterr().out.strip())
    assert said == [
        'like: https://anthropic.com/news/claude-opus-4-6 — "Claude Opus 4.6"',
        "dislike: arxiv:2602.99999 — not in the store: it counts once an item by that id or URL is collected",
        "mute: crypto — every item containing it",
        "mute: https://spam.example/a — everything from spam.example",
    ]
    assert main(["--config", cfg, "feedback", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].endswith('like     https://anthropic.com/news/claude-opus-4-6  "Claude Opus 4.6"')
    assert listed[1].endswith("dislike  arxiv:2602.99999")  # nothing stored: no title to show


def test_cluster_and_rank_commands_write_item_lines(cfg: str, tmp_path: Path) -> None:
    stories = tmp_path / "stories.jsonl"
    assert (
        main(
            [
                "--config",
                cfg,
                "cluster",
                "--input",
                str(DATA / "dedup" / "week.jsonl"),
                "--output",
                str(stories),
            ]
        )
        == 0
    )
    ids_in = [
        json.loads(ln)["id"] for ln in (DATA / "dedup" / "week.jsonl").read_text().splitlines() if ln.strip()
    ]
    out = [json.loads(ln) for ln in stories.read_text().splitlines()]
    assert sorted(o["id"] for o in out) == sorted(ids_in) and all(o["story"] for o in out)
    ranked = tmp_path / "ranked.jsonl"
    items = DATA / "rank" / "items.jsonl"
    assert main(["--config", cfg, "rank", "--input", str(items), "--output", str(ranked), "--top", "3"]) == 0
    lines = [json.loads(ln) for ln in ranked.read_text().splitlines()]
    assert len(lines) == 3
    assert [ln["score"] for ln in lines] == sorted((ln["score"] for ln in lines), reverse=True)
    assert all(ln["reasons"] for ln in lines)


def test_bad_input_files_are_one_line(cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "x"}\nnot json\n')
    assert main(["--config", cfg, "cluster", "--input", str(bad), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "bad.jsonl" in err
    assert main(["--config", cfg, "rank", "--input", str(tmp_path / "missing.jsonl"), "--output", "o"]) == 2
    assert "missing.jsonl" in capsys.readouterr().err


def test_collect_shows_each_source_at_a_terminal_and_only_failures_in_cron(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source can take minutes (arXiv pages at 3 s): at a terminal each source's line shows as it
    finishes, then the totals; cron's mail gets only the failed source. (`isatty` is patched.)"""
    server = stub_server()
    stub = next(server)
    stub.routes["/hn"] = [Reply(200, fixture_bytes("hnrss.xml"), {"Content-Type": "application/rss+xml"})]
    stub.routes["/down"] = [Reply(500, b"")]
    cfg = tmp_path / "digest.toml"
    cfg.write_text(
        '[store]\npath = "d.db"\n[sources.http]\nbackoff_s = 0.0\nmin_interval_s = 0.0\nretries = 0\n'
        "[sources.arxiv]\nenabled = false\n[sources.reddit]\nenabled = false\n[sources.rss]\ndelay_s = 0.0\n"
        f'feeds = [{{ url = "{stub.url}/hn", name = "HN", kind = "hn" }},\n'
        f'         {{ url = "{stub.url}/down", name = "Down" }}]\n'
    )
    try:
        assert main(["--config", str(cfg), "collect", "--week", "2026-W06"]) == 0
        cron = capsys.readouterr().err.splitlines()
        monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
        assert main(["--config", str(cfg), "collect", "--week", "2026-W06"]) == 0
        tty = capsys.readouterr().err.splitlines()
    finally:
        next(server, None)
    assert len(cron) == 1 and cron[0].startswith("digest: warning: source rss:Down failed: ")
    assert tty[0] == "hn:HN: fetched 2, new 0, ok"
    assert tty[1] == "rss:Down: fetched 0, new 0, failed"  # the detail is the warning line below
    assert tty[2] == "collected 0 new items from 2 sources; 1 failed"  # the second run finds nothing new
    assert tty[3:] == cron


def test_run_with_an_empty_profile_fails_before_fetching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = stub_server()
    stub = next(server)
    stub.routes["/hn"] = [Reply(200, fixture_bytes("hnrss.xml"), {"Content-Type": "application/rss+xml"})]
    cfg = tmp_path / "digest.toml"
    cfg.write_text(
        '[store]\npath = "d.db"\n[profile]\ninterests = []\n'
        "[sources.arxiv]\nenabled = false\n[sources.reddit]\nenabled = false\n"
        f'[sources.rss]\nfeeds = [{{ url = "{stub.url}/hn", name = "HN", kind = "hn" }}]\n'
    )
    try:
        assert main(["--config", str(cfg), "run", "--week", "2026-W06", "--no-send"]) == 2
        assert stub.log == []  # nothing fetched
        with_like = ["--config", str(cfg), "feedback", "like", "hn:4242"]
        assert main(with_like) == 0  # a stored like is a profile: the run goes ahead
        assert main(["--config", str(cfg), "run", "--week", "2026-W06", "--no-send"]) == 0
        assert len(stub.log) == 1
    finally:
        next(server, None)
    assert "profile: empty; add profile.interests" in capsys.readouterr().err


def test_a_command_says_its_one_line_summary_on_a_terminal_and_nothing_in_cron(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cron mails whatever a job prints, so a quiet run prints nothing without -v; a person at a terminal
    gets the one line saying where the result went. (The terminal is simulated: `isatty` is patched.)"""
    args = ["--config", cfg, "cluster", "--input", str(DATA / "dedup" / "week.jsonl")]
    assert main([*args, "--output", str(tmp_path / "a.jsonl")]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([*args, "--output", str(tmp_path / "b.jsonl")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "items clustered → " in err and "b.jsonl" in err


def test_ctrl_c_is_exit_130_even_when_a_library_turns_it_into_another_error(
    cfg: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real SIGINT to this process. Where it lands inside a library that catches it and raises its
    own error cannot be timed in a test, so the command here does what such a library does (faked)."""
    import os
    import signal

    from digest.errors import ModelError

    def command(*_: object) -> int:
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            raise ModelError("embedding needs sentence-transformers: pip install …") from None
        return 0

    monkeypatch.setitem(COMMANDS, "build", command)
    assert main(["--config", cfg, "build"]) == 130
    assert capsys.readouterr().err.strip() == "digest: interrupted"
    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setitem(COMMANDS, "build", lambda *_: (_ for _ in ()).throw(ModelError("no model")))
    assert main(["--config", cfg, "build"]) == 7  # the same error without Ctrl-C keeps its code
    assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


def test_output_dash_is_standard_output_and_a_missing_folder_is_made(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "i.jsonl"
    lines = [
        {"id": f"hn:{k}", "source": "hn", "title": t, "url": f"https://x.example/{k}",
         "published": "2026-02-03T10:00:00+00:00"}
        for k, t in enumerate(["Claude Opus 4.6 released", "Claude Opus 4.6 is out", "A bread recipe"])
    ]  # fmt: skip
    items.write_text("".join(json.dumps(x) + "\n" for x in lines))
    for command in ("cluster", "rank"):
        capsys.readouterr()
        assert main(["--config", cfg, command, "--input", str(items), "--output", "-"]) == 0
        got = [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines()]
        assert sorted(got) == ["hn:0", "hn:1", "hn:2"] and not (Path.cwd() / "-").exists()
        deep = tmp_path / "new" / "folder" / f"{command}.jsonl"
        assert main(["--config", cfg, command, "--input", str(items), "--output", str(deep)]) == 0
        assert len(deep.read_text().splitlines()) == 3


def test_an_empty_week_is_an_error_not_every_week(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", cfg, "export", "--week", ""]) == 2
    assert "--week: '' is not an ISO week" in capsys.readouterr().err


def test_exit_3_means_nothing_came_in_not_that_a_source_failed_partway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from digest.cli import _report_sources
    from digest.models import SourceResult

    partway = SourceResult("arxiv", fetched=200, errors=("page from result 200: HTTP 503; kept the 200",))
    down = SourceResult("rss:Down", errors=("HTTP 500",))
    assert _report_sources([partway]) == 0  # 200 papers stored: the issue has them
    assert _report_sources([partway, down]) == 0
    assert _report_sources([down]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "digest: warning: source arxiv failed: page from result 200: HTTP 503; kept the 200"
