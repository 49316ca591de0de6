"""The SQLite store: all SQL of the project lives here; migrations by PRAGMA user_version.

Tables: items (upserted by stable key), embeddings (by model and content hash), source_state and
source_runs (per-source bookkeeping and health), issues, featured (the no-repeat ledger), sends (the
send ledger), feedback, feeds (imported from OPML). Every write is one transaction, so a process killed at
any point leaves the previous committed state intact (WAL journal). The tables of what was issued, sent
and judged are read and written in store_ledgers.py, which SQLiteStore inherits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from digest.config import FeedConfig
from digest.errors import StorageError
from digest.models import Item, SourceResult
from digest.schema import explain, immediate, link_forms, migrate
from digest.store_ledgers import LedgerTables, _iso, _now
from digest.urls import canonical_url


class SQLiteStore(LedgerTables):
    """One SQLite file; open with `SQLiteStore(path)`, close with `.close()` or a `with` block."""

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            parent = Path(self.path).parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageError(f"{self.path}: cannot create folder {parent}: {e.strerror}") from None
        try:
            self.db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as e:
            raise StorageError(explain(self.path, e)) from None

    # -- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with immediate(self.db) as db:
                yield db
        except sqlite3.Error as e:
            raise StorageError(explain(self.path, e)) from None

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise StorageError(explain(self.path, e)) from None

    def _migrate(self) -> None:
        migrate(self.db, self.path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._query("PRAGMA user_version")[0][0])

    def check(self) -> None:
        """Full integrity check; raises StorageError on a damaged file."""
        rows = self._query("PRAGMA quick_check")
        if rows and rows[0][0] != "ok":
            raise StorageError(f"{self.path}: integrity check failed: {rows[0][0]}")

    # -- items ---------------------------------------------------------------------------------
    def upsert_items(self, items: Iterable[Item]) -> int:
        """Insert or update items by key; returns how many keys were new. Idempotent."""
        with self._tx() as db:
            return self._upsert(db, items)

    def _upsert(self, db: sqlite3.Connection, items: Iterable[Item]) -> int:
        now = _now()
        new = 0
        for it in items:
            row = (
                it.key, it.source, it.url, it.title, it.text, _iso(it.published), _iso(it.updated),
                json.dumps(list(it.authors)), json.dumps(list(it.categories)),
                json.dumps(dict(it.metrics), sort_keys=True), json.dumps(list(it.links)),
                it.feed, it.comment, it.content_hash, now, now, canonical_url(it.url),
            )  # fmt: skip
            cur = db.execute(
                "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO NOTHING",
                row,
            )
            if cur.rowcount:
                new += 1
            else:  # a re-read replaces what the source says now, and last_seen dates its metrics
                db.execute(
                    """UPDATE items SET source=?, url=?, title=?, text=?, published=?, updated=?, authors=?,
                    categories=?, metrics=?, links=?, feed=?, comment=?, content_hash=?, last_seen=?, canon=?
                    WHERE key=?""",
                    (*row[1:14], now, row[16], it.key),
                )
                db.execute("DELETE FROM item_links WHERE key = ?", (it.key,))
            db.executemany(
                "INSERT OR IGNORE INTO item_links (link, key) VALUES (?, ?)",
                [(u, it.key) for u in link_forms(it.links)],
            )
        return new

    @staticmethod
    def _row_item(r: Sequence[Any]) -> Item:
        return Item(
            key=r[0], source=r[1], url=r[2], title=r[3], text=r[4], published=datetime.fromisoformat(r[5]),
            updated=datetime.fromisoformat(r[6]) if r[6] else None, authors=tuple(json.loads(r[7])),
            categories=tuple(json.loads(r[8])), metrics=json.loads(r[9]), links=tuple(json.loads(r[10])),
            feed=r[11], comment=r[12], seen=datetime.fromisoformat(r[13]),
        )  # fmt: skip

    _ITEM_COLS = (
        "key, source, url, title, text, published, updated, authors, categories, metrics, links, "
        "feed, comment, last_seen"
    )

    def items_between(
        self, start: datetime, end: datetime, source: str | None = None, stored_after: datetime | None = None
    ) -> list[Item]:
        """Items published in [start, end), oldest first, optionally of one source, optionally only those
        first stored after `stored_after` (a week's late arrivals)."""
        sql = f"SELECT {self._ITEM_COLS} FROM items WHERE published >= ? AND published < ?"
        params: list[Any] = [_iso(start), _iso(end)]
        if source:
            sql += " AND (source = ? OR feed = ?)"
            params += [source, source]
        if stored_after is not None:
            sql += " AND first_seen > ?"  # first_seen is written to the second, so compare at that
            params.append(stored_after.astimezone(timezone.utc).isoformat(timespec="seconds"))
        sql += " ORDER BY published, key"
        return [self._row_item(r) for r in self._query(sql, params)]

    def each_item(self, batch: int = 1000) -> Iterator[Item]:
        """Every stored item, oldest first, read `batch` rows at a time (`digest export` of a year's store
        held all 80,000 items in memory, 306 MB, before writing the first line)."""
        try:
            cur = self.db.execute(f"SELECT {self._ITEM_COLS} FROM items ORDER BY published, key")
            while rows := cur.fetchmany(batch):
                yield from (self._row_item(r) for r in rows)
        except sqlite3.Error as e:
            raise StorageError(explain(self.path, e)) from None

    def item_keys_nocase(self, key: str) -> list[str]:
        """Stored item keys equal to `key` in any (ASCII) case, at most two: enough to tell one from many.
        For feedback targets typed by hand ("rss:ainews:…" for "rss:AINews:…")."""
        return [
            r[0] for r in self._query("SELECT key FROM items WHERE key = ? COLLATE NOCASE LIMIT 2", (key,))
        ]

    def items_by_keys(self, keys: Iterable[str]) -> dict[str, Item]:
        out: dict[str, Item] = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._query(f"SELECT {self._ITEM_COLS} FROM items WHERE key IN ({marks})", chunk):
                out[r[0]] = self._row_item(r)
        return out

    def find_items(self, needle: str) -> list[Item]:
        """Items that `needle` names (for feedback targets and liked references), each way by an index:
        those whose key, URL or canonical URL it is, in the order stored; else those that link to it (as
        given or in canonical form). At most 20. A stored URL keeps the spelling its source gave
        ("https://www.anthropic.com/news/…"), a target is canonical ("https://anthropic.com/news/…")."""
        own = (
            "rowid IN (SELECT rowid FROM items WHERE key = ? UNION SELECT rowid FROM items WHERE url = ? "
            "UNION SELECT rowid FROM items WHERE canon = ?) ORDER BY rowid LIMIT 20"
        )
        linking = "key IN (SELECT key FROM item_links WHERE link = ?) ORDER BY rowid LIMIT 20"
        for where, args in ((own, (needle, needle, needle)), (linking, (needle,))):
            rows = self._query(f"SELECT {self._ITEM_COLS} FROM items WHERE {where}", args)
            if rows:
                return [self._row_item(r) for r in rows]
        return []

    def source_names(self) -> list[str]:
        """Every source and feed name that stored items carry, sorted (for `export --source`)."""
        rows = self._query("SELECT source FROM items UNION SELECT feed FROM items WHERE feed != ''")
        return sorted(str(r[0]) for r in rows)

    def count_items(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM items")[0][0])

    # -- embeddings (implements digest.embed.EmbeddingCache) -------------------------------------
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hashes = list(dict.fromkeys(hashes))
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._query(
                f"SELECT hash, dim, vec FROM embeddings WHERE model = ? AND hash IN ({marks})",
                [model, *chunk],
            )
            for h, dim, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:
                    out[h] = vec
        return out

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?,?,?,?)",
                [
                    (model, h, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                    for h, v in vectors.items()
                ],
            )

    # -- sources -------------------------------------------------------------------------------
    def get_state(self, name: str) -> dict[str, str]:
        rows = self._query("SELECT state FROM source_state WHERE name = ?", (name,))
        return dict(json.loads(rows[0][0])) if rows else {}

    def save_source_result(self, week: str, result: SourceResult) -> int:
        """Store a source's items, state and health in one transaction; returns the new-item count.

        One transaction means a crash leaves either all of this source's run or none of it, so the
        state (ETag, newest date) never runs ahead of the items it describes.
        """
        now = _now()
        with self._tx() as db:
            new = self._upsert(db, result.items)
            if result.state:
                db.execute(
                    "INSERT OR REPLACE INTO source_state VALUES (?,?,?)",
                    (result.name, json.dumps(dict(result.state), sort_keys=True), now),
                )
            db.execute(
                "INSERT INTO source_runs (week, name, at, fetched, new, errors, fallback, requests,"
                " not_modified) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    week,
                    result.name,
                    now,
                    result.fetched,
                    new,
                    json.dumps(list(result.errors)),
                    result.fallback,
                    result.requests,
                    int(result.not_modified),
                ),
            )
        return new

    def latest_runs(self, week: str) -> list[SourceResult]:
        """The most recent run of each source recorded for `week`."""
        rows = self._query(
            """SELECT name, fetched, new, errors, fallback, requests, not_modified FROM source_runs
            WHERE id IN (SELECT MAX(id) FROM source_runs WHERE week = ? GROUP BY name) ORDER BY name""",
            (week,),
        )
        return [
            SourceResult(
                name=r[0],
                fetched=r[1],
                new=r[2],
                errors=tuple(json.loads(r[3])),
                fallback=r[4],
                requests=r[5],
                not_modified=bool(r[6]),
            )
            for r in rows
        ]

    # -- feeds imported from OPML ----------------------------------------------------------------
    def add_feeds(self, feeds: Iterable[FeedConfig]) -> int:
        added = 0
        with self._tx() as db:
            for f in feeds:
                cur = db.execute(
                    "INSERT INTO feeds VALUES (?,?,?,?,?) ON CONFLICT(url) DO NOTHING",
                    (f.url, f.name, f.weight, f.kind, _now()),
                )
                added += cur.rowcount
        return added

    def feeds(self) -> list[FeedConfig]:
        rows = self._query("SELECT url, name, weight, kind FROM feeds ORDER BY name, url")
        return [FeedConfig(url=r[0], name=r[1], weight=r[2], kind=r[3]) for r in rows]
