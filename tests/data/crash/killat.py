"""Run the digest CLI, SIGKILLing itself at one chosen point: a test-side hook, not product code.

usage: killat.py [before|after] METHOD ARGS...   (METHOD of digest.store.SQLiteStore, e.g. mark_sent)

`before` dies just before the method runs (nothing of it written), `after` just after it returned (its
transaction committed). Used by tests/test_crash.py to hit windows a signal from outside cannot aim at.
"""

import os
import signal
import sys

from digest.cli import main
from digest.store import SQLiteStore

when, method, args = sys.argv[1], sys.argv[2], sys.argv[3:]
original = getattr(SQLiteStore, method)


def die_around(self, *a, **k):  # type: ignore[no-untyped-def]
    if when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    out = original(self, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
    return out


setattr(SQLiteStore, method, die_around)
sys.exit(main(args))
