"""Several replicas of a service, each with its outbox relay, on one database: one relay leads, so the messages about
one key leave in the order they were staged (two relays sending rows 1–50 and 51–100 at once would swap them)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus import Bus, EventBuffer, ensure_topics
from shared.db import make_engine, make_session_factory, try_lock
from shared.outbox import OutboxRelay, outbox_table, stage
from tests.helpers import TopicReader

metadata = MetaData()
outbox = outbox_table(metadata)
ROWS, KEYS, REPLICAS = 600, 3, 3


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """One engine per replica (its own connections, as its own process would have)."""
    engines = [make_engine(database_url) for _ in range(REPLICAS)]
    async with engines[0].begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engines
    for engine in engines:
        await engine.dispose()


async def test_one_relay_leads_and_each_keys_messages_leave_in_order(broker: str, engines: list[AsyncEngine]) -> None:
    topic = f"tessera.test-order-{uuid.uuid4().hex[:6]}.v1"
    await ensure_topics(broker, [topic], partitions=6)
    buffer = EventBuffer()
    for n in range(ROWS):
        buffer.add(topic, {"key": f"k{n % KEYS}", "n": n}, key=f"k{n % KEYS}")
    async with make_session_factory(engines[0])() as session:
        await stage(session, outbox, buffer)
        await session.commit()
    buses = [Bus(broker, client_id=f"relay-{i}") for i in range(REPLICAS)]
    relays = [OutboxRelay(make_session_factory(engine), outbox, bus, batch_size=50,
                          leader=lambda engine=engine: try_lock(engine, f"outbox-relay:{topic}"))  # type: ignore[misc]
              for engine, bus in zip(engines, buses, strict=True)]  # fmt: skip
    for bus in buses:
        await bus.start()
    tasks = [asyncio.create_task(relay.run(idle_seconds=0.05)) for relay in relays]
    try:
        async with TopicReader(broker, topic) as reader:
            values = await reader.wait_until(lambda v: True, count=ROWS, timeout=60)
        assert sum(relay.leading for relay in relays) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for bus in buses:
            await bus.stop()
    for key in range(KEYS):
        sent = [v["n"] for v in values if v["key"] == f"k{key}"]
        assert sent == sorted(sent) and len(sent) == ROWS // KEYS
