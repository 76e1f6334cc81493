"""The consumer loop: poison messages go to the rejected topic, offsets are committed after the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Column, MetaData, String, Table, select

from shared.bus import Bus, EventBuffer
from shared.consuming import ConsumerWorker, PoisonMessage, Received
from shared.db import make_engine, make_session_factory
from shared.events import rejected_topic
from shared.outbox import OutboxRelay, outbox_table
from tests.helpers import TopicReader, wait_for

metadata = MetaData()
applied = Table("applied", metadata, Column("id", String(50), primary_key=True))
outbox = outbox_table(metadata)


async def handler(session, messages: Sequence[Received], events: EventBuffer) -> None:  # type: ignore[no-untyped-def]
    for message in messages:
        if message.value.get("poison"):
            raise PoisonMessage("marked as poison")
        if await session.scalar(select(applied.c.id).where(applied.c.id == message.value["id"])) is None:
            await session.execute(applied.insert().values(id=message.value["id"]))
        events.add("tessera.test-out.v1", {"seen": message.value["id"]}, key=message.key)


@pytest.fixture
async def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield make_session_factory(engine)
    await engine.dispose()


async def test_poison_is_rejected_and_the_rest_applied(broker: str, sessions) -> None:  # type: ignore[no-untyped-def]
    topic = f"tessera.test-{uuid.uuid4().hex[:6]}.v1"
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    for value in [{"id": "a"}, {"id": "b", "poison": True}, b"not json", {"id": "c"}]:
        await producer.send_and_wait(topic, value if isinstance(value, bytes) else orjson.dumps(value), key=b"k")
    await producer.stop()
    bus = Bus(broker, client_id="test")
    await bus.start()
    relay = OutboxRelay(sessions, outbox, bus)
    worker = ConsumerWorker(
        bootstrap_servers=broker, group_id=f"g-{topic}", handlers={topic: handler}, session_factory=sessions,
        outbox=outbox, on_committed=relay.notify, attempts=2,
    )  # fmt: skip
    tasks = [asyncio.create_task(worker.run()), asyncio.create_task(relay.run(idle_seconds=0.1))]
    try:
        async with TopicReader(broker, rejected_topic(topic)) as reader:
            rejected = await reader.wait_until(lambda v: True, count=2, timeout=30)
        assert sorted(r["reason"][:20] for r in rejected) == ["PoisonMessage: marke", "not JSON: invalid li"]

        async def ids() -> list[str] | None:
            async with sessions() as s:
                found = sorted((await s.scalars(select(applied.c.id))).all())
            return found if found == ["a", "c"] else None

        await wait_for(ids)
        async with TopicReader(broker, "tessera.test-out.v1") as reader:
            await reader.wait_until(lambda v: v["seen"] == "c")
        committed = await wait_for(lambda: _committed(worker, topic))
        assert committed == 4
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.stop()


async def _committed(worker: ConsumerWorker, topic: str) -> int | None:
    partitions = worker.consumer.assignment()
    total = 0
    for tp in partitions:
        total += await worker.consumer.committed(tp) or 0
    return total or None
