"""Logins and server-side sessions: lockout and rate limits counted in the database (so they hold across
replicas), sessions with an idle and an absolute timeout, one generic answer for a wrong e-mail or password."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import audit
from services.console.audit import Actor
from services.console.models import LoginAttempt, User, UserSession
from services.console.passwords import Passwords
from shared.db import utcnow

SLIDE_EVERY = timedelta(seconds=30)  # the idle clock restarts at most this often (one write per request is too many)
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives: since its last request (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Failures within `lockout` that lock an account or an address for that long; attempts per minute."""

    account_failures: int
    address_failures: int
    lockout: timedelta
    attempts_per_minute: int


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session and the token its cookie carries (never stored)."""

    session: UserSession
    token: str


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A login's result: a user with a new session, or a refusal (`retry_after` seconds when locked out)."""

    user: User | None = None
    opened: Opened | None = None
    retry_after: int | None = None


def digest(value: str) -> str:
    """SHA-256 hex of a token, an account or an address: the form in which they are stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def expiry(row: UserSession, policy: SessionPolicy) -> datetime:
    """When a session ends if nothing more happens."""
    return min(row.last_seen_at + policy.idle, row.expires_at)


async def open_session(session: AsyncSession, user: User, policy: SessionPolicy) -> Opened:
    """A new session for a user (who thereby logged in)."""
    token, now = secrets.token_urlsafe(32), utcnow()
    user.last_login_at = now
    row = UserSession(token_hash=digest(token), csrf_token=secrets.token_urlsafe(32), user_id=user.id,
                      created_at=now, last_seen_at=now, expires_at=now + policy.absolute)  # fmt: skip
    session.add(row)
    await session.flush()
    return Opened(row, token)


async def resolve(session: AsyncSession, token: str, policy: SessionPolicy) -> tuple[UserSession, User] | None:
    """The live session of a cookie's token and its active user; an ended one is deleted and gives None."""
    # One round trip for both rows: this runs before every forwarded call.
    query = select(UserSession, User).outerjoin(User, User.id == UserSession.user_id)
    found = (await session.execute(query.where(UserSession.token_hash == digest(token)))).first()
    if found is None:
        return None
    (row, user), now = found, utcnow()
    if user is None or not user.active or expiry(row, policy) <= now:
        await session.delete(row)
        return None
    if now - row.last_seen_at >= SLIDE_EVERY:
        row.last_seen_at = now
    return row, user


def csrf_matches(row: UserSession, presented: str | None) -> bool:
    """True when an unsafe request carries the session's CSRF token."""
    return bool(presented) and hmac.compare_digest(row.csrf_token.encode(), (presented or "").encode())


async def end_session(session: AsyncSession, session_id: str, actor: Actor) -> None:
    """Log out one session."""
    await session.execute(delete(UserSession).where(UserSession.id == session_id))
    audit.record(session, actor, "logout", object_type="user", object_id=actor.id)


async def end_sessions_of(session: AsyncSession, user_id: str, *, keep: str | None = None) -> None:
    """End every session of a user at once (all but `keep`)."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.id != keep)
    await session.execute(query)


async def login(
    session: AsyncSession, passwords: Passwords, *, email: str, password: str, address: str | None, actor: Actor,
    policies: tuple[LoginPolicy, SessionPolicy],
) -> LoginOutcome:  # fmt: skip
    """Check an e-mail and password under the lockout rules (per account, and per client `address`); the same work
    whether or not the e-mail is known."""
    login_policy, session_policy = policies
    account, now = digest(email), utcnow()
    address = digest(address or "")
    wait = await retry_after(session, account=account, address=address, policy=login_policy, now=now)
    if wait is not None:
        audit.record(session, actor, "login_failed", object_type="user", detail={"reason": "locked"})
        return LoginOutcome(retry_after=wait)
    user = await session.scalar(select(User).where(User.email == email))
    matches = await passwords.verify(user.password_hash if user else None, password)
    succeeded = bool(user and matches and user.active)
    session.add(LoginAttempt(account=account, address=address, succeeded=succeeded, at=now))
    if not user or not succeeded:
        reason = "unknown_email" if user is None else ("inactive" if matches else "wrong_password")
        audit.record(session, actor, "login_failed", object_type="user", object_id=user.id if user else None,
                     detail={"reason": reason})  # fmt: skip
        return LoginOutcome()
    return LoginOutcome(user, await _logged_in(session, passwords, user, password, actor, session_policy))


async def _logged_in(
    session: AsyncSession, passwords: Passwords, user: User, password: str, actor: Actor, policy: SessionPolicy
) -> Opened:
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await passwords.hash(password)
    audit.record(session, Actor(user.id, user.email, actor.ip), "login", object_type="user", object_id=user.id)
    return await open_session(session, user, policy)


async def retry_after(
    session: AsyncSession, *, account: str, address: str, policy: LoginPolicy, now: datetime
) -> int | None:
    """Seconds until a login may be tried again for this account from this address, or None when it may now."""
    last_success = await session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.account == account, LoginAttempt.succeeded.is_(True))
    )
    window_start = now - policy.lockout
    since = max(window_start, last_success) if last_success else window_start  # a login clears the account's count
    failed = select(LoginAttempt.at).where(LoginAttempt.succeeded.is_(False))
    waits = [
        await _lock_end(session, failed.where(LoginAttempt.account == account, LoginAttempt.at > since),
                        policy.account_failures, policy.lockout, now),
        await _lock_end(session, failed.where(LoginAttempt.address == address, LoginAttempt.at > window_start),
                        policy.address_failures, policy.lockout, now),
        await _lock_end(session, select(LoginAttempt.at).where(LoginAttempt.address == address,
                                                               LoginAttempt.at > now - RATE_WINDOW),
                        policy.attempts_per_minute, RATE_WINDOW, now),
    ]  # fmt: skip
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


async def _lock_end(
    session: AsyncSession, attempts: Select[datetime], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until fewer than `limit` of these attempts lie in the window (the oldest of the newest `limit` leaves
    it), or None when fewer do already."""
    times = (await session.scalars(attempts.order_by(LoginAttempt.at.desc()).limit(limit))).all()
    if len(times) < limit:
        return None
    return max(1, math.ceil((times[-1] + window - now).total_seconds()))


async def prune(session: AsyncSession, *, policy: SessionPolicy, keep_attempts: timedelta) -> None:
    """Delete ended sessions and login attempts that no longer count."""
    now = utcnow()
    await session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    await session.execute(delete(UserSession).where(UserSession.last_seen_at <= now - policy.idle))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - keep_attempts))
