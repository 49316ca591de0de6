"""Reddit: top posts of the window per subreddit, through praw (OAuth) or, without credentials, public RSS.

fetch = `RedditSource.collect`; parse = `parse_submission` (a praw submission's fields) and
`parse_reddit_rss` (the public Atom listing), both pure. RSS has no scores: those metrics stay absent
("unknown", not zero). Crossposts are keyed by the original post's id, so one post is one item.
"""

from __future__ import annotations

import calendar
import dataclasses
import html as htmllib
import re
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser
import praw
import praw.exceptions
import prawcore

from digest.config import HttpConfig, RedditConfig
from digest.models import Item, SourceResult
from sources.base import FetchError, PoliteClient, PoliteSession, backoff_delay, in_window, one_line
from sources.links import entry_text, extract_links, html_to_text
from sources.rss import syntax_error

NAME = "reddit"
TOKEN_PATH = "/api/v1/access_token"  # prawcore asks www_url for the token, then oauth_url for listings
FALLBACK = "public RSS (no Reddit credentials)"
WWW = "https://www.reddit.com"
_SPANS: tuple[tuple[str, float | None], ...] = (
    ("hour", 3600),
    ("day", 86400),
    ("week", 7 * 86400),
    ("month", 31 * 86400),
    ("year", 366 * 86400),
    ("all", None),
)
_THREAD = re.compile(
    r"^(?:https?://(?:www\.|old\.|new\.)?reddit\.com)?(/r/\w+/comments/([a-z0-9]+)(?:/[^?#]*)?)", re.I
)
MEDIA_HOSTS = ("i.redd.it", "v.redd.it", "preview.redd.it", "i.imgur.com")
_LINK_ANCHOR = re.compile(r"""<a\s+href=["']([^"']+)["'][^>]*>\s*\[link\]\s*</a>""", re.I)
_RSS_PAGE = 100
_RSS_MAX_PAGES = 10


def time_filter_for(configured: str, start: datetime, now: datetime) -> str:
    """The narrowest Reddit `t=` span (not narrower than configured) that still reaches back to `start`.

    A Monday run for last week is more than 7 days after the week began, so `t=week` alone would drop
    the first hours of the window.
    """
    names = [n for n, _ in _SPANS]
    first = names.index(configured) if configured in names else names.index("week")
    need = (now - start).total_seconds()
    for name, span in _SPANS[first:]:
        if span is None or span >= need:
            return name
    return "all"


def _thread_url(permalink: str) -> str:
    return permalink if permalink.startswith("http") else WWW + permalink


def _is_media(url: str) -> bool:
    host = re.sub(r"^https?://", "", url).split("/")[0].lower()
    return host.endswith(MEDIA_HOSTS) or "reddit.com/gallery/" in url


def parse_submission(d: Mapping[str, Any]) -> Item:
    """A submission's fields (praw attributes or listing JSON `data`) → Item."""
    pid = str(d["id"])
    thread = _thread_url(str(d.get("permalink") or f"/comments/{pid}/"))
    link = str(d.get("url_overridden_by_dest") or ("" if d.get("is_self") else d.get("url") or ""))
    if link.startswith("/"):
        link = WWW + link
    parent = str(d.get("crosspost_parent") or "").removeprefix("t3_")
    m = _THREAD.match(link)
    if m and m.group(2) != pid:
        parent = parent or m.group(2)  # a link to another thread is a crosspost of it
    if link and (m or (_THREAD.match(thread) and link.rstrip("/") == thread.rstrip("/"))):
        link = ""
    url = link if link and not _is_media(link) else thread
    selftext = str(d.get("selftext") or "")
    sub = str(d.get("subreddit") or "")
    flair = str(d.get("link_flair_text") or "")
    metrics: dict[str, float] = {}
    for src_key, key in (("score", "score"), ("upvote_ratio", "upvote_ratio"), ("num_comments", "comments")):
        value = d.get(src_key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[key] = float(value)
    links = extract_links(link, selftext, html_parts=(str(d.get("selftext_html") or ""),))
    if url != thread and thread not in links:
        links += (thread,)
    author = str(d.get("author") or "")
    return Item(
        key=f"reddit:{parent or pid}",
        source="reddit",
        url=url,
        title=" ".join(str(d.get("title") or "").split()),
        text=selftext.strip(),
        published=datetime.fromtimestamp(float(d.get("created_utc") or 0), timezone.utc),
        authors=(author,) if author and author not in ("None", "[deleted]") else (),
        categories=tuple(c for c in (sub, flair) if c),
        metrics=metrics,
        links=links,
        feed=sub,
        updated=_edited(d.get("edited")),
    )


def _edited(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(float(value), timezone.utc)
    return None


def parse_reddit_rss(content: bytes, url: str) -> tuple[list[Item], list[str]]:
    """Reddit's public Atom listing → (Items without scores, entry names `t3_…` in order for paging)."""
    feed = feedparser.parse(
        content, response_headers={"content-location": url, "content-type": "application/atom+xml"}
    )
    broken = syntax_error(feed)
    if broken or not feed.get("version"):
        raise ValueError(f"{url}: not a valid Atom listing ({broken or 'no feed found'})")
    items: list[Item] = []
    names: list[str] = []
    for e in feed.entries:
        name = str(e.get("id") or "")
        pid = name.removeprefix("t3_")
        thread = str(e.get("link") or "")
        if not pid or not name.startswith("t3_"):
            m = _THREAD.match(thread)
            if not m:
                continue
            pid = m.group(2)
        names.append(f"t3_{pid}")
        html = str((e.get("content") or [{}])[0].get("value") or e.get("summary") or "")
        m_link = _LINK_ANCHOR.search(html)
        link = htmllib.unescape(m_link.group(1)).strip() if m_link else ""  # an href: entities decoded
        body = html_to_text(html, paragraphs=True)
        selftext = body.rsplit("submitted by", 1)[0].strip() if "submitted by" in body else ""
        when = e.get("published_parsed") or e.get("updated_parsed")
        tags = [str(t.get("term") or "") for t in e.get("tags") or []]
        d = {
            "id": pid,
            "permalink": thread,
            "url": link or thread,
            "is_self": not link or link.rstrip("/") == thread.rstrip("/"),
            "title": entry_text(e),
            "selftext": selftext,
            "selftext_html": html.split("submitted by", 1)[0],
            "subreddit": tags[0] if tags else "",
            "author": str(e.get("author") or "").removeprefix("/u/"),
            "created_utc": calendar.timegm(when) if when else 0,
        }
        items.append(parse_submission(d))
    return items, names


def merge(into: dict[str, Item], item: Item) -> None:
    """Keep one item per key: the best-scored copy, with categories and links of every copy."""
    old = into.get(item.key)
    if old is None:
        into[item.key] = item
        return
    keep, other = (item, old) if item.metrics.get("score", -1) > old.metrics.get("score", -1) else (old, item)
    into[item.key] = dataclasses.replace(
        keep,
        categories=tuple(dict.fromkeys(keep.categories + other.categories)),
        links=tuple(dict.fromkeys(keep.links + other.links)),
        published=min(keep.published, other.published),
    )


class RedditSource:
    name = NAME

    def __init__(
        self,
        cfg: RedditConfig,
        http: HttpConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.cfg = cfg
        self.http = http
        self._sleep = sleep
        self._now = now
        self._pace = max(http.min_interval_s, cfg.delay_s)

    def collect(self, start: datetime, end: datetime, state: Mapping[str, str]) -> SourceResult:
        try:
            return self._collect(start, end)
        except Exception as e:  # praw setup (a broken praw.ini) or a bug: one error line, never a raise
            error = (
                f"{self.cfg.www_url}: reddit collector failed: {type(e).__name__}: {one_line(str(e), 150)}"
            )
            return SourceResult(NAME, errors=(error,))

    def _collect(self, start: datetime, end: datetime) -> SourceResult:
        tf = time_filter_for(self.cfg.time_filter, start, self._now())
        session = PoliteSession(self.http, min_interval_s=self._pace)
        reddit = self._praw(session)
        if reddit is None:
            return self._collect_rss(start, end, tf, FALLBACK, (), 0)
        posts: dict[str, Item] = {}
        errors: list[str] = []
        fetched = 0
        for sub in self.cfg.subreddits:
            where = f"{self.cfg.oauth_url}/r/{sub}/top?t={tf}"
            for attempt in range(self.http.retries + 1):
                try:
                    fetched += self._top(reddit, sub, tf, start, end, posts)
                    break
                except (prawcore.OAuthException, prawcore.InvalidToken) as e:
                    error = auth_error(_failed_at(e, where), e, attempt + 1)
                    return self._auth_failed(start, end, tf, error, session.requests)
                except prawcore.ResponseException as e:
                    status = e.response.status_code
                    if status != 401 and (status == 429 or status >= 500) and attempt < self.http.retries:
                        self._sleep(backoff_delay(self.http, attempt, e.response.headers.get("retry-after")))
                        continue
                    if status == 401 or _is_token_request(e):  # no token, no subreddit: say it once
                        error = auth_error(_failed_at(e, where), e, attempt + 1)
                        return self._auth_failed(start, end, tf, error, session.requests)
                    errors.append(f"{where}: HTTP {status} ({_why(e)})")
                    break
                except prawcore.PrawcoreException as e:
                    if attempt < self.http.retries:
                        self._sleep(backoff_delay(self.http, attempt, None))
                        continue
                    if _is_token_request(e):
                        error = auth_error(_failed_at(e, where), e, attempt + 1)
                        return self._auth_failed(start, end, tf, error, session.requests)
                    errors.append(f"{where}: {_why(e)}")
                    break
                except Exception as e:  # praw/prawcore bug or odd payload: report, keep the other subreddits
                    errors.append(f"{where}: unexpected {type(e).__name__}: {one_line(str(e), 150)}")
                    break
        return SourceResult(
            NAME,
            items=tuple(posts.values()),
            fetched=fetched,
            errors=tuple(errors),
            requests=session.requests,
        )

    def _praw(self, session: PoliteSession) -> praw.Reddit | None:
        """praw.Reddit with credentials where praw looks (env praw_client_id…, praw.ini); None without."""
        try:
            reddit = praw.Reddit(
                user_agent=f"{self.http.user_agent} praw/{praw.__version__}",
                oauth_url=self.cfg.oauth_url,
                reddit_url=self.cfg.www_url,
                check_for_updates=False,
                requestor_kwargs={"session": session},
            )
        except praw.exceptions.MissingRequiredAttributeException:
            return None
        return reddit if reddit.config.client_id else None

    def _top(
        self, reddit: praw.Reddit, sub: str, tf: str, start: datetime, end: datetime, posts: dict[str, Item]
    ) -> int:
        seen = kept = 0
        for s in reddit.subreddit(sub).top(time_filter=tf, limit=None):
            seen += 1
            d = {k: v for k, v in vars(s).items() if not k.startswith("_")}
            d["subreddit"] = str(d.get("subreddit") or sub)
            d["author"] = str(d.get("author") or "")
            item = parse_submission(d)
            if not in_window(item.published, start, end):
                continue
            merge(posts, item)
            kept += 1
            if kept >= self.cfg.limit:
                break
        return seen

    def _auth_failed(self, start: datetime, end: datetime, tf: str, error: str, n: int) -> SourceResult:
        return self._collect_rss(start, end, tf, "public RSS (Reddit OAuth failed)", (error,), n)

    def _collect_rss(
        self, start: datetime, end: datetime, tf: str, fallback: str, errors: tuple[str, ...], n: int
    ) -> SourceResult:
        posts: dict[str, Item] = {}
        errs = list(errors)
        fetched = 0
        with PoliteClient(self.http, min_interval_s=self._pace, sleep=self._sleep) as client:
            for sub in self.cfg.subreddits:
                url = f"{self.cfg.www_url.rstrip('/')}/r/{sub}/top/.rss"
                params = {"t": tf, "limit": str(_RSS_PAGE)}
                kept = 0
                for _ in range(_RSS_MAX_PAGES):
                    try:
                        got = client.get(url, params=params)
                        items, names = parse_reddit_rss(got.content, url)
                    except (FetchError, ValueError) as e:
                        errs.append(f"{e} (t={tf})" if str(e).startswith(url) else f"{url}: {e}")
                        break
                    fetched += len(items)
                    for item in items:
                        if in_window(item.published, start, end) and kept < self.cfg.limit:
                            merge(posts, item)
                            kept += 1
                    if len(names) < _RSS_PAGE or kept >= self.cfg.limit or params.get("after") == names[-1]:
                        break
                    params = {**params, "after": names[-1]}
            n += client.requests
        return SourceResult(
            NAME,
            items=tuple(posts.values()),
            fetched=fetched,
            errors=tuple(errs),
            fallback=fallback,
            requests=n,
        )


def _request_url(e: Exception) -> str:
    """The URL of the request behind a prawcore exception: its response's, or the one it could not send."""
    response = getattr(e, "response", None)
    if response is not None and getattr(response, "url", None):
        return str(response.url)
    args: tuple[Any, ...] = tuple(getattr(e, "request_args", None) or ())
    return str(args[1]) if len(args) > 1 else ""


def _is_token_request(e: Exception) -> bool:
    """Whether the request that failed was the one for the access token, not a listing."""
    return urlsplit(_request_url(e)).path.endswith(TOKEN_PATH)


def _failed_at(e: Exception, where: str) -> str:
    """The token endpoint when the token request failed, else `where`: the listing asked for."""
    return _request_url(e) if _is_token_request(e) else where


def auth_error(url: str, e: Exception, attempts: int) -> str:
    """One line for OAuth that failed: the URL that refused (the token endpoint, as a rule) and why.

    Rejected credentials (401, an OAuth error) are the operator's to fix; anything else (a 503, a timeout)
    is the server's, reported with the number of attempts made.
    """
    rejected = isinstance(e, (prawcore.OAuthException, prawcore.InvalidToken)) or (
        isinstance(e, prawcore.ResponseException) and e.response.status_code == 401
    )
    if rejected:
        return f"{url}: Reddit OAuth failed ({_why(e)}); check the credentials"
    what = f"HTTP {e.response.status_code}" if isinstance(e, prawcore.ResponseException) else _why(e)
    return f"{url}: Reddit OAuth failed: {what} (gave up after {attempts} attempt{'s' * (attempts > 1)})"


def _why(e: Exception) -> str:
    original = getattr(e, "original_exception", None)
    return one_line(f"{type(original or e).__name__}: {original or e}", 150)
