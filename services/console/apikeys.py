"""API keys for integrations, issued here: shown once, kept as SHA-256, revocable; the services ask about them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console import audit
from services.console.audit import Actor
from services.console.models import ApiKey
from shared.auth import generate_key, hash_key
from shared.db import utcnow
from shared.errors import NotFound

USED_EVERY = timedelta(minutes=1)  # `last_used_at` is kept to the minute: one write per request is too many


async def create_key(session: AsyncSession, actor: Actor, *, name: str, role: str) -> tuple[ApiKey, str]:
    """A new key and its only showing."""
    key = generate_key("tsk")
    row = ApiKey(name=name, role=role, key_hash=hash_key(key), hint=f"{key[:8]}…", created_by=actor.id,
                 created_at=utcnow())  # fmt: skip
    session.add(row)
    await session.flush()
    audit.record(session, actor, "api_key_created", object_type="api_key", object_id=row.id, detail={"role": role})
    return row, key


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    """Every key, revoked ones too, newest first."""
    return (await session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id))).all()


async def revoke_key(session: AsyncSession, actor: Actor, key_id: str) -> None:
    """Revoke a key (again: nothing changes); the services refuse it once their cache of it runs out."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key '{key_id}' does not exist.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor, "api_key_revoked", object_type="api_key", object_id=row.id)


async def verify_key(session: AsyncSession, sha256: str) -> ApiKey | None:
    """The live key with this SHA-256 (its use noted), or None."""
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == sha256, ApiKey.revoked_at.is_(None)))
    now = utcnow()
    if row is not None and (row.last_used_at is None or now - row.last_used_at >= USED_EVERY):
        row.last_used_at = now
    return row
