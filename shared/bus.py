"""A thin aiokafka wrapper: JSON values, keyed sends with acks=all, topic creation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from pydantic import BaseModel

log = structlog.get_logger(__name__)


def encode(value: Any) -> bytes:
    """Serialise an event model or plain JSON-able value with orjson (bytes pass through)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json(exclude_none=True).encode()
    return orjson.dumps(value)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message waiting to be sent: topic, partition key and JSON value."""

    topic: str
    key: str | None
    value: Any


@dataclass(slots=True)
class EventBuffer:
    """Events produced by domain code, sent only after the surrounding transaction commits."""

    messages: list[OutboundMessage] = field(default_factory=list)

    def add(self, topic: str, value: Any, *, key: str | None = None) -> None:
        """Queue one event for after the commit."""
        self.messages.append(OutboundMessage(topic, key, value))

    def __len__(self) -> int:
        return len(self.messages)


class Bus:
    """The Kafka producer of one process; every send waits for acks=all."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        idempotent: bool = False,
        compression: str | None = "lz4",
        request_timeout_ms: int = 10_000,
        linger_ms: int = 2,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=idempotent,
            compression_type=compression,
            linger_ms=linger_ms,
            request_timeout_ms=request_timeout_ms,
            max_batch_size=1024 * 1024,
        )
        self._partitioner = DefaultPartitioner()
        self._started = False

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        if self._started:
            await self._producer.stop()
            self._started = False

    async def send(self, topic: str, value: Any, *, key: str | None = None) -> None:
        """Send one message and wait until the broker acknowledged it."""
        await self._producer.send_and_wait(topic, encode(value), key=key.encode() if key else None)

    async def send_many(self, messages: Iterable[OutboundMessage]) -> None:
        """Send messages in order (per key) and wait until all are acknowledged."""
        # One record batch per partition instead of one send() per message: several times cheaper per event,
        # with the partitioner that send() uses, so a key lands on the same partition either way.
        partitions: dict[str, list[int]] = {}
        batches: dict[tuple[str, int], BatchBuilder] = {}
        futures: list[asyncio.Future[Any]] = []
        for message in messages:
            if message.topic not in partitions:
                partitions[message.topic] = sorted(await self._producer.partitions_for(message.topic))
            key = message.key.encode() if message.key else None
            value = encode(message.value)
            partition = self._partitioner(key, partitions[message.topic], partitions[message.topic])
            batch = batches.get((message.topic, partition))
            if batch is None:
                batch = batches[(message.topic, partition)] = self._producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:  # full: send it, start the next
                futures.append(await self._producer.send_batch(batch, message.topic, partition=partition))
                batch = batches[(message.topic, partition)] = self._producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"a message of {len(value)} bytes does not fit in one record batch")
        for (topic, partition), batch in batches.items():
            futures.append(await self._producer.send_batch(batch, topic, partition=partition))
        if futures:
            await asyncio.gather(*futures)

    async def ping(self) -> None:
        """Raise unless the broker answers a metadata request."""
        if not self._started:
            raise ConnectionError("producer not started")
        await self._producer.client.fetch_all_metadata()


async def ensure_topics(bootstrap_servers: str, topics: Iterable[str], *, partitions: int = 3) -> None:
    """Create the topics that do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="tessera-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, 1) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created it between our list and create
    finally:
        await admin.close()
