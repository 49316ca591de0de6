"""The store's second schema: a version-1 file is migrated in place with nothing lost, and a lookup by
key, URL or link stays an index lookup as the store grows (a year's store once took 16 s per build, one
full read of the items table per feedback judgement)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from digest.models import Item
from digest.schema import MIGRATIONS, SCHEMA_VERSION
from digest.store import SQLiteStore

T0 = datetime(2026, 2, 3, 12, tzinfo=timezone.utc)


def post(n: int, links: tuple[str, ...] = ()) -> Item:
    return Item(key=f"reddit:{n}", source="reddit", url=f"https://www.reddit.com/r/x/comments/{n}/",
                title=f"post {n}", text="", published=T0, links=links)  # fmt: skip


def test_a_version_1_store_is_migrated_with_its_items_links_and_vectors(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.execute(
        "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ("reddit:1", "reddit", "https://www.reddit.com/r/x/comments/1/", "post 1", "", T0.isoformat(), None,
         "[]", "[]", "{}", '["https://arxiv.org/abs/2602.02276", "https://example.com/a"]', "x", "", "h",
         T0.isoformat(), T0.isoformat()),
    )  # fmt: skip
    vec = np.arange(384, dtype=np.float32)
    db.execute("INSERT INTO embeddings VALUES (?,?,?,?)", ("m", "h1", 384, vec.tobytes()))
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()

    before = path.stat().st_size
    with SQLiteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        assert path.stat().st_size <= before  # the rebuilt embeddings table's old pages are given back
        store.check()
        assert [i.key for i in store.find_items("https://example.com/a")] == ["reddit:1"]
        assert np.array_equal(store.get_embeddings("m", ["h1"])["h1"], vec)
        # a re-read that drops a link no longer finds the item by it
        store.upsert_items([post(1, links=("https://arxiv.org/abs/2602.02276",))])
        assert store.find_items("https://example.com/a") == []
        assert [i.key for i in store.find_items("https://arxiv.org/abs/2602.02276")] == ["reddit:1"]


def test_a_lookup_by_key_url_or_link_costs_the_same_in_a_big_store(tmp_path: Path) -> None:
    """Counted in SQLite's own steps (not time): a lookup reading the whole table would take 50× more
    in a store 50× bigger."""

    def steps(store: SQLiteStore, needle: str) -> tuple[int, list[str]]:
        count = [0]

        def tick() -> int:
            count[0] += 1
            return 0

        store.db.set_progress_handler(tick, 10)
        try:
            found = [i.key for i in store.find_items(needle)]
        finally:
            store.db.set_progress_handler(None, 10)
        return count[0], found

    costs: dict[int, list[int]] = {}
    for n in (100, 5000):
        with SQLiteStore(tmp_path / f"s{n}.db") as store:
            store.upsert_items([post(k, links=(f"https://example.com/{k}",)) for k in range(n)])
            needles = ("reddit:42", "https://www.reddit.com/r/x/comments/42/", "https://example.com/42")
            got = [steps(store, needle) for needle in needles]
            assert all(found == ["reddit:42"] for _, found in got)
            costs[n] = [c for c, _ in got]
    assert all(big <= 3 * small + 5 for small, big in zip(costs[100], costs[5000], strict=True)), costs


def test_a_canonical_target_finds_the_item_by_its_own_url_before_the_posts_linking_it(tmp_path: Path) -> None:
    """A target is canonical ("https://anthropic.com/news/x"); sources store URLs as they come."""
    page = Item(key="rss:lab:1", source="rss", url="https://www.anthropic.com/news/x/?utm_source=rss",
                title="Launch", text="", published=T0)  # fmt: skip
    thread = post(1, links=("https://www.anthropic.com/news/x?utm_medium=social",))
    with SQLiteStore(tmp_path / "d.db") as store:
        store.upsert_items([thread, page])
        assert [i.key for i in store.find_items("https://anthropic.com/news/x")] == ["rss:lab:1"]
        store.upsert_items([post(2, links=("https://www.example.org/essay/",))])
        assert [i.key for i in store.find_items("https://example.org/essay")] == ["reddit:2"]


def test_the_store_benchmark_runs_small_and_finds_every_target(capsys: object) -> None:
    from digest.bench_store import main

    main(["--weeks", "2", "--items", "100", "--judgements", "4"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "store after 2 weeks of 100 items (200 items, one vector each)" in out
    assert "4 feedback lookups:" in out and "(4 found)" in out
    assert "one week's items: 100 in" in out and "export of everything: 200 items" in out


def _v1_store(path: Path, items: int = 3) -> None:
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    for n in range(items):
        db.execute(
            "INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (f"reddit:{n}", "reddit", f"https://www.reddit.com/r/x/comments/{n}/", f"post {n}", "",
             T0.isoformat(), None, "[]", "[]", "{}", f'["https://example.com/{n}"]', "x", "", "h",
             T0.isoformat(), T0.isoformat()),
        )  # fmt: skip
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_two_commands_opening_an_old_store_at_once_both_work(tmp_path: Path) -> None:
    """The second one to take the write lock finds the upgrade done (it once failed on "duplicate column
    name: canon"). The race is made certain: while the first has read the old version, a second
    connection upgrades the store."""
    from digest.schema import migrate

    path = tmp_path / "old.db"
    _v1_store(path)
    first = sqlite3.connect(path, isolation_level=None)

    def meanwhile(_line: str) -> None:
        SQLiteStore(path).close()  # another command opens the store and upgrades it first

    migrate(first, str(path), tell=meanwhile)
    first.close()
    with SQLiteStore(path) as store:
        assert store.schema_version == 2
        assert [i.key for i in store.find_items("https://example.com/1")] == ["reddit:1"]


def test_an_upgrade_that_would_not_fit_on_the_disk_changes_nothing(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Faked: the disk's free space (this test cannot fill a real disk). A store migrated on a nearly
    full disk once left a full disk and a store no later write could use."""
    import shutil

    from digest.errors import StorageError

    path = tmp_path / "old.db"
    _v1_store(path)
    real = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: real._replace(free=100))
    try:
        SQLiteStore(path)
        raise AssertionError("the upgrade ran")
    except StorageError as e:
        assert "needs about" in str(e) and "nothing was changed" in str(e)
    monkeypatch.undo()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_full_disk_is_named_as_such_not_as_a_failed_rollback(tmp_path: Path) -> None:
    """SQLite rolls a transaction back itself on a full disk; rolling back again reported "cannot rollback
    - no transaction is active" instead. The disk is made full with max_page_count."""
    from digest.errors import StorageError

    store = SQLiteStore(tmp_path / "d.db")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages + 5}")
    big = [Item(key=f"rss:{n}", source="rss", url=f"https://x.example/{n}", title="t" * 500,
                text="b" * 3000, published=T0) for n in range(200)]  # fmt: skip
    try:
        store.upsert_items(big)
        raise AssertionError("the disk did not fill")
    except StorageError as e:
        assert "full" in str(e) and "rollback" not in str(e)
    finally:
        store.close()


def test_free_pages_left_by_an_interrupted_upgrade_are_given_back_on_a_later_open(tmp_path: Path) -> None:
    from digest.schema import compact

    path = tmp_path / "d.db"
    with SQLiteStore(path) as store:
        store.put_embeddings("m", {f"h{n}": np.zeros(384, np.float32) for n in range(3000)})
        store.db.execute("DELETE FROM embeddings")  # as a rebuilt table leaves its old pages
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        compact(store.db, str(path), floor=1 << 20)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert path.stat().st_size < before / 2
