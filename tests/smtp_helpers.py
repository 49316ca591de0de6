"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), keeping what it accepted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Inbox:
    """aiosmtpd handler that keeps accepted messages; with `hold` it keeps the next DATA until `release`.

    Like a real MTA, a held message whose client has gone by the time it is released is discarded
    (the 250 was never sent, so the message was never accepted).
    """

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.hold = False
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.dropped = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hold:
            self.hold = False
            self.arrived.set()
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            except asyncio.CancelledError:  # aiosmtpd cancels the handler when the client disconnects
                self.dropped += 1
                raise
            if server.transport is None or server.transport.is_closing():
                self.dropped += 1
                return "451 client went away before the reply"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [
            str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
            for _, raw in self.messages
        ]

    def recipients(self) -> list[str]:
        return sorted(r for rcpts, _ in self.messages for r in rcpts)


@contextmanager
def running_inbox() -> Iterator[tuple[Inbox, int]]:
    """An aiosmtpd server on a free port of 127.0.0.1, stopped (and any held message released) on exit."""
    from aiosmtpd.controller import Controller
    from conftest import free_port

    inbox = Inbox()
    port = free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, port
    finally:
        inbox.release.set()
        ctl.stop()
