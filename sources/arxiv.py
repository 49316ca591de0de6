"""arXiv: the week's submissions in the configured categories through the `arxiv` client, newest first.

fetch = `ArxivSource.collect` (paging, pacing, retries, early stop); parse = `parse_results` (pure).
The `arxiv` client retries at once; ours backs off (doubling, Retry-After wins) on 429/5xx, empty pages,
timeouts and malformed pages, and goes through PoliteSession for the size cap, timeout and identity.
"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import arxiv
import requests

from digest.config import ArxivConfig, HttpConfig
from digest.models import Item, SourceResult
from sources.base import (
    PoliteSession,
    ResponseTooLarge,
    backoff_delay,
    in_window,
    one_line,
    unresolvable,
    utc,
)

# The arxiv package logs each skipped entry and malformed page itself ("Skipping entry … missing
# <published>", once per attempt) to stderr through logging's last resort, which cron would mail. This
# collector reports the same failure as one line of its own.
logging.getLogger("arxiv").addHandler(logging.NullHandler())
logging.getLogger("arxiv").propagate = False

NAME = "arxiv"
_VERSION = re.compile(r"v\d+$")


class MalformedPage(Exception):
    """The API answered 200 with a body that is not a well-formed Atom document.

    `url` is the page's full query URL and `reason` the XML error alone, so a report can name the page
    once, briefly, and still end with the reason.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"malformed Atom ({reason})")
        self.url = url
        self.reason = reason


def version_free_id(entry_id: str) -> str:
    """`http://arxiv.org/abs/2506.11093v2` → `2506.11093` (old-style `cs/0112017v1` → `cs/0112017`)."""
    short = entry_id.split("arxiv.org/abs/")[-1]
    return _VERSION.sub("", short)


def build_query(categories: Iterable[str], start: datetime, end: datetime) -> str:
    """`(cat:a OR cat:b) AND submittedDate:[start TO end-1min]`; arXiv ranges are inclusive, in minutes."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    last = utc(end) - timedelta(minutes=1)
    return f"({cats}) AND submittedDate:[{utc(start):%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"


def parse_results(results: Iterable[arxiv.Result], start: datetime, end: datetime) -> list[Item]:
    """Results → Items, one per version-free id (newest version wins), submitted inside [start, end)."""
    by_key: dict[str, Item] = {}
    for r in results:
        if not in_window(r.published, start, end):
            continue
        ident = version_free_id(r.entry_id)
        updated = utc(r.updated) if r.updated and utc(r.updated) > utc(r.published) else None
        cats = tuple(dict.fromkeys(r.categories or ([r.primary_category] if r.primary_category else [])))
        item = Item(
            key=f"arxiv:{ident}",
            source="arxiv",
            url=f"https://arxiv.org/abs/{ident}",
            title=" ".join((r.title or "").split()),
            text=" ".join((r.summary or "").split()),
            published=r.published,
            authors=tuple(a.name for a in r.authors),
            categories=cats,
            feed=r.primary_category or (cats[0] if cats else ""),
            comment=" ".join((r.comment or "").split()),
            updated=updated,
        )
        old = by_key.get(item.key)
        if old is None or (item.updated or item.published) > (old.updated or old.published):
            by_key[item.key] = item
    return list(by_key.values())


class _Client(arxiv.Client):
    """arxiv.Client with backoff between retries, a malformed-page check, and a page log for early stop."""

    def __init__(self, cfg: ArxivConfig, http: HttpConfig, sleep: Callable[[float], None]) -> None:
        super().__init__(page_size=cfg.page_size, delay_seconds=cfg.delay_s, num_retries=cfg.retries)
        self.query_url_format = cfg.api_url.rstrip("?") + "?{}"
        self.http = http
        self.session = PoliteSession(http, f"{http.user_agent} arxiv.py/{arxiv.__version__}")
        self._session = self.session
        self._sleep = sleep
        self.page_sizes: list[int] = []

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> arxiv.ParsedFeed:
        attempt = 0
        while True:
            try:
                feed = self._Client__try_parse_feed(url, first_page=first_page, try_index=attempt)
                _check_well_formed(self.session.last_content, url)
                self.page_sizes.append(len(feed.results))
                return feed
            except arxiv.HTTPError as e:
                if (e.status != 429 and e.status < 500) or attempt >= self.num_retries:
                    raise
            except ResponseTooLarge:
                raise
            except (arxiv.UnexpectedEmptyPageError, MalformedPage, requests.RequestException) as e:
                if attempt >= self.num_retries or unresolvable(e):
                    raise
            asked = self.session.last_headers.get("retry-after") if self.session.last_headers else None
            self._sleep(backoff_delay(self.http, attempt, asked))
            attempt += 1


def _check_well_formed(content: bytes, url: str) -> None:
    # The arxiv parser recovers from broken XML and would hand back half a page (or an empty "first page")
    # without complaint; a strict parse tells truncated or garbage bodies from real results.
    try:
        ET.fromstring(content)
    except ET.ParseError as e:
        raise MalformedPage(url, one_line(str(e), 120)) from None


# A paper held in moderation is announced days after it was submitted, dated by its submission: each
# run looks this far behind the newest date an earlier run saw, or such a paper falls between two runs.
# What it sees again is stored again by key, unchanged; it costs a page or two, not a duplicate.
MODERATION_LAG = timedelta(days=2)


class ArxivSource:
    """The configured categories' submissions in a window; stops paging at what an earlier run saw."""

    name = NAME

    def __init__(self, cfg: ArxivConfig, http: HttpConfig, *, sleep: Callable[[float], None] = time.sleep):
        self.cfg = cfg
        self.http = http
        self._sleep = sleep

    def _page(self, url: str) -> str:
        """The endpoint and the failing page, not the 300-character query (the issue's footer shows 160)."""
        start = parse_qs(urlsplit(url).query).get("start", ["0"])[0]
        return f"{self.cfg.api_url} (page from result {start})"

    def _describe(self, e: Exception) -> str:
        """One line for a failed fetch: the endpoint (and the page, when known) once, then what happened."""
        if isinstance(e, arxiv.HTTPError):
            return f"{self._page(e.url)}: HTTP {e.status} (gave up after {e.retry + 1} attempts)"
        if isinstance(e, arxiv.UnexpectedEmptyPageError):
            return f"{self._page(e.url)}: empty page mid-results after {e.retry + 1} attempts"
        tries = self.cfg.retries + 1
        if isinstance(e, MalformedPage):
            return f"{self._page(e.url)}: malformed page ({e.reason}) after {tries} attempts"
        if isinstance(e, requests.Timeout):
            return f"{self.cfg.api_url}: timed out after {self.http.timeout_s:g} s ({tries} attempts)"
        if isinstance(e, ResponseTooLarge):
            return f"{self.cfg.api_url}: {e}"
        if isinstance(e, requests.RequestException):
            return f"{self.cfg.api_url}: {type(e).__name__}: {_cause(str(e))}"
        return f"{self.cfg.api_url}: unexpected {type(e).__name__}: {one_line(str(e), 200)}"

    def collect(self, start: datetime, end: datetime, state: Mapping[str, str]) -> SourceResult:
        query = build_query(self.cfg.categories, start, end)
        cats = ",".join(self.cfg.categories)
        cutoff = _stored_newest(state, cats, start)
        look_from = cutoff - MODERATION_LAG if cutoff is not None else None
        client = _Client(self.cfg, self.http, self._sleep)
        search = arxiv.Search(
            query=query,
            max_results=self.cfg.max_results,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Descending,
        )
        got: list[arxiv.Result] = []  # filled as pages arrive: a failure on a later page keeps them
        error = ""
        try:
            for r in _until_known(client, search, look_from):
                got.append(r)
        except Exception as e:  # a library bug must not sink the issue either: every failure is a line
            error = self._describe(e)
            if got:
                error += f"; kept the {len(got)} results before the error"
        items = parse_results(got, start, end)
        if look_from is not None:  # older than that an earlier run returned it; newer may be a late arrival
            items = [it for it in items if (it.updated or it.published) > look_from]
        # A partial run must not move the early-stop mark past the pages it missed: with the old mark the
        # next run pages down to them again (the items it did get are stored meanwhile).
        new_state = dict(state) if error else _advanced(state, cats, start, cutoff, items)
        return SourceResult(
            NAME,
            items=tuple(items),
            fetched=len(got),
            errors=(one_line(error),) if error else (),
            requests=client.session.requests,
            state=new_state,
        )


def _advanced(
    state: Mapping[str, str], cats: str, start: datetime, cutoff: datetime | None, items: Iterable[Item]
) -> dict[str, str]:
    """The state after a complete run: the newest date seen so far, covered from the earlier `from` (if
    the run stopped early at `cutoff`) or from `start`; the old state when nothing was seen at all."""
    seen = [it.updated or it.published for it in items] + ([cutoff] if cutoff is not None else [])
    if not seen:
        return dict(state)
    covered_from = state["from"] if cutoff is not None else utc(start).isoformat()
    return {"categories": cats, "from": covered_from, "newest": max(seen).isoformat()}


_ERRNO = re.compile(r"\[Errno -?\d+\] [^)'\"]+")


def _cause(message: str) -> str:
    """requests' "HTTPSConnectionPool(…): Max retries exceeded with url: /api/query?<300 characters>
    (Caused by …([Errno -2] Name or service not known))" as its cause alone, when it names one."""
    errno = _ERRNO.search(message)
    return errno.group(0).strip() if errno else one_line(message, 200)


def _stored_newest(state: Mapping[str, str], cats: str, start: datetime) -> datetime | None:
    """The newest date an earlier run saw, if that run covered the same categories from `start` or earlier.

    The state says: every submission in [from, newest] was fetched. A run whose window begins before
    `from` (a backfill) has a gap to fill and pages through everything.
    """
    try:
        if state.get("categories") != cats or utc(datetime.fromisoformat(state["from"])) > utc(start):
            return None
        return utc(datetime.fromisoformat(state["newest"]))
    except (KeyError, ValueError):
        return None


def _until_known(client: _Client, search: arxiv.Search, cutoff: datetime | None) -> Iterator[arxiv.Result]:
    """Every result as it arrives, except that paging stops after a whole page held nothing newer than
    `cutoff`. A generator, so a page that fails after others arrived costs the caller only that page."""
    in_page = 0
    page_has_new = False
    for r in client.results(search):
        yield r
        in_page += 1
        seen = max(utc(r.published), utc(r.updated)) if r.updated else utc(r.published)
        page_has_new = page_has_new or cutoff is None or seen > cutoff
        if client.page_sizes and in_page >= client.page_sizes[-1]:
            if not page_has_new:
                break
            in_page, page_has_new = 0, False
