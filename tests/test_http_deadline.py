"""The polite HTTP clients against servers that misbehave in ways a per-read timeout or a retry cannot fix.

A feed that answers at once and then sends its body a byte at a time never trips httpx's or requests'
per-read timeout; `timeout_s` must bound the whole response, or one such feed holds the weekly run (and
its lock) forever. Redirect loops and redirects to file: URLs fail the same way every time, so they must
fail at once instead of after the retries' backoff. Real HTTP against a threaded server on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from digest.config import HttpConfig
from sources.base import FetchError, PoliteClient, PoliteSession

TIMEOUT = 0.5
DRIP_EVERY = 0.2
DRIPS = 15  # 3 s of dripping: well past the timeout, and short enough that old code only stalls a while
LONG_DRIPS = 40  # 8 s: a body the client must cut off, not wait out
START = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>slow</title>'


class Server:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.cut: set[str] = set()  # paths whose client hung up before the server had sent everything
        lock = threading.Lock()
        hits, cut = self.hits, self.cut

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    hits[self.path] += 1
                if self.path == "/ok":
                    self._send(200, {"Content-Length": str(len(START))}, START)
                elif self.path == "/to-file":
                    self._send(302, {"Location": "file:///etc/passwd", "Content-Length": "0"})
                elif self.path == "/loop":
                    self._send(302, {"Location": "/loop", "Content-Length": "0"})
                elif self.path == "/drip":  # a declared length it takes its time to deliver
                    self._drip({"Content-Length": "100000"}, chunked=False)
                elif self.path == "/drip-chunked":  # no length: one tiny chunk at a time
                    self._drip({"Transfer-Encoding": "chunked"}, chunked=True)
                elif self.path == "/drip-close":  # no length at all: the body ends when the socket closes
                    self._drip({"Connection": "close"}, chunked=False, drips=LONG_DRIPS)
                elif self.path == "/slow-headers":  # the status at once, then a header line at a time
                    self._slow_headers()
                else:
                    self._send(404, {"Content-Length": "0"})

            def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, headers: dict[str, str], *, chunked: bool, drips: int = DRIPS) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.close_connection = True
                try:
                    for piece in [START] + [b" "] * drips:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                        self.wfile.flush()
                        time.sleep(DRIP_EVERY)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    cut.add(self.path)  # the client gave up: what the deadline is for

            def _slow_headers(self) -> None:
                self.close_connection = True
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for n in range(DRIPS):
                        self.wfile.write(b"X-Slow-%d: 1\r\n" % n)
                        self.wfile.flush()
                        time.sleep(DRIP_EVERY)
                    self.wfile.write(b"Content-Length: %d\r\n\r\n%s" % (len(START), START))
                except OSError:
                    pass

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def http(retries: int = 0) -> HttpConfig:
    return HttpConfig(timeout_s=TIMEOUT, retries=retries, backoff_s=5.0, min_interval_s=0.0)


@pytest.mark.parametrize("path", ["/drip", "/drip-chunked"])
def test_a_dripping_body_times_out_in_polite_client(server: Server, path: str) -> None:
    sleeps: list[float] = []
    with PoliteClient(http(retries=1), sleep=sleeps.append) as client, pytest.raises(FetchError) as caught:
        client.get(server.url + path)
    message = str(caught.value)
    assert message == f"{server.url}{path}: timed out after {TIMEOUT:g} s (gave up after 2 attempts)"
    assert client.requests == 2 and server.hits[path] == 2  # a timeout is retried, as before
    assert len(sleeps) == 1


@pytest.mark.parametrize("path", ["/drip", "/drip-chunked"])
def test_a_dripping_body_times_out_in_polite_session(server: Server, path: str) -> None:
    """The session handed to the arxiv and praw clients: a requests.Timeout, which both report as such."""
    with PoliteSession(http()) as session:
        with pytest.raises(requests.Timeout) as caught:
            session.get(server.url + path)
        message = str(caught.value)
        assert "\n" not in message
        assert message == f"timed out after {TIMEOUT:g} s for the whole response from {server.url}{path}"
        assert session.requests == 1
        ok = session.get(server.url + "/ok")  # the session still works after a cut-off response
        assert ok.status_code == 200 and ok.content == START


def test_a_redirect_to_a_file_url_fails_at_once(server: Server) -> None:
    sleeps: list[float] = []
    with PoliteClient(http(retries=3), sleep=sleeps.append) as client, pytest.raises(FetchError) as caught:
        client.get(server.url + "/to-file")
    message = str(caught.value)
    assert message.startswith(f"{server.url}/to-file: redirected to file://")
    assert message.endswith("/etc/passwd, which is not an http(s) URL")
    assert "gave up" not in message and "\n" not in message
    assert server.hits["/to-file"] == 1 and client.requests == 1 and sleeps == []


def test_a_redirect_loop_fails_at_once(server: Server) -> None:
    sleeps: list[float] = []
    with PoliteClient(http(retries=3), sleep=sleeps.append) as client, pytest.raises(FetchError) as caught:
        client.get(server.url + "/loop")
    assert str(caught.value) == f"{server.url}/loop: too many redirects (more than 20; a redirect loop?)"
    assert server.hits["/loop"] == 21  # the first request and its 20 redirects, once: no second attempt
    assert client.requests == 1 and sleeps == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("feeds.example.com/rss", "unsupported URL: Request URL is missing an 'http://' or 'https://'"),
        ("https://example.com:abc/feed", "invalid URL: Invalid port: 'abc'"),
    ],
)
def test_a_malformed_url_fails_at_once(url: str, why: str) -> None:
    sleeps: list[float] = []
    with PoliteClient(http(retries=3), sleep=sleeps.append) as client, pytest.raises(FetchError) as caught:
        client.get(url)
    assert str(caught.value).startswith(f"{url}: {why}")
    assert client.requests == 1 and sleeps == []


def test_headers_sent_a_line_at_a_time_time_out_in_both_clients(server: Server) -> None:
    """The body's deadline starts only once the headers are in: a server sending one header line every
    0.2 s held collect (and the lock) for as long as it liked. The last-resort limit is 2 x timeout + 1 s."""
    with PoliteClient(http(), sleep=lambda _s: None) as client, pytest.raises(FetchError) as caught:
        client.get(server.url + "/slow-headers")
    assert (
        str(caught.value)
        == f"{server.url}/slow-headers: timed out after {TIMEOUT:g} s (gave up after 1 attempt)"
    )
    with PoliteSession(http()) as session:
        with pytest.raises(requests.Timeout) as late:
            session.get(server.url + "/slow-headers")
        assert str(late.value).startswith("timed out after 2 s with no complete response from ")
        assert session.get(server.url + "/ok").content == START  # the session still works


def test_a_body_without_length_on_a_closing_connection_times_out_in_polite_session(server: Server) -> None:
    """With "Connection: close" and no length, http.client drops the socket the watchdog would shut, so
    only the last-resort limit ends the read."""
    with PoliteSession(http()) as session, pytest.raises(requests.Timeout):
        session.get(server.url + "/drip-close")
    for _ in range(50):  # the server notices at its next write that the client hung up
        if "/drip-close" in server.cut:
            break
        time.sleep(0.1)
    assert "/drip-close" in server.cut  # cut off, not read to its end
