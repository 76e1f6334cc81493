"""The durable spool: accepted events the broker has not acknowledged, in a local SQLite file (WAL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus import OutboundMessage, encode
from shared.db import make_engine, sqlite_file_lock

# The spool is this replica's local buffer, not the service's database: it must work when PostgreSQL or
# the broker is away, so it is a local SQLite file whose one table is created in place.
metadata = MetaData()
spooled_events = Table(
    "spooled_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(500)),
    Column("value", LargeBinary, nullable=False),
)


class Spool:
    """Append, read in order, delete after the broker acknowledged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: AsyncEngine | None = None
        self.pending = 0

    async def open(self) -> None:
        """Open (and create) the spool file; count what an earlier run left."""
        self._engine = make_engine(f"sqlite+aiosqlite:///{self.path.resolve()}")
        async with sqlite_file_lock(str(self.path.resolve())), self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.exec_driver_sql("PRAGMA synchronous=FULL")
            self.pending = (await conn.execute(select(func.count()).select_from(spooled_events))).scalar_one()

    async def close(self) -> None:
        """Close the file; what is still spooled stays for the next start."""
        if self._engine is not None:
            await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        assert self._engine is not None, "spool not opened"
        return self._engine

    async def append(self, messages: list[OutboundMessage]) -> None:
        """Write messages durably (committed before returning)."""
        rows = [{"topic": m.topic, "key": m.key, "value": encode(m.value)} for m in messages]
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA synchronous=FULL")
            await conn.execute(spooled_events.insert(), rows)
        self.pending += len(rows)

    async def peek(self, limit: int) -> list[tuple[int, OutboundMessage]]:
        """The oldest spooled messages with their row ids."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(spooled_events).order_by(spooled_events.c.id).limit(limit))).all()
        return [(r.id, OutboundMessage(r.topic, r.key, r.value)) for r in rows]

    async def remove(self, ids: list[int]) -> None:
        """Delete rows the broker acknowledged."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(spooled_events).where(spooled_events.c.id.in_(ids)))
        self.pending = max(0, self.pending - len(ids))
