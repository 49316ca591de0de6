"""The store's ledger tables: issues, featured (the no-repeat ledger), sends (the send ledger) and
feedback. Part of the store: SQLiteStore inherits these methods, and its connection runs them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.profile import Featured, Feedback


_UNDELIVERED = "SELECT week FROM sends GROUP BY week HAVING SUM(status != 'failed') = 0 ORDER BY week"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(timezone.utc).isoformat()


class LedgerTables:
    """What was issued, featured, sent and judged; SQLiteStore supplies `_tx` and `_query`."""

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    # -- issues --------------------------------------------------------------------------------
    def save_issue(
        self,
        week: str,
        built_at: datetime,
        payload: Mapping[str, Any],
        featured: Iterable[Featured] | None = None,
    ) -> None:
        """Store the issue and, given `featured`, its ledger rows in the same transaction.

        Together, because a crash between two transactions would leave a saved issue without its ledger
        rows, and a rebuild that finds the issue unchanged would never write them.
        """
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO issues VALUES (?,?,?)",
                (week, _iso(built_at), json.dumps(payload, sort_keys=True)),
            )
            if featured is not None:
                self._replace_featured(db, week, featured)

    def get_issue(self, week: str) -> dict[str, Any] | None:
        rows = self._query("SELECT payload FROM issues WHERE week = ?", (week,))
        return json.loads(rows[0][0]) if rows else None

    def issue_weeks(self) -> list[str]:
        return [r[0] for r in self._query("SELECT week FROM issues ORDER BY week")]

    # -- the featured ledger ---------------------------------------------------------------------
    def record_featured(self, week: str, records: Iterable[Featured]) -> None:
        """Replace the ledger rows of `week` (a rebuild of the same week replaces, never adds)."""
        with self._tx() as db:
            self._replace_featured(db, week, records)

    @staticmethod
    def _replace_featured(db: sqlite3.Connection, week: str, records: Iterable[Featured]) -> None:
        db.execute("DELETE FROM featured WHERE week = ?", (week,))
        db.executemany(
            "INSERT OR REPLACE INTO featured VALUES (?,?,?,?,?)",
            [(week, f.story_id, json.dumps(list(f.keys)), f.title, f.fingerprint) for f in records],
        )

    def featured_before(self, week: str) -> list[Featured]:
        from digest.profile import Featured

        # An issue whose every send failed reached nobody: its stories are not "sent" (an issue never
        # mailed, --no-send or no recipients, is published in the archive and counts).
        rows = self._query(
            "SELECT week, story_id, keys, title, fingerprint FROM featured WHERE week < ? "
            f"AND week NOT IN ({_UNDELIVERED}) ORDER BY week",
            (week,),
        )
        return [
            Featured(week=r[0], story_id=r[1], keys=tuple(json.loads(r[2])), title=r[3], fingerprint=r[4])
            for r in rows
        ]

    # -- the send ledger (implements digest.deliver.SendLedger) ----------------------------------
    def send_status(self, week: str, recipient: str) -> str | None:
        rows = self._query("SELECT status FROM sends WHERE week = ? AND recipient = ?", (week, recipient))
        return rows[0][0] if rows else None

    def _set_send(
        self, week: str, recipient: str, status: str, message_id: str = "", error: str = ""
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO sends VALUES (?,?,?,?,?,?)",
                (week, recipient, status, message_id, error, _now()),
            )

    def mark_sending(self, week: str, recipient: str, message_id: str) -> None:
        self._set_send(week, recipient, "sending", message_id)

    def mark_sent(self, week: str, recipient: str, message_id: str) -> None:
        self._set_send(week, recipient, "sent", message_id)

    def mark_failed(self, week: str, recipient: str, error: str) -> None:
        self._set_send(week, recipient, "failed", error=error)

    def undelivered_before(self, week: str) -> list[str]:
        """Earlier weeks whose issue was mailed to nobody: every send of it failed."""
        return [r[0] for r in self._query(f"SELECT week FROM ({_UNDELIVERED}) WHERE week < ?", (week,))]

    def sends(self, week: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self._query(
                "SELECT recipient, status FROM sends WHERE week = ? ORDER BY recipient", (week,)
            )
        ]

    # -- feedback ------------------------------------------------------------------------------
    def add_feedback(self, kind: str, target: str, at: datetime | None = None) -> bool:
        """Store one judgement; returns True when new. The same (kind, target) again is stored once,
        dated by the later of its times: the latest like or dislike on a target is the one that counts, so
        a like given again after a dislike must be the newer (an older copy, such as a reply imported
        twice, moves nothing)."""
        when = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        with self._tx() as db:
            row = db.execute(
                "SELECT at FROM feedback WHERE kind = ? AND target = ?", (kind, target)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO feedback (kind, target, at) VALUES (?,?,?)", (kind, target, _iso(when))
                )
                return True
            if datetime.fromisoformat(row[0]) < when:
                db.execute(
                    "UPDATE feedback SET at = ? WHERE kind = ? AND target = ?", (_iso(when), kind, target)
                )
            return False

    def forget_feedback(self, targets: Iterable[str]) -> list[Feedback]:
        """Delete every judgement on any of `targets` (as stored); returns what was deleted, oldest first."""
        from digest.profile import Feedback

        names = sorted(set(targets))
        if not names:
            return []
        marks = ",".join("?" * len(names))
        with self._tx() as db:
            rows = db.execute(
                f"SELECT kind, target, at FROM feedback WHERE target IN ({marks}) ORDER BY at, id", names
            ).fetchall()
            db.execute(f"DELETE FROM feedback WHERE target IN ({marks})", names)
        return [Feedback(kind=r[0], target=r[1], at=datetime.fromisoformat(r[2])) for r in rows]

    def feedback(self) -> list[Feedback]:
        from digest.profile import Feedback

        return [
            Feedback(kind=r[0], target=r[1], at=datetime.fromisoformat(r[2]))
            for r in self._query("SELECT kind, target, at FROM feedback ORDER BY id")
        ]
