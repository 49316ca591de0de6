"""Crash safety and scheduling: real `digest run` processes SIGKILLed during collect, build and send.

Each scenario runs `python -m digest run --week 2026-W06` as a subprocess against the replay server and a
real aiosmtpd server, kills it at a chosen point, then checks that the store opens, nothing committed was
lost, and that a re-run finishes the week with exactly one message per recipient. To keep this fast, one
module-scoped run builds a warm store (its embedding cache makes later runs skip most of the model work);
each scenario starts from a copy with the tables it is about cleared.
"""

from __future__ import annotations

import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, shared_path
from crash_helpers import WEEK, Running, Snapshot, digest_cmd, digest_env, run_digest, snapshot
from smtp_helpers import Inbox, running_inbox

KILLAT = DATA / "crash" / "killat.py"
RECIPIENTS = ["reader@example.org", "second@example.org"]


def small_config(replay_url: str, smtp_port: int) -> str:
    """The README's offline example cut down (two arXiv categories, two subreddits, three feeds).

    Still over 512 new items, so the first run takes the embedding progress-bar path (a bar only on a TTY).
    """
    u = replay_url
    return f"""
[store]
path = "digest.db"

[archive]
path = "archive"

[sources.http]
min_interval_s = 0.0

[sources.arxiv]
categories = ["cs.CL", "cs.AI"]
api_url = "{u}/arxiv/api/query"
delay_s = 0.0

[sources.reddit]
subreddits = ["LocalLLaMA", "MachineLearning"]
oauth_url = "{u}"
www_url = "{u}/reddit"
delay_s = 0.0

[sources.rss]
feeds = [
  {{ url = "{u}/hnrss/frontpage?count=100", name = "Hacker News", kind = "hn" }},
  {{ url = "{u}/feeds/kagi-blog.xml", name = "Kagi Blog" }},
  {{ url = "{u}/feeds/logits-and-coffee.xml", name = "Logits and Coffee" }},
]
delay_s = 0.0

[email]
host = "127.0.0.1"
port = {smtp_port}
from = "digest@example.org"
to = {RECIPIENTS!r}
timeout_s = 60.0
retries = 0
"""


@pytest.fixture(scope="module")
def replay() -> Iterator[Any]:
    """A replay server of our own: these tests set fault rules and must not leak them to others."""
    world = shared_path("data", "world-2026-W06")
    sys.path.insert(0, str(world.parents[1] / "replay"))
    from serve import Replay  # type: ignore[import-not-found]

    with Replay(str(world)) as r:
        yield r


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with running_inbox() as server:
        yield server


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    box = smtp_server[0]
    box.messages.clear()
    box.hold, box.dropped = False, 0
    box.arrived.clear()
    box.release.clear()
    return box


@dataclass(frozen=True)
class Warm:
    work: Path
    result: subprocess.CompletedProcess[str]
    snap: Snapshot


@pytest.fixture(scope="module")
def warm(replay: Any, smtp_server: tuple[Inbox, int], tmp_path_factory: pytest.TempPathFactory) -> Warm:
    """One complete `digest run --no-send` (the slow one: it embeds every item)."""
    work = tmp_path_factory.mktemp("warm")
    (work / "digest.toml").write_text(small_config(replay.url, smtp_server[1]))
    result = run_digest(work, "run", "--week", WEEK, "--no-send")
    assert result.returncode == 0, result.stderr
    return Warm(work, result, snapshot(work))


def scenario(tmp: Path, warm: Warm, *, clear: tuple[str, ...], archive: bool = False) -> Path:
    """A copy of the warm store with `clear`ed tables (the embedding cache stays)."""
    work = tmp / "work"
    work.mkdir()
    shutil.copy(warm.work / "digest.toml", work / "digest.toml")
    shutil.copy(warm.work / "digest.db", work / "digest.db")
    if archive:
        shutil.copytree(warm.work / "archive", work / "archive")
    db = sqlite3.connect(work / "digest.db", isolation_level=None)
    for table in clear:
        db.execute(f"DELETE FROM {table}")
    db.close()
    return work


def assert_week_complete(work: Path, warm: Warm, inbox: Inbox) -> None:
    """A re-run finished the week: page archived, every item and ledger row there, all sent."""
    assert (work / "archive" / WEEK / "index.html").is_file()
    assert (work / "archive" / "index.html").is_file()
    snap = snapshot(work)
    assert snap.items == warm.snap.items
    assert snap.issues == 1 and snap.featured == warm.snap.featured > 0
    assert snap.sends == {r: "sent" for r in RECIPIENTS}


ALL_BUT_EMBEDDINGS = ("items", "source_state", "source_runs", "issues", "featured", "sends")


def test_successful_run_is_silent_without_a_tty(warm: Warm) -> None:
    # cron mails whatever a job prints: a run that went well must print nothing at all
    assert warm.result.stdout == "" and warm.result.stderr == ""
    assert warm.snap.items > 512 and warm.snap.issues == 1 and warm.snap.featured == 10


def test_kill_during_collect_loses_nothing_and_a_second_run_is_refused(
    replay: Any, warm: Warm, inbox: Inbox, tmp_path: Path
) -> None:
    work = scenario(tmp_path, warm, clear=ALL_BUT_EMBEDDINGS)
    # hold the last feed's request for 20 s: the process sits mid-collect with earlier sources committed
    replay.set_faults([{"path": "^/feeds/logits-and-coffee", "faults": ["slow:20"]}])
    first = Running(digest_cmd(work, "-v", "run", "--week", WEEK), work)
    try:
        first.wait_line("rss:Kagi Blog:")
        committed = snapshot(work)
        assert committed.items > 512 and committed.issues == 0

        second = run_digest(work, "run", "--week", WEEK, timeout=60)
        assert second.returncode == 6
        assert second.stdout == ""
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {first.proc.pid}" in lines[0] and "digest.db.lock" in lines[0]
    finally:
        first.kill()
    replay.set_faults([])

    after = snapshot(work)
    assert after == committed  # every committed source's items survived the SIGKILL
    rerun = run_digest(work, "run", "--week", WEEK)
    assert rerun.returncode == 0 and rerun.stdout == "" and rerun.stderr == "", rerun.stderr
    assert_week_complete(work, warm, inbox)
    assert inbox.recipients() == sorted(RECIPIENTS)


def test_kill_during_build_then_rerun_completes(warm: Warm, inbox: Inbox, tmp_path: Path) -> None:
    work = scenario(tmp_path, warm, clear=("issues", "featured", "sends"))
    run = Running(digest_cmd(work, "-v", "run", "--week", WEEK), work)
    try:
        run.wait_line(re.compile(r"\d+ items → "))  # clustered; ranking, archive and ledgers are next
    finally:
        run.kill()
    after = snapshot(work)
    assert after.items == warm.snap.items and after.sends == {}
    assert inbox.messages == []

    rerun = run_digest(work, "run", "--week", WEEK)
    assert rerun.returncode == 0, rerun.stderr
    assert_week_complete(work, warm, inbox)
    assert inbox.recipients() == sorted(RECIPIENTS)


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_around_saving_the_issue_keeps_issue_and_featured_ledger_together(
    warm: Warm, tmp_path: Path, when: str
) -> None:
    # before: the archive page is written but the store has no issue; after: the issue is committed.
    # The issue row and the no-repeat ledger must land together: a crash between them used to leave an
    # issue whose stories next week's ranking did not know were already featured (a rebuild found the
    # issue unchanged and never wrote the ledger).
    work = scenario(tmp_path, warm, clear=("issues", "featured", "sends"))
    killed = subprocess.run(
        [sys.executable, str(KILLAT), when, "save_issue", "--config", str(work / "digest.toml"),
         "build", "--week", WEEK],
        cwd=work, env=digest_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (work / "archive" / WEEK / "index.html").is_file()
    snap = snapshot(work)
    assert (snap.issues, snap.featured) == ((0, 0) if when == "before" else (1, warm.snap.featured))

    rebuilt = run_digest(work, "build", "--week", WEEK)
    assert rebuilt.returncode == 0 and rebuilt.stderr == "", rebuilt.stderr
    snap = snapshot(work)
    assert snap.issues == 1 and snap.featured == warm.snap.featured


def test_kill_while_the_server_holds_data_sends_each_recipient_once(
    warm: Warm, inbox: Inbox, tmp_path: Path
) -> None:
    work = scenario(tmp_path, warm, clear=("sends",), archive=True)
    inbox.hold = True
    run = Running(digest_cmd(work, "run", "--week", WEEK), work)
    try:
        assert inbox.arrived.wait(180), f"no DATA arrived: {run.seen}"
        assert snapshot(work).sends == {RECIPIENTS[0]: "sending"}
    finally:
        run.kill()
    time.sleep(0.5)  # let the server notice the connection is gone
    inbox.release.set()
    deadline = time.monotonic() + 10
    while inbox.dropped == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert inbox.dropped == 1 and inbox.messages == []

    rerun = run_digest(work, "run", "--week", WEEK)
    assert rerun.returncode == 0 and rerun.stderr == "", rerun.stderr
    assert_week_complete(work, warm, inbox)
    assert inbox.recipients() == sorted(RECIPIENTS)  # exactly one message each, across both runs


def test_kill_after_the_250_before_the_ledger_write_resends_with_the_same_message_id(
    warm: Warm, inbox: Inbox, tmp_path: Path
) -> None:
    # The one window no ledger can close: the server accepted (250) but the process died before
    # recording "sent". The next run sends that recipient again, with the same Message-ID.
    work = scenario(tmp_path, warm, clear=("sends",), archive=True)
    killed = subprocess.run(
        [sys.executable, str(KILLAT), "before", "mark_sent", "--config", str(work / "digest.toml"),
         "send", "--week", WEEK],
        cwd=work, env=digest_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert inbox.recipients() == [RECIPIENTS[0]]
    assert snapshot(work).sends == {RECIPIENTS[0]: "sending"}

    rerun = run_digest(work, "run", "--week", WEEK)
    assert rerun.returncode == 0, rerun.stderr
    assert_week_complete(work, warm, inbox)
    assert inbox.recipients() == sorted([RECIPIENTS[0], *RECIPIENTS])
    ids = inbox.message_ids()
    first_ids = [i for (rc, _), i in zip(inbox.messages, ids, strict=True) if rc == [RECIPIENTS[0]]]
    assert len(first_ids) == 2 and first_ids[0] == first_ids[1]
