"""Consumer idempotency: the message ids a service has already applied."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import UTCDateTime, insert_many, utcnow


def inbox_table(metadata: MetaData) -> Table:
    """The `processed_messages` table of one consuming service."""
    return Table(
        "processed_messages",
        metadata,
        Column("message_id", String(300), primary_key=True),  # shared.events.dedup_key
        Column("processed_at", UTCDateTime, nullable=False),
    )


async def unseen(session: AsyncSession, table: Table, message_ids: Iterable[str]) -> set[str]:
    """The ids among `message_ids` that were never applied."""
    ids = set(message_ids)
    if not ids:
        return set()
    seen = await session.scalars(select(table.c.message_id).where(table.c.message_id.in_(ids)))
    return ids - set(seen)


async def mark_processed(session: AsyncSession, table: Table, message_ids: Iterable[str]) -> None:
    """Record ids as applied, in the caller's transaction."""
    now = utcnow()
    rows = [{"message_id": m, "processed_at": now} for m in message_ids]
    await insert_many(session, table, rows)
