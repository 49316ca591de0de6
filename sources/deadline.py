"""How long a response may take, and which failures retrying cannot fix (used by `base`'s clients).

`HttpConfig.timeout_s` bounds each wait for the network and also each whole response: a server that
answers at once and then sends a byte every few seconds never trips a per-read timeout, and would hold a
run (and its lock) as long as it liked. Three layers, finest first: a deadline checked between body
chunks (`DeadlineStream`, httpx), a watchdog that shuts the socket of a body read by urllib3 (`Watchdog`,
requests), and a last-resort alarm over the whole request (`hard_deadline`), which also covers headers
sent a line at a time.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import requests

_BAD_LOCATION = "Invalid URL in location header"  # httpx's RemoteProtocolError for an unparseable redirect


def hopeless(error: BaseException, url: str, max_redirects: int) -> str | None:
    """Why retrying cannot help (a redirect loop, a non-HTTP or malformed URL), in a few words; else None."""
    from sources.base import one_line  # base imports this module

    if isinstance(error, httpx.TooManyRedirects):
        return f"too many redirects (more than {max_redirects}; a redirect loop?)"
    if isinstance(error, httpx.UnsupportedProtocol):
        try:
            target = str(error.request.url)
        except RuntimeError:  # no request attached
            target = ""
        if target and urlsplit(url).scheme.lower() in ("http", "https"):
            return f"redirected to {one_line(target, 120)}, which is not an http(s) URL"
        return f"unsupported URL: {one_line(str(error), 120)}"
    if isinstance(error, httpx.InvalidURL):
        return f"invalid URL: {one_line(str(error), 120)}"
    if isinstance(error, httpx.RemoteProtocolError) and str(error).startswith(_BAD_LOCATION):
        return f"redirect to an invalid URL: {one_line(str(error), 120)}"
    return None


class DeadlineStream(httpx.SyncByteStream):
    """A raw httpx response body that raises httpx.ReadTimeout once the request's overall deadline passes.

    The clock is read after every network read (before decompression, so a trickle of gzip counts too).
    A read that has started may still wait its own per-read timeout, so a response gives up at the latest
    about 2 x timeout_s after it was sent, never later.
    """

    def __init__(self, inner: httpx.SyncByteStream, request: httpx.Request, end: float, seconds: float):
        self._inner = inner
        self._request = request
        self._end = end
        self._seconds = seconds

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if time.monotonic() > self._end:
                raise httpx.ReadTimeout(
                    f"the whole response took longer than {self._seconds:g} s", request=self._request
                )
            yield chunk

    def close(self) -> None:
        self._inner.close()


class Watchdog:
    """Shuts a response's socket down at the deadline, so a read blocked on a trickling body returns.

    urllib3 blocks in one read until a whole 64 KiB chunk has arrived, so a check between chunks would
    never run for a body sent a byte at a time; shutting the socket down ends that read (with an error or
    an early end of the body), and `fired` tells the caller it was the deadline, not the server.
    """

    def __init__(self, resp: requests.Response, seconds_left: float) -> None:
        connection = getattr(resp.raw, "connection", None)
        self._sock = getattr(connection, "sock", None)
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(max(0.0, seconds_left), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            if isinstance(self._sock, socket.socket):
                try:  # the plain socket's shutdown, also for TLS: it only needs the descriptor
                    socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> bool:
        """Disarm; True when the deadline fired first."""
        with self._lock:
            self._done = True
        self._timer.cancel()
        return self.fired


def hard_limit(timeout_s: float) -> float:
    """The last resort for one response: twice the configured time and a second. The finer checks (the
    body's deadline, the watchdog) act first where they can; this one also covers headers sent a line at
    a time, and a body without a length whose socket the watchdog cannot reach."""
    return 2 * timeout_s + 1


@contextmanager
def hard_deadline(timeout_s: float, overdue: Callable[[], Exception]) -> Iterator[None]:
    """Raise TimeoutError wherever the calling code is blocked once `hard_limit(timeout_s)` has passed
    (SIGALRM), and raise `overdue()` instead of whatever that became.

    A TimeoutError is what a socket raises on its own timeout, so httpx and urllib3 turn it into their
    own timeout errors and drop the connection as they would then; `overdue` names it for the caller.
    Only in the main thread, and only when no other interval timer is running (else a no-op).
    """
    seconds = hard_limit(timeout_s)
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return
    fired = False

    def fire(_signum: int, _frame: object) -> None:
        nonlocal fired
        fired = True
        raise TimeoutError(f"no complete response within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Exception:
        if fired:
            raise overdue() from None
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
