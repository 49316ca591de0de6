"""Shared test set-up: offline model loading, the ../shared folder, and pytest's "no tests" exit code."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # pytest exits 5 when no test ran (every test deselected or filtered out); that is not a failure.
    if exitstatus == 5:
        session.exitstatus = 0


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (aiosmtpd's Controller cannot start on port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (the recorded data beside the checkout), which is absent")
    return p


@pytest.fixture(scope="session")
def replay_w06() -> Iterator[object]:
    """The replay server on 127.0.0.1 serving the recorded world 2026-W06 (real HTTP)."""
    world = shared_path("data", "world-2026-W06")
    sys.path.insert(0, str(SHARED / "replay"))
    from serve import Replay  # type: ignore[import-not-found]

    with Replay(str(world)) as r:
        yield r
