"""SMTP delivery: a pool of connections with bounded concurrency and a rate limit; permanent failures bounce."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from services.campaigns.messages import Mail

TRANSIENT_TRIES = 3


@dataclass(frozen=True)
class Delivery:
    """What the SMTP server said about one message: accepted, bounced (5xx) or failed (anything else)."""

    key: int
    outcome: str  # sent | bounced | failed
    detail: str = ""


class RateLimiter:
    """At most `per_second` acquisitions per second, spread evenly (0: unlimited)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next slot."""
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            wait = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    concurrency: int = 10
    rate_per_second: float = 0.0


async def deliver(config: SmtpConfig, messages: Sequence[tuple[int, Mail]]) -> list[Delivery]:
    """Send every message over up to `concurrency` connections; one result per message, in no particular order."""
    queue: asyncio.Queue[tuple[int, Mail]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)
    limiter, results = RateLimiter(config.rate_per_second), list[Delivery]()
    workers = [_worker(config, queue, limiter, results) for _ in range(min(config.concurrency, len(messages)))]
    await asyncio.gather(*workers)
    return results


async def _worker(
    config: SmtpConfig, queue: asyncio.Queue[tuple[int, Mail]], limiter: RateLimiter, results: list[Delivery]
) -> None:
    smtp: aiosmtplib.SMTP | None = None
    try:
        while not queue.empty():
            key, message = queue.get_nowait()
            await limiter.acquire()
            smtp, delivery = await _send(config, smtp, key, message)
            results.append(delivery)
    finally:
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except aiosmtplib.SMTPException:
                smtp.close()


async def _send(
    config: SmtpConfig, smtp: aiosmtplib.SMTP | None, key: int, message: Mail
) -> tuple[aiosmtplib.SMTP | None, Delivery]:
    """One message, reconnecting after a dropped connection; 5xx answers are permanent (bounced)."""
    detail = ""
    for _ in range(TRANSIENT_TRIES):
        try:
            if smtp is None or not smtp.is_connected:
                smtp = await _connect(config)
            refused, _ = await smtp.sendmail(message.sender, [message.to], message.raw)
            if refused:
                code, text = next(iter(refused.values()))
                return smtp, Delivery(key, "bounced" if code >= 500 else "failed", f"{code} {text}")
            return smtp, Delivery(key, "sent")
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return smtp, Delivery(key, "bounced" if first.code >= 500 else "failed", f"{first.code} {first.message}")
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                return smtp, Delivery(key, "bounced", f"{exc.code} {exc.message}")
            detail = f"{exc.code} {exc.message}"
        except (aiosmtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            smtp = None
    return smtp, Delivery(key, "failed", detail[:500])


async def _connect(config: SmtpConfig) -> aiosmtplib.SMTP:
    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, start_tls=config.starttls, timeout=30)
    await smtp.connect()
    if config.username:
        await smtp.login(config.username, config.password or "")
    return smtp
