"""The SQLite store: idempotent upserts, caches, ledgers, and damaged files reported without harm."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from digest.errors import StorageError
from digest.models import Item, SourceResult
from digest.schema import SCHEMA_VERSION
from digest.store import SQLiteStore

T0 = datetime(2026, 2, 3, 12, tzinfo=timezone.utc)


def item(key: str, title: str = "A paper", **kw: object) -> Item:
    base: dict[str, object] = dict(key=key, source="arxiv", url=f"https://arxiv.org/abs/{key}", title=title,
                                   text="abstract", published=T0)  # fmt: skip
    base.update(kw)
    return Item(**base)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "d.db")
    yield s  # type: ignore[misc]
    s.close()


def test_schema_is_versioned(store: SQLiteStore) -> None:
    assert store.schema_version == SCHEMA_VERSION


def test_upsert_is_idempotent_and_updates_new_versions(store: SQLiteStore) -> None:
    assert store.upsert_items([item("arxiv:1"), item("arxiv:2")]) == 2
    assert store.upsert_items([item("arxiv:1"), item("arxiv:2")]) == 0
    assert store.count_items() == 2
    v2 = item("arxiv:1", title="A paper, revised", updated=T0 + timedelta(days=2), metrics={"score": 3})
    assert store.upsert_items([v2]) == 0
    got = store.items_by_keys(["arxiv:1"])["arxiv:1"]
    assert got.title == "A paper, revised" and got.updated == T0 + timedelta(days=2)
    assert dict(got.metrics) == {"score": 3.0} and got.published == T0


def test_a_reread_that_changes_only_the_authors_is_stored(store: SQLiteStore) -> None:
    """Team size and liked authors rank a paper: a re-read's author list replaces the stored one."""
    store.upsert_items([item("arxiv:1", authors=("A. One",))])
    store.upsert_items([item("arxiv:1", authors=("A. One", "B. Two"))])
    assert store.items_by_keys(["arxiv:1"])["arxiv:1"].authors == ("A. One", "B. Two")


def test_an_item_read_again_unchanged_records_when_it_was_read(store: SQLiteStore) -> None:
    """The read time (`Item.seen`) dates an item's metrics: a later fetch with the same score still
    moves it, because the score then held for longer."""
    store.upsert_items([item("hn:1", source="hn", metrics={"points": 10})])
    first = store.items_by_keys(["hn:1"])["hn:1"].seen
    assert first is not None and abs((datetime.now(timezone.utc) - first).total_seconds()) < 60
    with store._tx() as db:  # age the stored read time, as if fetched yesterday
        db.execute(
            "UPDATE items SET last_seen = ? WHERE key = 'hn:1'", ((first - timedelta(days=1)).isoformat(),)
        )
    store.upsert_items([item("hn:1", source="hn", metrics={"points": 10})])  # same score, read today
    again = store.items_by_keys(["hn:1"])["hn:1"]
    assert again.seen is not None and again.seen >= first and dict(again.metrics) == {"points": 10.0}


def test_items_between_is_half_open_and_filters_by_source(store: SQLiteStore) -> None:
    store.upsert_items([
        item("arxiv:a", published=T0),
        item("reddit:b", source="reddit", feed="LocalLLaMA", published=T0 + timedelta(days=1)),
        item("arxiv:c", published=T0 + timedelta(days=7)),
    ])  # fmt: skip
    keys = [i.key for i in store.items_between(T0, T0 + timedelta(days=7))]
    assert keys == ["arxiv:a", "reddit:b"]
    assert [i.key for i in store.items_between(T0, T0 + timedelta(days=8), "reddit")] == ["reddit:b"]
    assert [i.key for i in store.items_between(T0, T0 + timedelta(days=8), "LocalLLaMA")] == ["reddit:b"]


def test_a_lookup_target_is_text_not_a_pattern(store: SQLiteStore) -> None:
    """Feedback targets reach these lookups as typed: "%" or "_" must not match every item, and a
    60,000-character target must find nothing rather than fail the query (it once failed every build)."""
    linked = item("reddit:1", source="reddit", url="https://reddit.com/r/x/comments/1",
                  links=("https://arxiv.org/abs/2602.00001", "https://github.com/a_b/c"))  # fmt: skip
    store.upsert_items([linked, item("arxiv:2602.00001")])
    assert [i.key for i in store.find_items("https://github.com/a_b/c")] == ["reddit:1"]
    assert store.find_items("%") == [] and store.find_items("_") == [] and store.find_items("a%b") == []
    assert store.find_items("x" * 60_000) == []
    # the item whose own URL it is comes before the items that link to it, in canonical form too
    assert [i.key for i in store.find_items("https://arxiv.org/abs/2602.00001")] == ["arxiv:2602.00001"]
    assert [i.key for i in store.find_items("https://github.com/a_b/c")] == ["reddit:1"]


def test_embedding_cache_round_trip(store: SQLiteStore) -> None:
    v = np.arange(4, dtype=np.float32)
    store.put_embeddings("m", {"h1": v})
    got = store.get_embeddings("m", ["h1", "h2"])
    assert list(got) == ["h1"] and np.array_equal(got["h1"], v)
    assert store.get_embeddings("other-model", ["h1"]) == {}


def test_source_result_stores_items_state_and_health_together(store: SQLiteStore) -> None:
    r = SourceResult(name="rss:Blog", items=(item("rss:Blog:1", source="rss", feed="Blog"),), fetched=1,
                     state={"etag": "abc"}, errors=("http://x/feed: 500",))  # fmt: skip
    assert store.save_source_result("2026-W06", r) == 1
    assert store.save_source_result("2026-W06", r) == 0
    assert store.get_state("rss:Blog") == {"etag": "abc"}
    (run,) = store.latest_runs("2026-W06")
    assert run.name == "rss:Blog" and run.new == 0 and run.errors == ("http://x/feed: 500",)


def test_send_ledger_and_feedback(store: SQLiteStore) -> None:
    assert store.send_status("2026-W06", "a@x") is None
    store.mark_sending("2026-W06", "a@x", "<id@x>")
    assert store.send_status("2026-W06", "a@x") == "sending"
    store.mark_failed("2026-W06", "a@x", "451 try later")
    assert store.send_status("2026-W06", "a@x") == "failed"
    store.mark_sent("2026-W06", "a@x", "<id@x>")
    assert store.sends("2026-W06") == [("a@x", "sent")]
    assert store.add_feedback("like", "arxiv:2506.11093") is True
    assert store.add_feedback("like", "arxiv:2506.11093") is False


def test_issue_payload_round_trip(store: SQLiteStore) -> None:
    store.save_issue("2026-W06", T0, {"week": "2026-W06", "stories": []})
    assert store.get_issue("2026-W06") == {"week": "2026-W06", "stories": []}
    assert store.issue_weeks() == ["2026-W06"]


def test_corrupt_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "digest.db"
    junk = b"this is not sqlite at all" * 100
    bad.write_bytes(junk)
    with pytest.raises(StorageError) as e:
        SQLiteStore(bad)
    assert str(bad) in str(e.value) and "left untouched" in str(e.value)
    assert bad.read_bytes() == junk


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "future.db"
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StorageError, match="newer than this digest"):
        SQLiteStore(p)


def test_locked_database_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "busy.db"
    SQLiteStore(p).close()
    holder = sqlite3.connect(p, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        s = SQLiteStore(p, timeout_s=0.2)
        with pytest.raises(StorageError, match="locked"):
            s.upsert_items([item("arxiv:9")])
        s.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with SQLiteStore(p) as s:
        assert s.upsert_items([item("arxiv:9")]) == 1


def test_an_issue_that_reached_nobody_is_not_in_the_ledger_of_sent_stories(store: SQLiteStore) -> None:
    """Novelty and "already featured" count what readers got: a week whose every send failed is out
    (and named, so the next run can say so), one sent to anyone or never mailed (archive only) is in."""
    from digest.profile import Featured

    for week in ("2026-W04", "2026-W05", "2026-W06"):
        store.record_featured(week, [Featured(week, f"s-{week}", (f"hn:{week}",), "A story", "")])
    store.mark_failed("2026-W05", "ada@example.org", "connection refused")
    store.mark_failed("2026-W05", "bob@example.org", "connection refused")
    store.mark_failed("2026-W06", "ada@example.org", "450 mailbox busy")
    store.mark_sent("2026-W06", "bob@example.org", "<m@x>")
    assert [f.week for f in store.featured_before("2026-W07")] == ["2026-W04", "2026-W06"]
    assert store.undelivered_before("2026-W07") == ["2026-W05"]
    assert store.undelivered_before("2026-W05") == []
    store.mark_sent("2026-W05", "ada@example.org", "<m@y>")  # the retry went out
    assert [f.week for f in store.featured_before("2026-W07")] == ["2026-W04", "2026-W05", "2026-W06"]
    assert store.undelivered_before("2026-W07") == []


def test_each_item_reads_the_whole_store_in_batches_in_export_order(store: SQLiteStore) -> None:
    items = [item(f"arxiv:{k}", published=T0 - timedelta(days=k % 4)) for k in range(7)]
    store.upsert_items(items)
    everything = store.items_between(datetime(1970, 1, 1, tzinfo=timezone.utc), T0 + timedelta(days=1))
    assert [i.key for i in store.each_item(batch=2)] == [i.key for i in everything]
    assert len(everything) == 7
