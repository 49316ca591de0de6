"""Typed, frozen records that cross stage boundaries: Item, Story, RankedStory, Issue, SourceResult.

Dicts stay inside a module; vectors travel as numpy arrays beside the items, never inside them.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from digest.errors import InputError


def utc(dt: datetime) -> datetime:
    """`dt` in UTC; a naive datetime is taken to be UTC already."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


_CATEGORY_IS_FEED = frozenset({"reddit", "rss"})


@dataclass(frozen=True)
class Item:
    """One thing a source gave us: a paper, a post, a feed entry.

    `key` is stable across re-collection ("arxiv:2506.11093", "reddit:1qwgz6i", "hn:46902223",
    "rss:<feed-name>:<guid digest>") so storing is an upsert. `metrics` holds engagement as the source
    gives it (`score`, `points`, `comments`, `upvote_ratio`); a missing key means "unknown", never zero.
    """

    key: str
    source: str  # "arxiv" | "reddit" | "hn" | "rss" | anything from an item file
    url: str
    title: str
    text: str
    published: datetime
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    links: tuple[str, ...] = ()
    feed: str = ""  # subreddit, feed name or arXiv primary category: where in the source it came from
    comment: str = ""  # arXiv comment field ("Accepted at ICLR 2026", "code: github.com/…")
    updated: datetime | None = None  # source-side update time (arXiv new version, edited post)
    # When `metrics` were last read (the store's latest fetch of the item); None when unknown, as for
    # item files. Not part of an item's identity or of its serialised form.
    seen: datetime | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", utc(self.published))
        if self.updated is not None:
            object.__setattr__(self, "updated", utc(self.updated))
        if self.seen is not None:
            object.__setattr__(self, "seen", utc(self.seen))

    @property
    def content_hash(self) -> str:
        """Digest of what an embedding or a summary depends on; unchanged text means a cache hit."""
        h = hashlib.sha256()
        h.update(self.title.encode("utf-8", "replace"))
        h.update(b"\x00")
        h.update(self.text.encode("utf-8", "replace"))
        return h.hexdigest()[:32]

    def to_line(self) -> dict[str, Any]:
        """The item-line form of ../shared/FORMATS.md (plus a few keys of our own)."""
        line: dict[str, Any] = {
            "id": self.key,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "published": self.published.isoformat(),
            "authors": list(self.authors),
            "categories": list(self.categories),
            # a count read as 812.0 is written back as the 812 it was
            "metrics": {k: int(v) if float(v).is_integer() else v for k, v in self.metrics.items()},
            "links": list(self.links),
        }
        if self.feed:
            line["feed"] = self.feed
        if self.comment:
            line["comment"] = self.comment
        if self.updated is not None:
            line["updated"] = self.updated.isoformat()
        return line

    @classmethod
    def from_line(cls, line: Mapping[str, Any], where: str = "item line") -> Item:
        """Read one item line (../shared/FORMATS.md); never reads the `story` label of evaluation files.

        A key given with the wrong type is an InputError naming `where` and the key; an absent or null
        optional key reads as empty, a null metric as unknown.
        """
        if line.get("id") is None:
            raise InputError(f"{where}: missing key 'id'")
        raw_id = line["id"]
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            raw_id = str(raw_id)
        if not isinstance(raw_id, str) or not raw_id:
            raise InputError(f"{where}: key 'id': expected a non-empty string, got {brief_json(raw_id)}")
        when = _line_time(line, where)
        updated = _line_updated(line.get("updated"))
        metrics = _line_metrics(line, where)
        categories = _line_strings(line, "categories", where)
        source = _line_str(line, "source", where) or "unknown"
        publisher = _line_str(line, "publisher", where)
        feed = _line_str(line, "feed", where) or publisher
        if not feed and source in _CATEGORY_IS_FEED and categories:
            # FORMATS.md: a Reddit post's categories hold its subreddit, a feed entry's its feed name
            # ("r/" is not part of it). Elsewhere a category may be a topic shared by many accounts
            # (a YouTube category, an X list): their channel stays the author.
            feed = categories[0].strip().removeprefix("r/")
        return cls(
            key=raw_id,
            source=source,
            url=_line_str(line, "url", where),
            title=_line_str(line, "title", where),
            text=_line_str(line, "text", where) or _line_str(line, "summary", where),
            published=when,
            authors=_line_strings(line, "authors", where),
            categories=categories,
            metrics=metrics,
            links=_line_strings(line, "links", where),
            feed=feed,
            comment=_line_str(line, "comment", where),
            updated=updated,
        )


def brief_json(value: Any) -> str:
    """`value` as JSON, cut short, for a one-line error message."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _line_str(line: Mapping[str, Any], key: str, where: str) -> str:
    """A string key of an item line; absent or null reads as empty."""
    value = line.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # a title of 2048: unambiguous
    if not isinstance(value, str):
        raise InputError(f"{where}: key {key!r}: expected a string, got {brief_json(value)}")
    return value


def _line_strings(line: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list-of-strings key (`authors`, `categories`, `links`); absent or null reads as empty, and one
    string as a list of it ("Alice" is one author, not five letters)."""
    value = line.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: key {key!r}: expected a list of strings, got {brief_json(value)}")
    return tuple(value)


def _line_metrics(line: Mapping[str, Any], where: str) -> dict[str, float]:
    """`metrics`: an object of numbers. A value that is no finite number (null, "1.2K", true) means
    unknown and is left out, as an unknown score is neutral; a numeric string ("12") is its number."""
    value = line.get("metrics")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: key 'metrics': expected an object of numbers, got {brief_json(value)}")
    metrics: dict[str, float] = {}
    for k, v in value.items():
        number = None
        if isinstance(v, (int, float, str)) and not isinstance(v, bool):
            try:
                number = float(v)
            except (OverflowError, ValueError):
                number = None
        if number is not None and math.isfinite(number):
            metrics[str(k)] = number
    return metrics


def _line_time(line: Mapping[str, Any], where: str) -> datetime:
    """`published`: ISO 8601 in UTC; absent, null or empty reads as the epoch. FORMATS.md asks for a time
    zone; a time or date without one is read as UTC, as it always was here."""
    value = line.get("published")
    if value is None or value == "":
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise InputError(f"{where}: key 'published': expected an ISO 8601 string, got {brief_json(value)}")
    try:
        return _parse_time(value)
    except ValueError:
        raise InputError(f"{where}: key 'published': not ISO 8601: {brief_json(value)}") from None
    except OverflowError:
        raise InputError(f"{where}: key 'published': out of range in UTC: {brief_json(value)}") from None


def _line_updated(value: Any) -> datetime | None:
    """`updated` (a key of our own, not of FORMATS.md): its time in UTC, or None when unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        return _parse_time(value)
    except (ValueError, OverflowError):
        return None


def _parse_time(value: str) -> datetime:
    """ISO 8601 (a trailing Z too) in UTC, a zone-less time as UTC; ValueError or OverflowError if not."""
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def item_to_json(item: Item) -> str:
    return json.dumps(item.to_line(), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Story:
    """Items that tell one story, with the primary source as lead.

    `links_by_source` groups every member URL by source so no link is lost when items merge.
    """

    id: str
    items: tuple[Item, ...]
    lead: Item
    headline: str

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted({i.source for i in self.items}))

    @property
    def domains(self) -> tuple[str, ...]:
        from urllib.parse import urlsplit

        hosts = set()
        for i in self.items:
            host = urlsplit(i.url).hostname or ""
            if host:
                hosts.add(host.removeprefix("www."))
        return tuple(sorted(hosts))

    @property
    def links_by_source(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for i in self.items:
            if i.url and i.url not in out.setdefault(i.source, []):
                out[i.source].append(i.url)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.items)


@dataclass(frozen=True)
class RankedStory:
    """A story with its score, the score's components and the reasons shown to the reader."""

    story: Story
    score: float
    components: Mapping[str, float] = field(default_factory=dict, hash=False, compare=False)
    reasons: tuple[str, ...] = ()
    summary: str = ""
    update_of: str | None = None  # ISO week of the earlier issue this story is an update of
    follows: str | None = None  # ISO week of a sent story this one is close to (its reasons name it)


@dataclass(frozen=True)
class SourceResult:
    """What one source run gave: items plus health, and the error instead of an exception.

    `state` is the source's own bookkeeping to persist (ETag/Last-Modified per feed URL, newest arXiv
    date seen); the pipeline stores it and passes it back next time.
    """

    name: str  # "arxiv", "reddit", "rss:<feed name>", "hn"
    items: tuple[Item, ...] = ()
    fetched: int = 0
    new: int = 0  # filled in by the pipeline after the store upsert
    errors: tuple[str, ...] = ()
    fallback: str = ""  # e.g. "public RSS (no Reddit credentials)"
    requests: int = 0
    not_modified: bool = False
    state: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Issue:
    """One week's newsletter: what render turns into email, page and feed entry."""

    week: str  # ISO week "2026-W06"
    title: str
    stories: tuple[RankedStory, ...]
    health: tuple[SourceResult, ...]
    built_at: datetime
    start: datetime
    end: datetime
    item_count: int = 0
    story_count: int = 0
