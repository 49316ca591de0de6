"""Running real `digest` processes for the crash tests: cron-like subprocesses and store snapshots."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import ROOT

from digest.store import SQLiteStore

WEEK = "2026-W06"


def digest_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def digest_cmd(work: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "digest", "--config", str(work / "digest.toml"), *args]


def run_digest(work: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A whole `digest` process, stdin/stdout/stderr not a TTY, as under cron."""
    return subprocess.run(
        digest_cmd(work, *args),
        cwd=work,
        env=digest_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class Running:
    """A `digest` process whose stderr lines are read on a thread, so a test can wait for one."""

    def __init__(self, cmd: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=digest_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, prefix: str | re.Pattern[str], timeout: float = 180) -> str:
        """The first stderr line starting with `prefix` (or matching it, for a pattern)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"digest exited {self.proc.returncode}: {self.seen}"
                continue
            self.seen.append(line)
            if line.startswith(prefix) if isinstance(prefix, str) else prefix.match(line):
                return line
        raise AssertionError(f"no stderr line starting {prefix!r} within {timeout}s: {self.seen}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL


@dataclass(frozen=True)
class Snapshot:
    items: int
    issues: int
    featured: int
    sends: dict[str, str]


def snapshot(work: Path) -> Snapshot:
    """Open the store as the product does (this also proves it opens) and count what is committed."""
    with SQLiteStore(work / "digest.db") as store:
        store.check()
        return Snapshot(
            items=store.count_items(),
            issues=len(store.issue_weeks()),
            featured=int(
                store.db.execute("SELECT COUNT(*) FROM featured WHERE week=?", (WEEK,)).fetchone()[0]
            ),
            sends=dict(store.sends(WEEK)),
        )
