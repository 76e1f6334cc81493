"""Invitation mail over SMTP (aiosmtplib); a failure is logged and the admin still gets the link."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where invitation mail goes out."""

    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    sender: str


def invitation_message(sender: str, to: str, link: str, role: str, hours: float) -> EmailMessage:
    """The invitation e-mail."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, "You are invited to Tessera"
    message.set_content(
        f"You have been invited to the Tessera console as {role}.\n\n"
        f"Choose your name and password here (the link works once, for {hours:g} hours):\n\n{link}\n"
    )
    return message


async def send(config: SmtpConfig, message: EmailMessage) -> bool:
    """Send one message; False (and a log line without addresses) when the server did not take it."""
    try:
        await aiosmtplib.send(message, hostname=config.host, port=config.port, username=config.username,
                              password=config.password, start_tls=config.starttls, timeout=10)  # fmt: skip
    except (aiosmtplib.SMTPException, OSError) as exc:
        log.warning("invitation_not_mailed", error=type(exc).__name__)
        return False
    return True
