"""RSS/Atom feeds (blogs, hnrss.org): bytes fetched politely with httpx, parsed by feedparser.

fetch = `FeedSource.collect` (conditional GET with the ETag/Last-Modified kept in `state`); parse =
`parse_feed` (pure, bytes → Items). hnrss-style feeds become `hn:<story id>` items with points and
comments; other entries `rss:<feed label>:<hash>`, the hash taken from the canonical link because guids
change (feed software migrations, `?p=123` → slug) while links rarely do.
"""

from __future__ import annotations

import calendar
import html as htmllib
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from xml.sax import SAXException

import feedparser

from digest.config import FeedConfig, HttpConfig
from digest.models import Item, SourceResult, utc
from sources.base import FetchError, PoliteClient, one_line, short_hash
from sources.links import entry_text, extract_links, html_to_text

_HN_ITEM = re.compile(r"news\.ycombinator\.com/item\?id=(\d+)")
_HN_FIELD = re.compile(r"(Points|# Comments):\s*(\d+)")
_HN_ARTICLE = re.compile(r"Article URL:\s*<a href=\"([^\"]+)\"")
_HN_META = re.compile(r"(Article URL|Comments URL|Points|# Comments):\s*\S*\s*")
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|source)$", re.I)


def is_hn(feed: FeedConfig) -> bool:
    host = (urlsplit(feed.url).hostname or "").lower()
    return feed.kind == "hn" or host == "hnrss.org" or "/hnrss/" in feed.url


def source_name(feed: FeedConfig) -> str:
    return f"{'hn' if is_hn(feed) else 'rss'}:{feed.label}"


def canonical_link(url: str) -> str:
    """Scheme-less, fragment-free, tracking-free form of a link, for identity only (never shown)."""
    parts = urlsplit(url.strip())
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("", host, parts.path.rstrip("/") or "/", query, ""))


def _when(entry: Mapping[str, Any], key: str) -> datetime | None:
    # dict.get, not FeedParserDict.get: the latter silently maps a missing `updated` to `published`.
    parsed = dict.get(entry, f"{key}_parsed") if isinstance(entry, dict) else entry.get(f"{key}_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def _entry_html(e: Mapping[str, Any]) -> str:
    content = e.get("content") or []
    if content and content[0].get("value"):
        return str(content[0]["value"])
    return str(e.get("summary") or e.get("description") or "")


class MalformedFeed(ValueError):
    """The body is not well-formed XML (truncated, garbage); what feedparser recovered may be partial."""


def syntax_error(parsed: Mapping[str, Any]) -> str:
    """The XML syntax error feedparser met, or "" (encoding overrides and the like are not errors)."""
    exc = parsed.get("bozo_exception")
    return one_line(str(exc), 120) if parsed.get("bozo") and isinstance(exc, SAXException) else ""


def parse_feed(
    content: bytes,
    feed: FeedConfig,
    *,
    url: str = "",
    fetched_at: datetime | None = None,
    content_type: str = "",
    strict: bool = False,
) -> list[Item]:
    """Feed bytes → Items. Raises ValueError naming the URL when the body is not a feed at all,
    and MalformedFeed when `strict` and the XML is broken (else the recovered entries are returned).

    Missing dates fall back to `updated`, then to `fetched_at`; relative links resolve against the feed
    URL; HTML in titles is reduced to text; a wrong or missing charset is survived (feedparser retries
    other encodings and we keep what it recovers).
    """
    url = url or feed.url
    fetched_at = fetched_at or datetime.now(timezone.utc)
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(content, response_headers=headers)
    broken = syntax_error(parsed)
    if broken and strict:
        raise MalformedFeed(f"{url}: malformed feed ({broken})")
    if not parsed.entries and (broken or not parsed.get("version")):
        raise ValueError(f"{url}: not a valid RSS/Atom feed ({broken or 'no feed found'})")
    hn = is_hn(feed)
    links = [urljoin(url, str(e.get("link") or "")) if e.get("link") else "" for e in parsed.entries]
    shared = {canonical_link(u) for u in links if u and sum(1 for v in links if v == u) > 1}
    items: list[Item] = []
    for e, link in zip(parsed.entries, links, strict=True):
        published = _when(e, "published") or _when(e, "updated") or fetched_at
        updated = _when(e, "updated")
        html = _entry_html(e)
        title = entry_text(e)
        if hn:
            item = _hn_item(e, feed, link, title, html, published)
        else:
            guid = str(e.get("id") or "")
            # The canonical link is the identity; a guid only when several entries share one link
            # (a feed pointing everything at its home page), and title+date when there is neither.
            if link and canonical_link(link) not in shared:
                ident = canonical_link(link)
            else:
                ident = guid or f"{link}|{title}|{published.isoformat()}"
            authors = tuple(str(a.get("name") or "") for a in e.get("authors") or [] if a.get("name"))
            item = Item(
                key=f"rss:{feed.label}:{short_hash(ident)}",
                source="rss",
                url=link,
                title=title,
                text=html_to_text(html, paragraphs=True),
                published=published,
                authors=authors or ((str(e["author"]),) if e.get("author") else ()),
                categories=tuple(t["term"] for t in e.get("tags") or [] if t.get("term")),
                metrics={"feed_weight": feed.weight},
                links=extract_links(html_parts=(html,), exclude=(link,)),
                feed=feed.label,
                updated=updated if updated and updated > published else None,
            )
        if item is not None:
            items.append(item)
    return items


def _hn_item(
    e: Mapping[str, Any], feed: FeedConfig, link: str, title: str, html: str, published: datetime
) -> Item | None:
    thread = str(e.get("comments") or "")
    m = _HN_ITEM.search(thread) or _HN_ITEM.search(str(e.get("id") or "")) or _HN_ITEM.search(html)
    if not m:
        return None
    story = m.group(1)
    thread = f"https://news.ycombinator.com/item?id={story}"
    art = _HN_ARTICLE.search(html)
    article = htmllib.unescape(art.group(1)).strip() if art else ("" if _HN_ITEM.search(link) else link)
    metrics: dict[str, float] = {"feed_weight": feed.weight}
    for name, value in _HN_FIELD.findall(html):
        metrics["points" if name == "Points" else "comments"] = float(value)
    text = _HN_META.sub("", html_to_text(html, paragraphs=True)).strip()  # keep an Ask HN body only
    author = str(e.get("author") or "")
    return Item(
        key=f"hn:{story}",
        source="hn",
        url=article or thread,
        title=title,
        text=text,
        published=published,
        authors=(author,) if author else (),
        metrics=metrics,
        links=(thread, *extract_links(html_parts=(html,), exclude=(article, thread))),
        feed=feed.label,
    )


def _covers(state: Mapping[str, str], start: datetime) -> bool:
    """Whether the stored response behind the validators was kept from `start` on (see FeedSource)."""
    try:
        return utc(datetime.fromisoformat(state["from"])) <= utc(start)
    except (KeyError, ValueError):  # state from an older version, or damaged: fetch the feed whole
        return False


class FeedSource:
    """One configured feed; `state` keeps the validators for the next conditional GET.

    A 304 answers "nothing changed since the last 200", so whatever that 200 carried and the run did
    not store is never seen again. So a run stores every entry from its window's start on, later weeks
    included (collecting one week and then the next must not lose the second week's posts to a 304),
    and records that start as `from`: a run whose window begins earlier fetches the feed whole.
    """

    def __init__(
        self,
        feed: FeedConfig,
        http: HttpConfig,
        *,
        delay_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.feed = feed
        self.http = http
        self.name = source_name(feed)
        self._delay = delay_s
        self._sleep = sleep

    def collect(self, start: datetime, end: datetime, state: Mapping[str, str]) -> SourceResult:
        headers: dict[str, str] = {}
        same_url = state.get("url", self.feed.url) == self.feed.url
        covered = _covers(state, start)
        if same_url and covered and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if same_url and covered and state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        pace = max(self.http.min_interval_s, self._delay or 0.0)  # per host; feeds often share one
        client = PoliteClient(self.http, min_interval_s=pace, sleep=self._sleep)
        warning = ""
        try:
            for attempt in (0, 1):  # a broken body is fetched once more: truncation is usually transient
                got = client.get(self.feed.url, headers=headers)
                if got.status == 304:
                    return SourceResult(
                        self.name, not_modified=True, requests=client.requests, state=dict(state)
                    )
                fetched_at = datetime.now(timezone.utc)
                ctype = got.headers.get("content-type", "")
                kw: dict[str, Any] = {"url": got.url, "fetched_at": fetched_at, "content_type": ctype}
                try:
                    items = parse_feed(got.content, self.feed, strict=True, **kw)
                    warning = ""
                    break
                except MalformedFeed as e:
                    warning = f"{e}; kept the entries before the error"
                    if attempt == 1:
                        items = parse_feed(got.content, self.feed, **kw)
        except (FetchError, ValueError) as e:
            return SourceResult(
                self.name, errors=(one_line(str(e)),), requests=client.requests, state=dict(state)
            )
        except Exception as e:  # feedparser on hostile input: report, never raise
            error = f"{self.feed.url}: cannot parse feed ({type(e).__name__}: {one_line(str(e), 120)})"
            return SourceResult(self.name, errors=(error,), requests=client.requests, state=dict(state))
        finally:
            client.close()
        new_state = {"url": self.feed.url, "from": utc(start).isoformat()}
        for header, key in (("etag", "etag"), ("last-modified", "last_modified")):
            if got.headers.get(header):
                new_state[key] = got.headers[header]
        # parse_feed dates an undated entry at `fetched_at`; such entries are kept whatever the window.
        kept = tuple(i for i in items if i.published == fetched_at or utc(i.published) >= utc(start))
        errors = (one_line(warning),) if warning else ()
        if warning:
            new_state = dict(state)  # partial content must not earn a 304 next time
        return SourceResult(
            self.name,
            items=kept,
            fetched=len(items),
            errors=errors,
            requests=client.requests,
            state=new_state,
        )
