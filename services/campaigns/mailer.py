"""SMTP delivery: a pool of connections with bounded concurrency and a rate limit.

Only the recipient's own refusal (RCPT TO, or DATA of its single-recipient message, with a 5xx) bounces it. When the
server takes no mail from us at all (unreachable, our login, greeting or sender refused) nothing more is tried and
every message not taken comes back `unsent`, with a short reason for the campaign to pause on. A connection lost
after the message went out may have delivered it: that one `failed`, never to be sent again."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from services.campaigns.messages import Mail

TRANSIENT_TRIES = 3
RECONNECT_SECONDS = 0.25  # doubled before each new connection after a failed one
SENT, BOUNCED, FAILED, UNSENT = "sent", "bounced", "failed", "unsent"
# Reasons for people (campaign.last_error): no addresses, codes or exception texts.
UNREACHABLE = "the SMTP server could not be reached"
LOGIN_REFUSED = "the SMTP server refused the login (check the SMTP username and password)"
GREETING_REFUSED = "the SMTP server refused our greeting (HELO/EHLO)"
SENDER_REFUSED = "the SMTP server refused the sender address (check mail_from)"
NOT_ACCEPTING = "the SMTP server is not accepting mail for now"
LOST = "connection lost while sending"
_CONNECTION_ERRORS = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    OSError,
)
_CLOSING = 421  # the server is closing the connection: nothing was taken
_ENHANCED = re.compile(r"^\d\.\d{1,3}\.\d{1,3}(?=\s|$)")


@dataclass(frozen=True)
class Delivery:
    """What became of one message: sent; bounced (refused for its recipient: suppress the address); failed (not
    this time, or not known to have arrived: never retried); unsent (the server took no mail from us: send later)."""

    key: int
    outcome: str  # sent | bounced | failed | unsent
    detail: str = ""  # the reply code and enhanced status ("550 5.1.1"), or a reason (never the server's text)


class ServerProblem(Exception):
    """The server takes no mail from us at all; `reason` is one of the texts above."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Transient(Exception):
    """Worth another try; `give_up` is the outcome once the tries are spent."""

    def __init__(self, give_up: Delivery | ServerProblem) -> None:
        super().__init__()
        self.give_up = give_up


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
    """Send every message over up to `concurrency` connections; one result per message, in no particular order.
    After a ServerProblem no new message is started: the rest come back `unsent` with its reason."""
    queue: asyncio.Queue[tuple[int, Mail]] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)
    limiter, results, stopped = RateLimiter(config.rate_per_second), list[Delivery](), list[str]()
    workers = [_worker(config, queue, limiter, results, stopped) for _ in range(min(config.concurrency, len(messages)))]
    await asyncio.gather(*workers)
    while not queue.empty():
        results.append(Delivery(queue.get_nowait()[0], UNSENT, stopped[0]))
    return results


async def _worker(
    config: SmtpConfig, queue: asyncio.Queue[tuple[int, Mail]], limiter: RateLimiter, results: list[Delivery],
    stopped: list[str],
) -> None:  # fmt: skip
    smtp: aiosmtplib.SMTP | None = None
    try:
        while not stopped and not queue.empty():
            key, message = queue.get_nowait()
            await limiter.acquire()
            try:
                smtp, delivery = await _send(config, smtp, key, message)
            except ServerProblem as exc:
                smtp, delivery = None, Delivery(key, UNSENT, exc.reason)
                stopped.append(exc.reason)
            results.append(delivery)
    finally:
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()


async def _send(
    config: SmtpConfig, smtp: aiosmtplib.SMTP | None, key: int, message: Mail
) -> tuple[aiosmtplib.SMTP | None, Delivery]:
    """One message, on a new connection after one was lost before the message went out; raises ServerProblem
    (its connection closed) when the server takes no mail from us."""
    give_up: Delivery | ServerProblem = ServerProblem(UNREACHABLE)
    for attempt in range(TRANSIENT_TRIES):
        try:
            if smtp is None or not smtp.is_connected:
                await asyncio.sleep(RECONNECT_SECONDS * (2**attempt - 1))  # none before the first try
                smtp = await _connect(config)
            return smtp, await _transaction(smtp, key, message)
        except _Transient as exc:
            give_up = exc.give_up
        except ServerProblem:
            _close(smtp)
            raise
    if isinstance(give_up, ServerProblem):
        _close(smtp)
        raise give_up
    return smtp, give_up


async def _connect(config: SmtpConfig) -> aiosmtplib.SMTP:
    """A connection, logged in when a username is set."""
    smtp = aiosmtplib.SMTP(hostname=config.host, port=config.port, start_tls=config.starttls, timeout=30)
    try:
        await smtp.connect()
        if config.username:
            await smtp.login(config.username, config.password or "")
    except aiosmtplib.SMTPHeloError as exc:
        smtp.close()
        raise ServerProblem(GREETING_REFUSED) from exc
    except _CONNECTION_ERRORS as exc:  # refused, reset, timed out, TLS failed, or a 4xx/5xx greeting
        smtp.close()
        raise _Transient(ServerProblem(UNREACHABLE)) from exc
    except aiosmtplib.SMTPException as exc:  # the login refused, or no login offered
        smtp.close()
        raise ServerProblem(LOGIN_REFUSED) from exc
    return smtp


async def _transaction(smtp: aiosmtplib.SMTP, key: int, message: Mail) -> Delivery:
    """MAIL FROM, RCPT TO and DATA of one message; raises _Transient or ServerProblem when the answer is about us,
    not about the recipient."""
    try:
        await smtp.mail(message.sender)
    except _CONNECTION_ERRORS as exc:
        raise _lost_before_sending(smtp) from exc
    except (aiosmtplib.SMTPResponseException, ValueError) as exc:
        raise await _sender_problem(smtp, exc) from exc
    try:
        await smtp.rcpt(message.to)
    except _CONNECTION_ERRORS as exc:
        raise _lost_before_sending(smtp) from exc
    except (aiosmtplib.SMTPResponseException, ValueError) as exc:
        return await _refused(smtp, key, exc)
    try:
        await smtp.data(message.raw)
    except _CONNECTION_ERRORS:
        smtp.close()
        return Delivery(key, FAILED, LOST)  # the server may have taken it
    except aiosmtplib.SMTPResponseException as exc:
        return await _refused(smtp, key, exc, retry_temporary=True)
    return Delivery(key, SENT)


def _lost_before_sending(smtp: aiosmtplib.SMTP) -> _Transient:
    smtp.close()
    return _Transient(ServerProblem(UNREACHABLE))


async def _sender_problem(smtp: aiosmtplib.SMTP, exc: Exception) -> Exception:
    """What a refused MAIL FROM means: the server is closing or busy (try again), or refuses us."""
    code = exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else 500
    if isinstance(exc, aiosmtplib.SMTPHeloError):
        return ServerProblem(GREETING_REFUSED)
    if code == _CLOSING:
        return _lost_before_sending(smtp)
    await _reset(smtp)
    return _Transient(ServerProblem(NOT_ACCEPTING)) if code < 500 else ServerProblem(SENDER_REFUSED)


async def _refused(smtp: aiosmtplib.SMTP, key: int, exc: Exception, *, retry_temporary: bool = False) -> Delivery:
    """A refusal of this recipient (RCPT) or of its message (DATA): 5xx bounces; 4xx fails (after more tries if
    `retry_temporary`); 421 means the server is closing, which says nothing about the recipient."""
    if not isinstance(exc, aiosmtplib.SMTPResponseException):
        await _reset(smtp)
        return Delivery(key, FAILED, "invalid address")
    if exc.code == _CLOSING:
        raise _lost_before_sending(smtp)
    await _reset(smtp)
    outcome = Delivery(key, BOUNCED if exc.code >= 500 else FAILED, _reply(exc))
    if outcome.outcome == FAILED and retry_temporary:
        raise _Transient(outcome)
    return outcome


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    """The reply code and enhanced status code: the server's text can quote the address."""
    enhanced = _ENHANCED.match(exc.message.strip())
    return f"{exc.code} {enhanced.group(0)}" if enhanced else str(exc.code)


async def _reset(smtp: aiosmtplib.SMTP) -> None:
    """RSET after a refusal, so the next message starts a clean envelope (or the connection is dropped)."""
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _close(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()
