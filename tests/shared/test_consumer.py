"""The consumer loop: poison messages go to the rejected topic, offsets are committed after the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import Column, MetaData, String, Table, select, text

from shared.bus import Bus, EventBuffer
from shared.consuming import ConsumerWorker, PoisonMessage, Received
from shared.db import make_engine, make_session_factory
from shared.events import rejected_topic
from shared.outbox import OutboxRelay, outbox_table
from shared.transient import is_transient
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


@pytest.mark.parametrize("sqlstate", ["40P01", "57P03"])
async def test_transient_database_errors_are_retried_never_rejected(broker: str, fresh_database, sqlstate: str) -> None:  # type: ignore[no-untyped-def]
    """A deadlock or "starting up", raised by PostgreSQL itself more often than a handler failure is retried: every
    message is applied in the end and none is rejected."""
    engine = make_engine(await fresh_database("postgres", "transient"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions, failures = make_session_factory(engine), {"left": 6}  # 3 for the batch, 3 for its first message

    async def flaky(session, messages: Sequence[Received], events: EventBuffer) -> None:  # type: ignore[no-untyped-def]
        if failures["left"] > 0:
            failures["left"] -= 1
            await session.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'busy' USING ERRCODE = '{sqlstate}'; END $$"))
        await handler(session, messages, events)

    topic = f"tessera.test-{uuid.uuid4().hex[:6]}.v1"
    producer = AIOKafkaProducer(bootstrap_servers=broker)
    await producer.start()
    for value in ({"id": "a"}, {"id": "b"}):
        await producer.send_and_wait(topic, orjson.dumps(value), key=b"k")
    await producer.stop()
    worker = ConsumerWorker(bootstrap_servers=broker, group_id=f"g-{topic}", handlers={topic: flaky},
                            session_factory=sessions, outbox=outbox, attempts=3)  # fmt: skip
    task = asyncio.create_task(worker.run())
    try:

        async def ids() -> list[str] | None:
            async with sessions() as s:
                found = sorted((await s.scalars(select(applied.c.id))).all())
            return found if found == ["a", "b"] else None

        await wait_for(ids, timeout=60)
        async with sessions() as s:
            staged = (await s.execute(select(outbox.c.topic))).scalars().all()
        assert rejected_topic(topic) not in staged
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03", "57P01", "57P03", "08006"])
async def test_database_errors_are_classified_by_sqlstate(fresh_database, sqlstate: str) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(await fresh_database("postgres", "classify"))
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as raised:
                await conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{sqlstate}'; END $$"))
        assert is_transient(raised.value)
        async with engine.connect() as conn:
            with pytest.raises(Exception) as raised:
                await conn.execute(text("SELECT 1 / 0"))
        assert not is_transient(raised.value)
    finally:
        await engine.dispose()
