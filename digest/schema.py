"""The store's schema, one SQL script per version (applied by PRAGMA user_version), how a store is
upgraded to the latest, and its error lines."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from digest.errors import StorageError, warn
from digest.urls import canonical_url

SCHEMA_VERSION = 2

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE items (
        key TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        published TEXT NOT NULL,
        updated TEXT,
        authors TEXT NOT NULL,
        categories TEXT NOT NULL,
        metrics TEXT NOT NULL,
        links TEXT NOT NULL,
        feed TEXT NOT NULL,
        comment TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE INDEX items_published ON items(published);
    CREATE TABLE embeddings (
        model TEXT NOT NULL,
        hash TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vec BLOB NOT NULL,
        PRIMARY KEY (model, hash)
    ) WITHOUT ROWID;
    CREATE TABLE source_state (name TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE source_runs (
        id INTEGER PRIMARY KEY,
        week TEXT NOT NULL,
        name TEXT NOT NULL,
        at TEXT NOT NULL,
        fetched INTEGER NOT NULL,
        new INTEGER NOT NULL,
        errors TEXT NOT NULL,
        fallback TEXT NOT NULL,
        requests INTEGER NOT NULL,
        not_modified INTEGER NOT NULL
    );
    CREATE INDEX source_runs_week ON source_runs(week, name);
    CREATE TABLE issues (
        week TEXT PRIMARY KEY,
        built_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE TABLE featured (
        week TEXT NOT NULL,
        story_id TEXT NOT NULL,
        keys TEXT NOT NULL,
        title TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        PRIMARY KEY (week, story_id)
    );
    CREATE TABLE sends (
        week TEXT NOT NULL,
        recipient TEXT NOT NULL,
        status TEXT NOT NULL,
        message_id TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (week, recipient)
    );
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (kind, target)
    );
    CREATE TABLE feeds (
        url TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        weight REAL NOT NULL,
        kind TEXT NOT NULL,
        added_at TEXT NOT NULL
    );
    """,
    # 2: a feedback target or liked URL is found by index, not by reading every item (a year's store
    # took 16 s per build for 200 judgements): `canon` is the item URL's canonical form, `item_links` holds
    # each link as given and canonical (both filled for older rows by `_backfill_links`). Its columns
    # are in primary-key order: SQLite 3.40's quick_check misreports a WITHOUT ROWID table whose are not.
    # The embeddings table keeps its rows on its pages: as WITHOUT ROWID, each 1.5 KB vector took a 4 KB
    # overflow page of its own, and half the file was empty.
    2: """
    ALTER TABLE items ADD COLUMN canon TEXT NOT NULL DEFAULT '';
    CREATE INDEX items_url ON items(url);
    CREATE INDEX items_canon ON items(canon);
    CREATE TABLE item_links (link TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (link, key)) WITHOUT ROWID;
    CREATE INDEX item_links_key ON item_links(key);
    CREATE TABLE embeddings_v2 (
        model TEXT NOT NULL,
        hash TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vec BLOB NOT NULL,
        PRIMARY KEY (model, hash)
    );
    INSERT INTO embeddings_v2 (model, hash, dim, vec) SELECT model, hash, dim, vec FROM embeddings;
    DROP TABLE embeddings;
    ALTER TABLE embeddings_v2 RENAME TO embeddings
    """,
}


def link_forms(links: Iterable[str]) -> set[str]:
    """Each link as given and in canonical form: a feedback target is canonical, a stored link seldom."""
    return {form for u in links for form in (u, canonical_url(u)) if form}


def _backfill_links(db: sqlite3.Connection) -> None:
    """Schema 2 for rows stored before it: each item's canonical URL and its links' index."""
    for key, url, links in db.execute("SELECT key, url, links FROM items").fetchall():
        db.execute("UPDATE items SET canon = ? WHERE key = ?", (canonical_url(url), key))
        db.executemany(
            "INSERT OR IGNORE INTO item_links (link, key) VALUES (?, ?)",
            [(u, key) for u in link_forms(json.loads(links))],
        )


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE): committed whole, or rolled back on any
    error. SQLite may already have rolled back itself (a full disk): then there is nothing to undo."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


ROOM = 1.6  # free space an upgrade needs, as a multiple of the store's size (its log holds a copy)


def _tell(line: str) -> None:
    if sys.stderr.isatty():  # under cron a one-time upgrade is nothing to mail anyone about
        print(f"digest: {line}", file=sys.stderr, flush=True)


def migrate(db: sqlite3.Connection, path: str, tell: Callable[[str], None] = _tell) -> None:
    """Bring the store at `path` to `SCHEMA_VERSION`, one transaction per version, then compact it.

    Safe to interrupt (a version is committed whole or not at all) and to race: each version is applied
    under the write lock and only if no other process applied it meanwhile. An upgrade that would not fit
    on the disk is refused before anything changes.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{path}: schema version {version} is newer than this digest ({SCHEMA_VERSION}); upgrade digest"
        )
    if 0 < version < SCHEMA_VERSION and path != ":memory:":
        size = os.path.getsize(path)
        free = shutil.disk_usage(Path(path).resolve().parent).free
        if free < ROOM * size:
            raise StorageError(
                f"{path}: upgrading the store to schema {SCHEMA_VERSION} needs about "
                f"{ROOM * size / 1e6:.0f} MB free beside it, and {free / 1e6:.0f} MB are; nothing was changed"
            )
        tell(f"{path}: upgrading the store to schema {SCHEMA_VERSION}, once (about 15 s per 100,000 items)")
    for v in range(version + 1, SCHEMA_VERSION + 1):
        with immediate(db):
            if db.execute("PRAGMA user_version").fetchone()[0] < v:  # else another process just did it
                for stmt in MIGRATIONS[v].split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                if v == 2:
                    _backfill_links(db)
                db.execute(f"PRAGMA user_version = {v}")
    compact(db, path)


def compact(db: sqlite3.Connection, path: str, floor: int = 32 << 20) -> None:
    """VACUUM when more than `floor` bytes and a quarter of the file are free pages (schema 2 rebuilt the
    embeddings table: a year's store goes from 0.9 GB to 0.37 GB in about 2 s). Checked at every open, so
    an upgrade interrupted before this step is compacted by the next run. A failure loses nothing: it is
    said, and the log is cut back so a full disk does not stay full."""
    free_pages = db.execute("PRAGMA freelist_count").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0] or 1
    if free_pages * db.execute("PRAGMA page_size").fetchone()[0] < floor or free_pages < pages / 4:
        return
    try:
        db.execute("VACUUM")
    except sqlite3.Error as e:
        warn(f"{path}: could not compact the store ({e}); it works as it is, and the next run tries again")
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass


def explain(path: str, e: sqlite3.Error) -> str:
    """One line for a SQLite error: what is wrong with the file at `path` and that nothing was lost."""
    msg = str(e)
    if "not a database" in msg or "malformed" in msg:
        return f"{path}: not a readable digest database ({msg}); the file was left untouched"
    if "locked" in msg or "busy" in msg:
        return f"{path}: database is locked by another process ({msg}); try again later"
    if "disk is full" in msg or "disk I/O" in msg:
        return f"{path}: cannot write ({msg}; is the disk full?); nothing stored was lost"
    if "readonly" in msg:
        return f"{path}: database is read-only ({msg})"
    return f"{path}: {msg}"
