"""The store's schema, one SQL script per version (applied by PRAGMA user_version), and its error lines."""

from __future__ import annotations

import sqlite3

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
    # each link as given and canonical (both filled for older rows by `store._backfill_links`). Its columns
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
