"""Builders shared by the clustering tests: items, geometry-only vectors, partition checks."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from digest.models import Item, Story

T0 = datetime(2026, 2, 5, 12, 0, tzinfo=timezone.utc)


def item(key: str, title: str, source: str = "reddit", feed: str = "", **kw: object) -> Item:
    base: dict[str, object] = {"url": "", "text": "", "published": T0}
    base.update(kw)
    return Item(key=key, source=source, title=title, feed=feed, **base)  # type: ignore[arg-type]


def unit(v: np.ndarray) -> np.ndarray:
    """Rows (or one vector) scaled to length 1, as float32 like the embedder's output."""
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def orthogonal(n: int, dim: int = 64) -> np.ndarray:
    """Geometry-only vectors (no model): every item unrelated to every other."""
    return np.eye(n, dim, dtype=np.float32)


def groups(stories: list[Story]) -> set[frozenset[str]]:
    return {frozenset(s.item_keys) for s in stories}


def assert_partition(items: list[Item], stories: list[Story]) -> None:
    keys = [k for s in stories for k in s.item_keys]
    assert sorted(keys) == sorted(i.key for i in items)
