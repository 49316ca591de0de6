"""Test support for tests/test_sources_*.py: a scripted HTTP server on 127.0.0.1 and the replay world.

`StubServer` answers from a route table: path → a list of responses served in turn (the last one repeats),
or a callable `(handler, query) -> Reply`. Every request is logged with its headers and arrival time,
so tests can assert politeness (User-Agent, pacing, conditional GET) on what really crossed the wire.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).resolve().parent / "data" / "sources"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WORLD = SHARED / "data" / "world-2026-W06"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: int = 0  # >0: send the body in this many chunks without Content-Length (chunked encoding)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


Route = list[Reply] | Callable[[Seen], Reply]


class _Quiet(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up on purpose (size cap, timeout) is not a test failure


class StubServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Seen] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                split = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("latin-1") if n else ""
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                query.update({k: v[-1] for k, v in parse_qs(body).items()})
                seen = Seen(self.command, split.path, query, dict(self.headers.items()), time.monotonic())
                stub.log.append(seen)
                reply = stub.answer(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if (
                        self.close_connection
                    ):  # say so, as real servers do, or the client reuses a dead socket
                        self.send_header("Connection", "close")
                    if reply.chunks:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        size = max(1, len(reply.body) // reply.chunks)
                        for i in range(0, len(reply.body), size):
                            part = reply.body[i : i + size]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                    else:
                        self.send_header("Content-Length", str(len(reply.body)))
                        self.end_headers()
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_POST = do_GET

        self.httpd = _Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, seen: Seen) -> Reply:
        route = self.routes.get(seen.path)
        if route is None:
            return Reply(404, b"not found")
        if callable(route):
            return route(seen)
        return route.pop(0) if len(route) > 1 else route[0]

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.log if s.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def stub_server() -> Iterator[StubServer]:
    """Body of each test module's `stub` fixture: `yield from stub_server()`."""
    server = StubServer()
    yield server
    server.close()


def fixture_bytes(name: str) -> bytes:
    return (DATA / name).read_bytes()
