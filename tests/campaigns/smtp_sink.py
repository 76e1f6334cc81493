"""A real SMTP server for tests (aiosmtpd): keeps every accepted message; some addresses bounce or defer, and the
server as a whole can refuse logins, the sender, or drop the connection while a message is being taken."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tessera.broker import free_port


class Sink:
    """Accepts mail; `bounce` addresses get 550 at RCPT, `defer` addresses 451, `refuse_data` addresses 554 after
    DATA, `drop_data` addresses lose the connection right after their message was taken; `refuse_sender` answers 550
    to every MAIL FROM."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.bounce: set[str] = set()
        self.defer: set[str] = set()
        self.refuse_data: set[str] = set()
        self.drop_data: set[str] = set()
        self.refuse_sender = False
        self.hold_at: int | None = None
        self.holding, self.go_on = threading.Event(), threading.Event()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.refuse_sender:
            return "550 5.7.1 <marketing@tessera.invalid>: sender rejected"
        envelope.mail_from, envelope.mail_options = address, options
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.bounce:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_data & set(envelope.rcpt_tos):
            return f"554 5.6.0 message for <{envelope.rcpt_tos[0]}> refused"
        if self.hold_at is not None and len(self.messages) >= self.hold_at:
            self.hold_at = None
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.go_on.wait)  # other connections go on
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        if self.drop_data & set(envelope.rcpt_tos):
            server.transport.abort()  # taken, but the client never hears so
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to one recipient."""
        return [m for m in self.messages if m["To"] == address]


def refuse_every_login(*_: Any) -> AuthResult:
    """An aiosmtpd authenticator that answers 535 to every AUTH."""
    return AuthResult(success=False, handled=False)


@contextmanager
def smtp_sink(**smtp_options: Any) -> Iterator[tuple[Sink, int]]:
    """An SMTP server on a free port for the duration of the block (options go to aiosmtpd's SMTP)."""
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **smtp_options)
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
