"""The consumer loop: a handler per topic and batch, offsets committed after the database commit; transient failures
retried without limit, poison messages rejected, and a broker that lost records noticed and said."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import Counter
from sqlalchemy import Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import EventBuffer
from shared.db import utcnow
from shared.errors import describe_error
from shared.events import MessageRejected, PoisonMessage, decode_contract, rejected_topic
from shared.logging import redact_text
from shared.transient import is_transient, is_unique_race
from shared.uow import unit_of_work

log = structlog.get_logger(__name__)
# PoisonMessage and decode_contract live with the contracts (shared.events); re-exported for the services.
__all__ = ["ConsumerWorker", "Handler", "PoisonMessage", "Received", "decode_contract"]

COMMIT_TIMEOUT_SECONDS = 30.0
UNIQUE_RACE_TRIES = 10  # a key another writer inserted first is found on re-read; past this it is this message's fault
MAX_BACKOFF_SECONDS = 5.0
LOST = Counter("tessera_broker_lost_records_total", "Records a broker no longer has that a consumer had committed past",
               ["group", "topic"])  # fmt: skip


@dataclass(frozen=True, slots=True)
class Received:
    """One consumed message with its JSON value decoded."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any


Handler = Callable[[AsyncSession, Sequence[Received], EventBuffer], Awaitable[None]]


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: ConsumerWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Nothing to hand over: offsets are committed after every batch."""

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.worker.on_assigned(set(assigned))


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
        self._bootstrap = bootstrap_servers
        self._sessions = session_factory
        self._outbox = outbox
        self._on_committed = on_committed
        self._max_records = max_records
        self._attempts = attempts
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self.consumer = self._new_consumer()
        self._started_once = False
        self.processed = 0
        self.batches = 0
        self.joined = False
        self.committed: dict[TopicPartition, int] = {}  # what this worker committed (or found committed)
        self.newest_at: dict[str, datetime] = {}  # per topic: the newest record time applied
        self.lost: list[dict[str, Any]] = []

    def _new_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            # A broker may hold a fetch this long even when data arrives (tansu does): it bounds each hop's latency.
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )

    async def run(self) -> None:
        """Consume until cancelled (a supervisor runs it again if it fails)."""
        if self._started_once:
            self.consumer = self._new_consumer()
        self._started_once = True
        await self.consumer.start()
        try:
            self.consumer.subscribe(list(self.handlers), listener=_Rebalance(self))
            while True:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=self._max_records)
                by_topic: dict[str, dict[TopicPartition, Sequence[Any]]] = {}
                for tp, records in batches.items():
                    by_topic.setdefault(tp.topic, {})[tp] = records
                for partitions in by_topic.values():
                    await self._process_topic(partitions)
        finally:
            self.joined = False
            await self.consumer.stop()

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """After a rebalance: ready to consume; offsets the group lost since we committed them mean a lost broker."""
        for tp in assigned:
            found = await self.consumer.committed(tp)
            if found is not None and found < self.committed.get(tp, found):
                self._lost(tp, self.committed[tp], found)
            if found is not None:
                self.committed[tp] = found
        self.joined = True

    async def status(self) -> dict[str, Any]:
        """Lag per topic (the partitions' end less what was committed), the newest record applied, lost records."""
        assigned = sorted(self.consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)) if self.joined else []
        ends = await self.consumer.end_offsets(assigned) if assigned else {}
        starts = await self.consumer.beginning_offsets(assigned) if assigned else {}
        topics: dict[str, dict[str, Any]] = {
            t: {"partitions": 0, "lag": 0, "newest_applied_at": None} for t in self.handlers
        }
        for tp in assigned:
            done = self.committed.get(tp, starts[tp])
            # The broker holds nothing where we had committed past records: it came back empty (or was truncated).
            # Only an empty partition says so for sure: tansu reports a partition's end as the start of its last
            # record batch + 1, which can be below a committed offset although nothing was lost.
            if ends[tp] < done and ends[tp] <= starts[tp]:
                self._lost(tp, done, ends[tp])
                done = self.committed[tp] = ends[tp]
            topics[tp.topic]["partitions"] += 1
            topics[tp.topic]["lag"] += max(ends[tp] - done, 0)
        for topic, at in self.newest_at.items():
            topics[topic]["newest_applied_at"] = at
        return {"group": self.group_id, "joined": self.joined, "topics": topics, "lost_records": list(self.lost)}

    def _lost(self, tp: TopicPartition, expected: int, found: int) -> None:
        entry = {"topic": tp.topic, "partition": tp.partition, "committed": expected, "broker_has": found,
                 "detected_at": utcnow()}  # fmt: skip
        self.lost = [*self.lost[-9:], entry]
        LOST.labels(self.group_id, tp.topic).inc(expected - found)
        log.error("broker_lost_records", group=self.group_id, topic=tp.topic, partition=tp.partition,
                  committed=expected, broker_has=found)  # fmt: skip

    async def _process_topic(self, partitions: dict[TopicPartition, Sequence[Any]]) -> None:
        """One transaction for everything a poll returned for a topic (fixed costs are paid once per batch);
        each partition's records stay in order, so one key's events do too."""
        for tp, batch in partitions.items():
            if batch[0].offset < self.committed.get(tp, 0):  # offsets went backwards: records were lost
                self._lost(tp, self.committed[tp], batch[0].offset)
        records = [record for batch in partitions.values() for record in batch]
        decoded, poison = _decode(records)
        if decoded:
            await self._run_batch(records[0].topic, decoded)
        for record, reason in poison:
            await self._reject(_raw_received(record), reason)
        await self._commit({tp: OffsetAndMetadata(batch[-1].offset + 1, "") for tp, batch in partitions.items()})
        newest = max(record.timestamp or 0 for record in records)
        if newest > 0:
            self.newest_at[records[0].topic] = max(self.newest_at.get(records[0].topic, _EPOCH), _from_ms(newest))
        self.processed += len(records)
        self.batches += 1

    async def _commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        """Commit offsets; one that fails or hangs (seen when a broker comes back empty) is given up: the records
        are applied and deduplicated, so the next commit covers them and a redelivery is harmless."""
        try:
            async with asyncio.timeout(COMMIT_TIMEOUT_SECONDS):
                await self.consumer.commit(offsets)
            self.committed.update({tp: meta.offset for tp, meta in offsets.items()})
        except (TimeoutError, KafkaError) as exc:
            log.warning("consumer_commit_failed", error=type(exc).__name__)

    async def _run_batch(self, topic: str, messages: list[Received]) -> None:
        try:
            await self._with_retries(topic, messages)
        except Exception:
            # The batch keeps failing on a healthy database: find the bad ones one by one so the rest goes through.
            for message in messages:
                try:
                    await self._with_retries(topic, [message])
                except Exception as exc:
                    await self._reject(message, rejection_reason(exc))

    async def _with_retries(self, topic: str, messages: list[Received]) -> None:
        """Transient failures are retried for as long as they last; a handler failure `attempts` times, and only
        while the database answers (else it was the database, not the message)."""
        delay, failures, races = 0.1, 0, 0
        while True:
            try:
                await self._handle_and_commit(topic, messages)
                return
            except PoisonMessage:
                raise
            except Exception as exc:
                if is_transient(exc) or (is_unique_race(exc) and (races := races + 1) < UNIQUE_RACE_TRIES):
                    log.warning("consumer_transient_failure", topic=topic, error=describe_error(exc), retry_in=delay)
                elif not await self._database_answers():
                    log.warning("consumer_database_away", topic=topic, error=describe_error(exc), retry_in=delay)
                else:
                    failures += 1
                    if failures >= self._attempts:
                        raise
                    log.warning("consumer_handler_failed", topic=topic, attempt=failures, error=describe_error(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(5), self._sessions() as session:
                await session.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def _handle_and_commit(self, topic: str, messages: list[Received]) -> None:
        async with unit_of_work(self._sessions, self._outbox, self._on_committed) as work:
            await self.handlers[topic](work.session, messages, work.events)

    async def _reject(self, message: Received, reason: str) -> None:
        """Send a message to the rejected topic (through the outbox), retrying while the database is away."""
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
        delay = 0.1
        while True:
            try:
                async with unit_of_work(self._sessions, self._outbox, self._on_committed) as work:
                    work.events.add(rejected_topic(message.topic), rejected, key=message.key)
                return
            except Exception as exc:
                log.warning("consumer_reject_waiting", error=describe_error(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rejection_reason(exc: BaseException) -> str:
    """Why a message was rejected, without personal data: a database error by its class, SQLSTATE and constraint
    (its text quotes SQL parameters), anything else by its message with addresses and phone numbers redacted."""
    if isinstance(exc, DBAPIError):
        return describe_error(exc)
    return f"{type(exc).__name__}: {redact_text(str(exc))}"[:500]


def _from_ms(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


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
