"""One unit of work for requests, consumers and background jobs (the pattern of cosmicpython's unit of work and
Polar's worker session): a session and an event buffer; on success the buffered events are staged into the outbox
and committed with the data, then the relay is woken; on failure everything rolls back and the events are dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import EventBuffer
from shared.outbox import stage


@dataclass
class Work:
    """What domain code is handed: the session to read and write with, and the buffer its events go to."""

    session: AsyncSession
    events: EventBuffer


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], outbox: Table, notify: Callable[[], None] = lambda: None
) -> AsyncIterator[Work]:
    """Commit the block's writes and its events together (the relay is woken after); roll both back on error."""
    async with sessions() as session:
        work = Work(session, EventBuffer())
        session.info["events"] = work.events
        yield work
        await stage(session, outbox, work.events)
        await session.commit()
    notify()
