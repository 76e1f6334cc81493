"""People: the first admin, users and their roles, invitations, password changes."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import audit
from services.console.audit import Actor
from services.console.models import Invitation, User
from services.console.passwords import Passwords
from services.console.sessions import digest, end_sessions_of
from shared.db import transaction_lock, utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound


async def needs_setup(session: AsyncSession) -> bool:
    """True while nobody can log in yet (no user exists)."""
    return await session.scalar(select(func.count()).select_from(User)) == 0


async def set_up(
    session: AsyncSession, passwords: Passwords, *, expected: str | None, token: str, fields: dict[str, str],
    actor: Actor,
) -> User:  # fmt: skip
    """Create the first admin with the one-time setup token; refused once anyone exists."""
    if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
        raise Forbidden("The setup token is not valid; use the link `tessera up` printed.")
    await transaction_lock(session, "console:setup", User.__table__)  # two setups at once make one admin
    if not await needs_setup(session):
        raise Forbidden("The console is set up already; log in instead.")
    user = await _add_user(session, passwords, role="admin", **fields)
    audit.record(session, Actor(user.id, user.email, actor.ip), "setup", object_type="user", object_id=user.id)
    return user


async def ensure_admin(session: AsyncSession, passwords: Passwords, *, email: str, name: str, password: str) -> bool:
    """Create an admin with these details unless an admin exists already; True when one was made."""
    await transaction_lock(session, "console:setup", User.__table__)
    if await session.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
        return False
    if await session.scalar(select(User).where(User.email == email)):
        raise Conflict("TESSERA_CONSOLE_ADMIN_EMAIL belongs to a user who is not an admin.")
    user = await _add_user(session, passwords, role="admin", email=email, name=name, password=password)
    audit.record(session, Actor(None, None, None), "setup", object_type="user", object_id=user.id,
                 detail={"from": "environment"})  # fmt: skip
    return True


async def _add_user(session: AsyncSession, passwords: Passwords, *, role: str, email: str, name: str,
                    password: str) -> User:  # fmt: skip
    user = User(email=email, name=name, role=role, password_hash=await passwords.hash(password), active=True,
                created_at=utcnow())  # fmt: skip
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user, oldest first."""
    return (await session.scalars(select(User).order_by(User.created_at, User.id))).all()


async def emails_of(session: AsyncSession, user_ids: Iterable[str | None]) -> dict[str, str]:
    """User id → e-mail address, for the ids given."""
    wanted = {user_id for user_id in user_ids if user_id}
    if not wanted:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(wanted)))
    return {row.id: row.email for row in rows}


async def update_user(session: AsyncSession, actor: Actor, user_id: str, changes: dict[str, Any]) -> User:
    """Change a user's name, role or whether they may log in; deactivating ends their sessions at once. The last
    active admin can be neither demoted nor deactivated."""
    await transaction_lock(session, "console:admins", User.__table__)
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"User '{user_id}' does not exist.")
    before: dict[str, Any] = {"name": user.name, "role": user.role, "active": user.active}
    after = before | changes
    if before["role"] == "admin" and before["active"] and (after["role"] != "admin" or not after["active"]):
        await _keep_an_admin(session, user_id)
    user.name, user.role, user.active = after["name"], after["role"], after["active"]
    if before["active"] and not user.active:
        await end_sessions_of(session, user.id)
    _audit_changes(session, actor, user, before, after)
    return user


async def _keep_an_admin(session: AsyncSession, leaving: str) -> None:
    others = (
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True), User.id != leaving)
    )
    if not await session.scalar(others):
        raise Conflict("This is the last active admin: make someone else an admin first.")


def _audit_changes(
    session: AsyncSession, actor: Actor, user: User, before: dict[str, Any], after: dict[str, Any]
) -> None:
    changed = [name for name in ("name", "role", "active") if before[name] != after[name]]
    for name in changed:
        action = {"role": "role_changed", "name": "user_updated"}.get(name)
        action = action or ("user_deactivated" if not after["active"] else "user_reactivated")
        detail = {"from": before[name], "to": after[name]} if name == "role" else {"fields": [name]}
        audit.record(session, actor, action, object_type="user", object_id=user.id, detail=detail)


async def change_password(
    session: AsyncSession, passwords: Passwords, user: User, *, current: str, new: str, keep_session: str
) -> None:
    """Set a new password after checking the current one; the user's other sessions end."""
    if not await passwords.verify(user.password_hash, current):
        raise Invalid("The current password is wrong.", fields=[{"field": "current_password", "reason": "wrong"}])
    user.password_hash = await passwords.hash(new)
    await end_sessions_of(session, user.id, keep=keep_session)
    audit.record(session, Actor(user.id, user.email, None), "password_changed", object_type="user", object_id=user.id)


async def invite(
    session: AsyncSession, actor: Actor, *, email: str, role: str, lifetime: timedelta
) -> tuple[Invitation, str]:
    """A new invitation and its token (only its hash is kept); refused for someone who is a user already."""
    if await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"{email} has an account already.", fields=[{"field": "email", "reason": "taken"}])
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, role=role, token_hash=digest(token), expires_at=utcnow() + lifetime,
                            mailed=False, created_by=actor.id, created_at=utcnow())  # fmt: skip
    session.add(invitation)
    await session.flush()
    audit.record(session, actor, "invitation_created", object_type="invitation", object_id=invitation.id,
                 detail={"role": role})  # fmt: skip
    return invitation, token


async def list_invitations(session: AsyncSession) -> Sequence[Invitation]:
    """Every invitation, newest first."""
    return (await session.scalars(select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id))).all()


async def delete_invitation(session: AsyncSession, actor: Actor, invitation_id: str) -> None:
    """Withdraw an invitation: its link stops working."""
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(f"Invitation '{invitation_id}' does not exist.")
    await session.delete(invitation)
    audit.record(session, actor, "invitation_deleted", object_type="invitation", object_id=invitation_id)


async def invitation_of(session: AsyncSession, token: str) -> Invitation:
    """The invitation behind a link's token, or 404."""
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == digest(token[:200])))
    if invitation is None:
        raise NotFound("This invitation link is not known (it may have been withdrawn).")
    return invitation


def why_invalid(invitation: Invitation, now: datetime) -> str | None:
    """`used` or `expired` when the link no longer works, else None."""
    if invitation.accepted_at is not None:
        return "used"
    return "expired" if invitation.expires_at <= now else None


async def accept(
    session: AsyncSession, passwords: Passwords, *, token: str, name: str, password: str, actor: Actor
) -> User:
    """Turn an invitation into a user, once, before it expires."""
    invitation, now = await invitation_of(session, token), utcnow()
    reason = why_invalid(invitation, now)
    if reason:
        raise Conflict(f"This invitation was {'used already' if reason == 'used' else 'not used in time'}; "
                       "ask an admin for a new one.")  # fmt: skip
    unused = update(Invitation).where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
    claimed = await session.execute(unused.values(accepted_at=now))  # single use, also under concurrent accepts
    taken = await session.scalar(select(User.id).where(User.email == invitation.email))
    if getattr(claimed, "rowcount", 0) != 1 or taken:
        raise Conflict("This invitation was used already; log in instead.")
    user = await _add_user(
        session, passwords, role=invitation.role, email=invitation.email, name=name, password=password
    )
    audit.record(session, Actor(user.id, user.email, actor.ip), "invitation_accepted", object_type="invitation",
                 object_id=invitation.id)  # fmt: skip
    return user
