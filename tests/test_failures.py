"""Faults a cron job meets: corrupt, locked or full database, missing model, unwritable archive, dead SMTP.

Each is driven through the CLI and must give its documented exit code, one line on stderr naming the file
(or key), and leave what was stored intact. The store starts from a small real collect of the replay world
(Hacker News and one blog), built once per module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROOT, free_port

from digest.cli import main
from digest.store import SQLiteStore

WEEK = "2026-W06"


def feeds_config(replay_url: str, *, extra: str = "", arxiv: bool = False, smtp_port: int = 9) -> str:
    """Two feeds of the replay world (arXiv cs.CL too with `arxiv`); Reddit off; fast HTTP."""
    u = replay_url
    return f"""
[store]
path = "digest.db"

[archive]
path = "archive"

[sources.http]
min_interval_s = 0.0
retries = 0

[sources.arxiv]
enabled = {str(arxiv).lower()}
categories = ["cs.CL"]
api_url = "{u}/arxiv/api/query"
delay_s = 0.0

[sources.reddit]
enabled = false

[sources.rss]
feeds = [
  {{ url = "{u}/hnrss/frontpage?count=100", name = "Hacker News", kind = "hn" }},
  {{ url = "{u}/feeds/kagi-blog.xml", name = "Kagi Blog" }},
]
delay_s = 0.0

[email]
host = "127.0.0.1"
port = {smtp_port}
from = "digest@example.org"
to = ["reader@example.org"]
retries = 0
timeout_s = 10.0
{extra}
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digest: "), err
    assert "Traceback" not in err
    return lines[0]


def counts(db: Path) -> tuple[int, list[str]]:
    """Items and issue weeks stored; opening and checking the store also proves it is intact."""
    with SQLiteStore(db) as store:
        store.check()
        return store.count_items(), store.issue_weeks()


@dataclass(frozen=True)
class Populated:
    work: Path
    items: int


@pytest.fixture(scope="module")
def populated(replay_w06: Any, tmp_path_factory: pytest.TempPathFactory) -> Populated:
    """A store with the week's Hacker News and Kagi items and the built issue (no send)."""
    work = tmp_path_factory.mktemp("populated")
    (work / "digest.toml").write_text(feeds_config(replay_w06.url))
    cfg = str(work / "digest.toml")
    assert main(["--config", cfg, "run", "--week", WEEK, "--no-send"]) == 0
    with SQLiteStore(work / "digest.db") as store:
        n = store.count_items()
    assert n > 40
    return Populated(work, n)


def copy_of(populated: Populated, tmp: Path, config: str | None = None) -> Path:
    work = tmp / "w"
    work.mkdir()
    shutil.copy(populated.work / "digest.db", work / "digest.db")
    (work / "digest.toml").write_text(config or (populated.work / "digest.toml").read_text())
    return work


def test_garbage_database_is_exit_4_naming_the_file_and_left_untouched(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_of(populated, tmp_path)
    db = work / "digest.db"
    db.write_bytes(b"this is not an SQLite file\n" * 400)
    before = sha(db)
    assert main(["--config", str(work / "digest.toml"), "run", "--week", WEEK, "--no-send"]) == 4
    line = one_line(capsys)
    assert str(db) in line and "not a readable digest database" in line
    assert sha(db) == before


def test_damaged_pages_are_exit_4_and_the_file_is_not_rewritten(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_of(populated, tmp_path)
    db = work / "digest.db"
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    raw[page:] = bytes((i * 7 + 3) % 256 for i in range(len(raw) - page))  # every page but the header's
    db.write_bytes(bytes(raw))
    before = sha(db)
    assert main(["--config", str(work / "digest.toml"), "run", "--week", WEEK, "--no-send"]) == 4
    line = one_line(capsys)
    assert str(db) in line
    assert sha(db) == before


def test_locked_database_is_exit_4_and_the_holders_write_survives(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_of(populated, tmp_path)
    db = work / "digest.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO feedback (kind, target, at) VALUES ('like', 'held', '2026-02-09T00:00:00')")
    try:
        # the store waits its 10 s busy timeout, then gives up with one line
        assert main(["--config", str(work / "digest.toml"), "collect", "--week", WEEK]) == 4
    finally:
        holder.execute("COMMIT")
        holder.close()
    line = one_line(capsys)
    assert str(db) in line and "locked" in line
    with SQLiteStore(db) as store:
        assert store.count_items() == populated.items
        assert [f.target for f in store.feedback()] == ["held"]


def test_full_disk_is_exit_4_and_nothing_stored_is_lost(populated: Populated, tmp_path: Path) -> None:
    # RLIMIT_FSIZE makes every write past 64 KiB fail with EFBIG (SIGXFSZ ignored), as a full disk
    # would: arXiv's 300 new items cannot fit in the write-ahead log.
    work = copy_of(populated, tmp_path, feeds_config(_url(populated), arxiv=True))
    db = work / "digest.db"
    proc = subprocess.run(
        [sys.executable, str(DATA / "crash" / "fsize.py"), str(64 * 1024),
         "--config", str(work / "digest.toml"), "collect", "--week", WEEK],
        cwd=work, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and "cannot write" in lines[0], proc.stderr
    items, weeks = counts(db)
    assert items == populated.items and weeks == [WEEK]


def _url(populated: Populated) -> str:
    text = (populated.work / "digest.toml").read_text()
    return text.split('api_url = "', 1)[1].split("/arxiv/", 1)[0]


def test_missing_model_is_exit_7_naming_the_path_and_the_store_is_untouched(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = feeds_config(_url(populated), extra='\n[embed]\nmodel = "/nonexistent/path"\n')
    work = copy_of(populated, tmp_path, config)
    db = work / "digest.db"
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM issues")  # so a build would have something to write
    before = sha(db)
    assert main(["--config", str(work / "digest.toml"), "build", "--week", WEEK]) == 7
    line = one_line(capsys)
    assert "/nonexistent/path" in line and "embed.model" in line
    assert sha(db) == before
    assert not (work / "archive").exists()


def test_missing_model_in_run_is_exit_7_before_any_work(
    populated: Populated, replay_w06: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `run` checks the model before it collects: nothing fetched, no issue recorded, nothing sent
    config = feeds_config(_url(populated), extra='\n[embed]\nmodel = "/nonexistent/path"\n')
    work = copy_of(populated, tmp_path, config)
    with sqlite3.connect(work / "digest.db") as c:
        c.execute("DELETE FROM issues")
    before = len(replay_w06.requests)
    assert main(["--config", str(work / "digest.toml"), "run", "--week", WEEK]) == 7
    assert "/nonexistent/path" in one_line(capsys)
    assert len(replay_w06.requests) == before  # not one source was asked
    items, weeks = counts(work / "digest.db")
    assert items == populated.items and weeks == []
    with SQLiteStore(work / "digest.db") as store:
        assert store.sends(WEEK) == []


def test_unwritable_archive_is_one_line_and_no_issue_is_recorded(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the archive path runs through a regular file: unwritable even for root, where chmod is no test
    config = feeds_config(_url(populated)).replace('path = "archive"', 'path = "blocker/archive"')
    work = copy_of(populated, tmp_path, config)
    (work / "blocker").write_text("a file, not a folder\n")
    with sqlite3.connect(work / "digest.db") as c:
        c.execute("DELETE FROM issues")
        c.execute("DELETE FROM featured")
    assert main(["--config", str(work / "digest.toml"), "run", "--week", WEEK, "--no-send"]) == 4
    line = one_line(capsys)
    assert str(work / "blocker" / "archive") in line and "cannot write archive file" in line
    items, weeks = counts(work / "digest.db")
    assert items == populated.items and weeks == []  # not recorded, so the next run builds and sends it


def _every_source_failing(populated: Populated, tmp: Path) -> Path:
    """A copy of the populated store whose config points both feeds at failures (a 500, a 404)."""
    config = feeds_config(_url(populated)).replace(
        "/hnrss/frontpage?count=100", "/hnrss/frontpage?_fault=500"
    )
    config = config.replace("/feeds/kagi-blog.xml", "/feeds/no-such-blog.xml")
    return copy_of(populated, tmp, config)


def test_every_source_failing_makes_run_exit_3(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = _every_source_failing(populated, tmp_path)
    assert main(["--config", str(work / "digest.toml"), "run", "--week", WEEK, "--no-send"]) == 3
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 2, err
    assert all(x.startswith("digest: warning: source ") for x in lines)
    assert (work / "archive" / WEEK / "index.html").is_file()  # the stored items still make the issue


def test_a_week_with_nothing_stored_builds_no_issue(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty "quiet week" issue after an outage would be archived, put in the feed and mailed."""
    work = _every_source_failing(populated, tmp_path)
    cfg, week = str(work / "digest.toml"), "2026-W07"  # the store holds only W06
    assert main(["--config", cfg, "run", "--week", week]) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and f"no issue for {week}: every source failed" in lines[-1]
    assert main(["--config", cfg, "build", "--week", week]) == 2
    line = one_line(capsys)
    assert f"no items stored for {week}" in line and f"digest collect --week {week}" in line
    assert not (work / "archive" / week).exists()
    assert counts(work / "digest.db") == (populated.items, [WEEK])


def test_unreachable_smtp_is_exit_5_and_the_next_send_delivers(
    populated: Populated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aiosmtpd.controller import Controller

    port = free_port()  # nothing listens here yet
    work = copy_of(populated, tmp_path, feeds_config(_url(populated), smtp_port=port))
    cfg = str(work / "digest.toml")
    assert main(["--config", cfg, "send", "--week", WEEK]) == 5
    line = one_line(capsys)
    assert f"127.0.0.1:{port}" in line
    with SQLiteStore(work / "digest.db") as store:
        assert store.sends(WEEK) == [("reader@example.org", "failed")]

    got: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(envelope.content)
            return "250 OK"

    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        assert main(["--config", cfg, "send", "--week", WEEK]) == 0
        assert main(["--config", cfg, "send", "--week", WEEK]) == 0
    finally:
        ctl.stop()
    assert len(got) == 1
    assert capsys.readouterr() == ("", "")
