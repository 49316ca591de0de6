"""The run lock: a second run exits with a clear message, or waits; a dead holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest.errors import LockedError
from digest.lock import run_lock

HOLD = (
    "import sys, time; from digest.lock import run_lock\n"
    "with run_lock(sys.argv[1]):\n print('held', flush=True); time.sleep(60)"
)


def _holder(path: Path) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_second_run_exits_with_a_clear_message(tmp_path: Path) -> None:
    lock = tmp_path / "digest.db.lock"
    holder = _holder(lock)
    try:
        with pytest.raises(LockedError) as e, run_lock(lock):
            pass
        assert f"pid {holder.pid}" in str(e.value) and str(lock) in str(e.value)
    finally:
        holder.kill()
        holder.wait()


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "digest.db.lock"
    holder = _holder(lock)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with run_lock(lock):
        assert lock.read_text() == str(os.getpid())


def test_waiting_run_gets_the_lock_when_released(tmp_path: Path) -> None:
    lock = tmp_path / "digest.db.lock"
    holder = _holder(lock)
    t0 = time.monotonic()
    subprocess.Popen(["sh", "-c", f"sleep 0.5; kill {holder.pid}"])
    with run_lock(lock, wait_s=10):
        waited = time.monotonic() - t0
    holder.wait()
    assert 0.3 < waited < 10
