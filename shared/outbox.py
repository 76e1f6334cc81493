"""Transactional outbox: events are written with the data, then relayed to Kafka."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import structlog
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.aio import wait_event
from shared.bus import Bus, EventBuffer, OutboundMessage, encode
from shared.db import UTCDateTime, dialect_name, insert_many, utcnow

log = structlog.get_logger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """The `outbox` table of one service's database."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(500), nullable=True),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
    )


async def stage(session: AsyncSession, table: Table, buffer: EventBuffer) -> None:
    """Write the buffered events into the outbox inside the caller's transaction."""
    if not buffer.messages:
        return
    now = utcnow()
    rows = [{"topic": m.topic, "key": m.key, "value": encode(m.value), "created_at": now} for m in buffer.messages]
    await insert_many(session, table, rows)
    buffer.messages.clear()


Leader = Callable[[], AbstractAsyncContextManager[bool]]
LEADER_RETRY_SECONDS = 2.0


@asynccontextmanager
async def _always() -> AsyncIterator[bool]:
    yield True


class OutboxRelay:
    """Sends outbox rows to Kafka in id order and deletes them once acknowledged. With several replicas of a service
    only the one holding `leader` relays, so one key's messages never leave out of order; the others stand by."""

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], table: Table, bus: Bus, *, batch_size: int = 500,
        leader: Leader = _always,
    ) -> None:  # fmt: skip
        self._sessions = session_factory
        self._table = table
        self._bus = bus
        self._batch_size = batch_size
        self._wakeup = asyncio.Event()
        self._leader = leader
        self.leading = False

    def notify(self) -> None:
        """Wake the relay after a commit that staged events."""
        self._wakeup.set()

    async def run(self, *, idle_seconds: float = 0.25) -> None:
        """Relay forever while this process leads (rows staged by other replicas are found by polling)."""
        while True:
            async with self._leader() as held:
                self.leading = held
                if held:
                    await self._relay_forever(idle_seconds)
            await asyncio.sleep(LEADER_RETRY_SECONDS)

    async def _relay_forever(self, idle_seconds: float) -> None:
        """Relay until cancelled; a failed send is retried with backoff and never drops a row."""
        backoff = 0.2
        while True:
            await wait_event(self._wakeup, idle_seconds)
            self._wakeup.clear()
            try:
                while await self.relay_once():
                    pass
                backoff = 0.2
            except Exception as exc:  # broker or database away: keep the rows, try again later
                log.warning("outbox_relay_failed", error=type(exc).__name__, retry_in=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                self._wakeup.set()

    async def relay_once(self) -> int:
        """Send one batch of pending rows; return how many were sent."""
        async with self._sessions() as session:
            query = select(self._table).order_by(self._table.c.id).limit(self._batch_size)
            if dialect_name(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            if not rows:
                return 0
            messages = [OutboundMessage(r.topic, r.key, r.value) for r in rows]
            await self._bus.send_many(messages)
            await session.execute(delete(self._table).where(self._table.c.id.in_([r.id for r in rows])))
            await session.commit()
            return len(rows)
