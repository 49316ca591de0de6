"""Error hierarchy; each maps to one exit code in the CLI and prints as one line."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class DigestError(Exception):
    """Base of every error the CLI reports as one line instead of a traceback."""

    exit_code = 1


class ConfigError(DigestError):
    """The config file or a value in it is wrong; the message names the file and key path."""

    exit_code = 2


class InputError(DigestError):
    """A command-line argument or input file is wrong (bad week string, malformed item line)."""

    exit_code = 2


class NothingStoredError(InputError):
    """No item is stored for the week asked for: there is nothing to build an issue from."""


class StorageError(DigestError):
    """The SQLite store is corrupt, locked, full or unwritable; nothing was overwritten."""

    exit_code = 4


class DeliveryError(DigestError):
    """SMTP delivery failed; the issue stays unsent in the ledger so the next run retries."""

    exit_code = 5


class LockedError(DigestError):
    """Another digest run holds the lock."""

    exit_code = 6


class ModelError(DigestError):
    """The embedding model cannot be loaded."""

    exit_code = 7


@contextmanager
def watch_interrupts() -> Iterator[list[bool]]:
    """Ctrl-C raises KeyboardInterrupt as usual and is also noted in the yielded list, so an error that
    a library raised after catching the interrupt (an import cut off half-way ends as an ImportError,
    which once read "needs sentence-transformers: pip install …") can still be reported as Ctrl-C.
    """
    seen: list[bool] = []

    def on_sigint(_signum: int, _frame: Any) -> None:
        seen.append(True)
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()  # only there can a handler be set
    previous = signal.signal(signal.SIGINT, on_sigint) if main else None
    try:
        yield seen
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def say(line: str) -> None:
    """One line on stderr, as every error and warning of the CLI is printed."""
    print(f"digest: {line}", file=sys.stderr)


def warn(line: str) -> None:
    """A warning: something was skipped, the command goes on."""
    say(f"warning: {line}")
