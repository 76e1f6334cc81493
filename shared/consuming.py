"""The consumer loop: a handler per topic and batch, offsets committed after the database commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import EventBuffer
from shared.db import utcnow
from shared.events import MessageRejected, rejected_topic
from shared.outbox import stage

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Failures that say "the world is not ready", not "this message is bad": never reject for them.
COMMIT_TIMEOUT_SECONDS = 30.0
TRANSIENT = (OperationalError, InterfaceError, KafkaError, ConnectionError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Received:
    """One consumed message with its JSON value decoded."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any


Handler = Callable[[AsyncSession, Sequence[Received], EventBuffer], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for a message that can never be processed."""


def decode_contract(adapter: TypeAdapter[T], value: Any, what: str) -> T:
    """Validate a consumed value against an event contract, or raise `PoisonMessage` saying why."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise PoisonMessage(f"not a {what}: {location} {first['msg']}") from exc


class ConsumerWorker:
    """Runs `handlers[topic]` on batches; a poison message goes to the rejected topic, never blocks."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        handlers: dict[str, Handler],
        session_factory: async_sessionmaker[AsyncSession],
        outbox: Table,
        on_committed: Callable[[], None] = lambda: None,
        max_records: int = 5000,
        attempts: int = 3,
        fetch_max_wait_ms: int = 100,
    ) -> None:
        self.group_id = group_id
        self.handlers = handlers
        self._sessions = session_factory
        self._outbox = outbox
        self._on_committed = on_committed
        self._max_records = max_records
        self._attempts = attempts
        self.consumer = AIOKafkaConsumer(
            *handlers,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_records,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            # A broker may hold a fetch this long even when data arrives (tansu does): it bounds each hop's latency.
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self.processed = 0
        self.batches = 0

    async def run(self) -> None:
        """Consume until cancelled."""
        await self.consumer.start()
        try:
            while True:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self._max_records)
                by_topic: dict[str, dict[TopicPartition, Sequence[Any]]] = {}
                for tp, records in batches.items():
                    by_topic.setdefault(tp.topic, {})[tp] = records
                for partitions in by_topic.values():
                    await self._process_topic(partitions)
        finally:
            await self.consumer.stop()

    async def _process_topic(self, partitions: dict[TopicPartition, Sequence[Any]]) -> None:
        """One transaction for everything a poll returned for a topic (fixed costs are paid once per batch);
        each partition's records stay in order, so one key's events do too."""
        records = [record for batch in partitions.values() for record in batch]
        decoded, poison = _decode(records)
        if decoded:
            await self._run_batch(records[0].topic, decoded)
        for record, reason in poison:
            await self._reject(_raw_received(record), reason)
        await self._commit({tp: OffsetAndMetadata(batch[-1].offset + 1, "") for tp, batch in partitions.items()})
        self.processed += len(records)
        self.batches += 1

    async def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Commit offsets; one that fails or hangs (seen when a broker comes back empty) is given up: the records
        are applied and deduplicated, so the next commit covers them and a redelivery is harmless."""
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT_SECONDS):
                await self.consumer.commit(offsets)
        except (TimeoutError, KafkaError) as exc:
            log.warning("consumer_commit_failed", error=type(exc).__name__)

    async def _run_batch(self, topic: str, messages: list[Received]) -> None:
        try:
            await self._with_retries(topic, messages)
        except Exception:
            # The batch keeps failing: find the bad ones one by one so the rest goes through.
            for message in messages:
                try:
                    await self._with_retries(topic, [message])
                except Exception as exc:
                    await self._reject(message, f"{type(exc).__name__}: {exc}"[:500])

    async def _with_retries(self, topic: str, messages: list[Received]) -> None:
        delay = 0.1
        attempt = 0
        while True:
            try:
                await self._handle_and_commit(topic, messages)
                return
            except PoisonMessage:
                raise
            except TRANSIENT as exc:
                log.warning("consumer_transient_failure", topic=topic, error=type(exc).__name__, retry_in=delay)
            except Exception:
                attempt += 1
                if attempt >= self._attempts:
                    raise
                log.warning("consumer_handler_failed", topic=topic, attempt=attempt, exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _handle_and_commit(self, topic: str, messages: list[Received]) -> None:
        buffer = EventBuffer()
        async with self._sessions() as session:
            await self.handlers[topic](session, messages, buffer)
            await stage(session, self._outbox, buffer)
            await session.commit()
        self._on_committed()

    async def _reject(self, message: Received, reason: str) -> None:
        log.warning("message_rejected", topic=message.topic, offset=message.offset, reason=reason)
        rejected = MessageRejected(
            reason=reason,
            source=self.group_id,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            payload=message.value,
            rejected_at=utcnow(),
        )
        buffer = EventBuffer()
        buffer.add(rejected_topic(message.topic), rejected, key=message.key)
        async with self._sessions() as session:
            await stage(session, self._outbox, buffer)
            await session.commit()
        self._on_committed()


def _raw_received(record: Any) -> Received:
    raw = record.value.decode("utf-8", "replace") if record.value is not None else None
    return Received(record.topic, record.partition, record.offset, _key(record), raw)


def _key(record: Any) -> str | None:
    return record.key.decode("utf-8", "replace") if record.key is not None else None


def _decode(records: Sequence[Any]) -> tuple[list[Received], list[tuple[Any, str]]]:
    decoded: list[Received] = []
    poison: list[tuple[Any, str]] = []
    for record in records:
        try:
            value = orjson.loads(record.value)
        except (orjson.JSONDecodeError, TypeError) as exc:
            poison.append((record, f"not JSON: {exc}"))
            continue
        decoded.append(Received(record.topic, record.partition, record.offset, _key(record), value))
    return decoded, poison
