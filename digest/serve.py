"""`digest serve`: preview the static archive over HTTP on 127.0.0.1 (read-only, no directory listings)."""

from __future__ import annotations

import functools
import http.server
import os
import sys
from typing import Any

from digest.archive import archive_dir
from digest.config import Config
from digest.errors import InputError


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/atom+xml; charset=utf-8",
        ".html": "text/html; charset=utf-8",
        ".json": "application/json",
    }

    def list_directory(self, path: str | os.PathLike[str]) -> Any:
        self.send_error(404, "Not found")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"serve: {self.address_string()} {format % args}\n")


def make_server(cfg: Config, host: str = "127.0.0.1", port: int = 8000) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the archive folder, bound but not yet serving (port 0 picks a free port)."""
    root = archive_dir(cfg)
    if not (root / "index.html").is_file():
        raise InputError(f"archive.path: no archive at {root} (run `digest build` first)")
    handler = functools.partial(_Handler, directory=str(root))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise InputError(f"serve: cannot listen on {host}:{port} (--port): {e.strerror or e}") from None


def serve(cfg: Config, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the archive until Ctrl-C."""
    server = make_server(cfg, host, port)
    bound_host, bound_port = server.server_address[:2]
    print(
        f"serving {archive_dir(cfg)} at http://{bound_host!s}:{bound_port}/ (Ctrl-C to stop)", file=sys.stderr
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
