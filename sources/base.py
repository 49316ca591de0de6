"""The Source protocol and the shared polite HTTP plumbing every collector uses.

Politeness lives here once: a User-Agent that names the project and its URL, a per-host minimum interval
between requests, a timeout, a size cap on every body, and retries with exponential backoff on 429/5xx
that honour Retry-After. `PoliteClient` (httpx) serves feeds and Reddit's public RSS; `PoliteSession`
(a requests.Session) is handed to the `arxiv` and `praw` clients so they obey the same cap, timeout,
identity and request count.

`HttpConfig.timeout_s` bounds each wait for the network (connect, each read) and also the whole response,
from sending the request to the body's last byte: a server that answers at once and then sends its body a
byte every few seconds never trips a per-read timeout, and would otherwise hold a run (and its lock) for as
long as it likes. A response still arriving after `timeout_s` is a timeout like any other, retried the same
way. Failures retrying cannot fix (a malformed URL, a redirect loop, a redirect to a file: or other non-HTTP
URL, an unresolvable host) fail at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import requests

from digest.config import HttpConfig
from digest.models import SourceResult, utc
from sources.deadline import DeadlineStream, Watchdog, hard_deadline, hard_limit, hopeless

MAX_RETRY_AFTER_S = 120.0  # a server asking for longer than this is treated as "give up for now"


class Source(Protocol):
    """One collector: `collect` returns items plus health and never raises for a source failure."""

    name: str

    def collect(self, start: datetime, end: datetime, state: Mapping[str, str]) -> SourceResult: ...


class FetchError(Exception):
    """A request failed for good; the message is one line naming the URL and what happened."""


class ResponseTooLarge(requests.RequestException):
    """A body passed HttpConfig.max_bytes; raised by PoliteSession (a requests error, so clients wrap it)."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content: bytes
    headers: Mapping[str, str]


def in_window(when: datetime, start: datetime, end: datetime) -> bool:
    return utc(start) <= utc(when) < utc(end)


def short_hash(text: str, n: int = 12) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:n]


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (utc(when) - datetime.now(timezone.utc)).total_seconds())


def backoff_delay(http: HttpConfig, attempt: int, retry_after: str | None) -> float:
    """Wait before retry `attempt + 1`: backoff_s doubling per attempt; Retry-After wins when larger."""
    delay = http.backoff_s * (2**attempt)
    asked = retry_after_s(retry_after)
    if asked is not None:
        delay = max(delay, min(asked, MAX_RETRY_AFTER_S))
    return delay


class Pacer:
    """Minimum interval between two requests to one host, shared by every client in the process."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        if interval <= 0:
            return
        host = (urlsplit(url).netloc or url).lower()
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + interval
        if slot > now:
            sleep(slot - now)


PACER = Pacer()


_NO_SUCH_HOST = ("Name or service not known", "nodename nor servname provided", "No address associated")


def unresolvable(error: BaseException) -> bool:
    """True when the host name does not resolve: retrying in seconds will not fix it, so fail at once."""
    return any(marker in str(error) for marker in _NO_SUCH_HOST)


class PoliteClient:
    """An httpx client with the project's manners; `requests` counts every attempt made.

    Each attempt has `timeout_s` for the whole response (see the module docstring), on top of httpx's
    per-read timeout of the same length; running out is "timed out after N s" and is retried.
    """

    def __init__(
        self,
        http: HttpConfig,
        *,
        min_interval_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        pacer: Pacer = PACER,
    ) -> None:
        self.http = http
        self.min_interval_s = http.min_interval_s if min_interval_s is None else min_interval_s
        self.requests = 0
        self._sleep = sleep
        self._pacer = pacer
        self._client = httpx.Client(
            headers={"User-Agent": http.user_agent},
            timeout=http.timeout_s,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None
    ) -> Fetched:
        """GET with retries; 2xx and 304 return, anything else ends as FetchError naming the URL."""
        attempt = 0
        while True:
            self._pacer.wait(url, self.min_interval_s, self._sleep)
            self.requests += 1
            retry_after: str | None = None
            try:
                got = self._once(url, headers, params)
            except httpx.TimeoutException:
                problem = f"timed out after {self.http.timeout_s:g} s"
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                why = hopeless(e, url, self._client.max_redirects)
                if why:
                    raise FetchError(f"{url}: {why}") from None
                problem = f"{type(e).__name__}: {one_line(str(e), 120) or 'connection failed'}"
                if unresolvable(e):
                    raise FetchError(f"{url}: {problem}") from None
            else:
                if got.status < 400 or got.status == 304:
                    return got
                problem = f"HTTP {got.status}"
                if got.status != 429 and got.status < 500:
                    raise FetchError(f"{url}: {problem}")
                retry_after = got.headers.get("retry-after")
            if attempt >= self.http.retries:
                tries = attempt + 1
                raise FetchError(f"{url}: {problem} (gave up after {tries} attempt{'s' * (tries > 1)})")
            self._sleep(backoff_delay(self.http, attempt, retry_after))
            attempt += 1

    def _once(self, url: str, headers: Mapping[str, str] | None, params: Mapping[str, str] | None) -> Fetched:
        with hard_deadline(
            self.http.timeout_s, lambda: httpx.ReadTimeout(f"no complete response from {url}")
        ):
            return self._stream(url, headers, params)

    def _stream(
        self, url: str, headers: Mapping[str, str] | None, params: Mapping[str, str] | None
    ) -> Fetched:
        cap = self.http.max_bytes
        end = time.monotonic() + self.http.timeout_s
        with self._client.stream("GET", url, headers=dict(headers or {}), params=params) as resp:
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError(f"{url}: response of {int(declared)} bytes exceeds the {cap} byte cap")
            assert isinstance(resp.stream, httpx.SyncByteStream)
            resp.stream = DeadlineStream(resp.stream, resp.request, end, self.http.timeout_s)
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FetchError(f"{url}: response exceeds the {cap} byte cap")
                chunks.append(chunk)
            return Fetched(str(resp.url), resp.status_code, b"".join(chunks), dict(resp.headers))


class PoliteSession(requests.Session):
    """A requests.Session for third-party clients (arxiv, praw): our timeout, size cap, identity, count.

    `timeout_s` is requests' connect and read timeout and also the deadline for the whole response, from
    sending the request to the body's last byte; past it the request raises requests.ReadTimeout (a
    requests.Timeout, so the clients retry it and report "timed out" as for any other timeout).
    """

    def __init__(
        self,
        http: HttpConfig,
        user_agent: str | None = None,
        *,
        min_interval_s: float = 0.0,
        pacer: Pacer = PACER,
    ) -> None:
        super().__init__()
        self.http = http
        self.min_interval_s = min_interval_s
        self._pacer = pacer
        self.user_agent = user_agent
        self.requests = 0
        self.last_headers: Mapping[str, str] = {}
        self.last_content: bytes = b""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = self.http.timeout_s
        kwargs["stream"] = True
        if self.user_agent:
            headers = {
                k: v for k, v in dict(kwargs.get("headers") or {}).items() if k.lower() != "user-agent"
            }
            headers["User-Agent"] = self.user_agent
            kwargs["headers"] = headers
        self._pacer.wait(str(url), self.min_interval_s)
        self.requests += 1
        overdue = requests.exceptions.ReadTimeout(
            f"timed out after {hard_limit(self.http.timeout_s):g} s with no complete response "
            f"from {one_line(str(url), 200)}"
        )
        with hard_deadline(self.http.timeout_s, lambda: overdue):
            return self._request(method, str(url), *args, **kwargs)

    def _request(self, method: str | bytes, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        limit = self.http.timeout_s
        end = time.monotonic() + limit
        resp = super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]
        cap = self.http.max_bytes
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            resp.close()
            raise ResponseTooLarge(f"response of {declared} bytes exceeds the {cap} byte cap")
        late = requests.exceptions.ReadTimeout(
            f"timed out after {limit:g} s for the whole response from {one_line(str(resp.url), 200)}",
            request=resp.request,
        )
        data = bytearray()
        watchdog = Watchdog(resp, end - time.monotonic())
        try:
            for chunk in resp.iter_content(65536):
                if time.monotonic() > end:
                    raise late
                data += chunk
                if len(data) > cap:
                    raise ResponseTooLarge(f"response exceeds the {cap} byte cap")
        except Exception:  # the cut socket surfaces as whatever urllib3 makes of it
            resp.close()
            if watchdog.stop():
                raise late from None
            raise
        finally:
            watchdog.stop()
        if watchdog.fired:  # the shut-down socket can also look like the end of a body sent without a length
            resp.close()
            raise late
        resp._content = bytes(data)
        resp._content_consumed = True
        sent = {str(k).lower(): str(v).lower() for k, v in dict(kwargs.get("headers") or {}).items()}
        if sent.get("connection") == "close":
            # prawcore asks for the token with "Connection: close"; urllib3 would still pool that socket
            # unless the server echoes the header, and the next request would meet a closed connection.
            for adapter in self.adapters.values():
                adapter.close()
        self.last_headers = resp.headers
        self.last_content = resp._content
        return resp


def failed(
    name: str, error: str, *, requests_made: int = 0, state: Mapping[str, str] | None = None
) -> SourceResult:
    """A SourceResult for a source that got nothing, carrying the one-line error."""
    return SourceResult(name, errors=(one_line(error),), requests=requests_made, state=dict(state or {}))
