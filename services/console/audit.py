"""The audit log: who did what, when, on which object; written in the transaction of the change it records."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.models import AuditEntry
from shared.db import utcnow


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user (id and e-mail) or nobody yet (a login), from a client address already cut to its network."""

    id: str | None
    email: str | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to look for in the log; every field is optional."""

    actor: str | None = None  # a user id or an e-mail address
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def network_of(address: str | None) -> str | None:
    """A client address with its host part cut off (IPv4 /24, IPv6 /48): where from, not who."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the caller's transaction."""
    session.add(AuditEntry(at=utcnow(), actor_id=actor.id, actor_email=actor.email, action=action[:200],
                           object_type=object_type, object_id=object_id, detail=detail or {}, ip=actor.ip))  # fmt: skip


async def entries(
    session: AsyncSession, wanted: AuditFilter, *, before: int | None, limit: int
) -> tuple[Sequence[AuditEntry], int | None]:
    """Entries newest first, from just before the id `before`; and the cursor of the next page, if any."""
    query = _filtered(select(AuditEntry), wanted)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))).all()
    return rows, (rows[-1].id if len(rows) == limit else None)


def _filtered(query: Select[AuditEntry], wanted: AuditFilter) -> Select[AuditEntry]:
    if wanted.actor:
        query = query.where(or_(AuditEntry.actor_id == wanted.actor, AuditEntry.actor_email == wanted.actor.lower()))
    for column, value in ((AuditEntry.action, wanted.action), (AuditEntry.object_type, wanted.object_type),
                          (AuditEntry.object_id, wanted.object_id)):  # fmt: skip
        if value:
            query = query.where(column == value)
    if wanted.since:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.at < wanted.until)
    return query
