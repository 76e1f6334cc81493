"""A real SMTP server for tests (aiosmtpd): keeps every accepted message; some addresses bounce or defer."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tessera.broker import free_port


class Sink:
    """Accepts mail; `bounce` addresses get 550 at RCPT, `defer` addresses 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.bounce: set[str] = set()
        self.defer: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.bounce:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to one recipient."""
        return [m for m in self.messages if m["To"] == address]


@contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    """An SMTP server on a free port for the duration of the block."""
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def html_of(message: EmailMessage) -> str:
    """The HTML part of a message."""
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
