"""A run lock so two cron runs never overlap: an flock on a file beside the store.

The kernel drops an flock when its process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.errors import LockedError, StorageError


@contextmanager
def run_lock(path: str | Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on `path`; wait up to `wait_s` seconds, then raise LockedError."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StorageError(f"{p}: cannot open lock file: {e.strerror}") from None
    try:
        deadline = time.monotonic() + max(wait_s, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    raise LockedError(
                        f"{p}: another digest run holds the lock (pid {holder}); not starting a second one"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
