"""A steady client of tracking's `/v1/batch` that keeps a ledger of what was acknowledged, and the checks on it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.helpers import wait_for

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass
class Ledger:
    """Per user, the orders and revenue of every event tracking answered 200 for."""

    orders: Counter[str] = field(default_factory=Counter)
    revenue: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def add(self, batch: list[dict[str, Any]]) -> None:
        for event in batch:
            self.orders[event["userId"]] += 1
            self.revenue[event["userId"]] += event["properties"]["revenue"]
        self.events += len(batch)


@dataclass
class Load:
    """Posts batches of `Order Completed` (unique messageId and order_id, known users) at a steady pace.

    A batch is retried with the same messageIds until it gets a 200, as a real client would: a batch that was
    published but whose answer was lost (tracking killed mid-request) comes back as a duplicate, which is what
    the consumers must absorb. Only 200s enter the ledger, and the stop waits for the batch in flight, so the
    ledger is exactly what tracking acknowledged.
    """

    url: str
    write_key: str
    users: int = 40
    batch_size: int = 10
    pause_seconds: float = 0.05
    ledger: Ledger = field(default_factory=Ledger)
    failures: Counter[str] = field(default_factory=Counter)
    phase: str = "start"  # what the test is doing: each acknowledged id is filed under it, for diagnostics
    acknowledged: dict[str, str] = field(default_factory=dict)  # messageId → phase
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    _last: deque[list[dict[str, Any]]] = field(default_factory=lambda: deque(maxlen=10))
    _seq: int = 0
    _go: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _task: asyncio.Task[None] | None = None

    def user(self, i: int) -> str:
        return f"fault-{self.run}-u{i}"

    def start(self) -> None:
        self._go.set()
        self._task = asyncio.create_task(self._send_forever())

    async def pause(self) -> None:
        """Stop sending after the batch in flight got its 200."""
        self._go.clear()
        await self._idle.wait()

    def resume(self) -> None:
        self._go.set()

    async def stop(self) -> None:
        """Finish the batch in flight (retried until acknowledged), then stop."""
        self._stopping = True
        self._go.set()
        assert self._task is not None
        await self._task

    async def acknowledged_more(self, count: int, timeout: float = 30.0) -> None:
        """Wait until `count` more events than now were acknowledged (the load really flows)."""
        target = self.ledger.events + count
        assert self._task is not None

        async def reached() -> bool:
            if self._task is not None and self._task.done():
                self._task.result()  # the sender failed: say why
            return self.ledger.events >= target

        await wait_for(reached, timeout=timeout, interval=0.05)

    def last_batches(self, count: int) -> list[list[dict[str, Any]]]:
        """The last `count` acknowledged batches."""
        return list(self._last)[-count:]

    async def resend(self, batches: list[list[dict[str, Any]]]) -> list[str]:
        """Post acknowledged batches again, as a client that lost the answers would; their messageIds."""
        async with httpx.AsyncClient(auth=(self.write_key, ""), timeout=10) as client:
            for batch in batches:
                await self._post_until_acknowledged(client, batch)
        return [event["messageId"] for batch in batches for event in batch]

    def _next_batch(self) -> list[dict[str, Any]]:
        batch = []
        for _ in range(self.batch_size):
            n, self._seq = self._seq, self._seq + 1
            message_id = f"{self.run}-{n}"
            batch.append({"type": "track", "userId": self.user(n % self.users), "event": "Order Completed",
                          "messageId": message_id,
                          "properties": {"order_id": message_id, "revenue": 1 + n % 9}})  # fmt: skip
        return batch

    async def _send_forever(self) -> None:
        async with httpx.AsyncClient(auth=(self.write_key, ""), timeout=10) as client:
            while not self._stopping:
                if not self._go.is_set():
                    self._idle.set()
                    await self._go.wait()
                    continue
                self._idle.clear()
                batch = self._next_batch()
                phase = self.phase
                await self._post_until_acknowledged(client, batch)
                self.ledger.add(batch)
                self.acknowledged.update((event["messageId"], phase) for event in batch)
                self._last.append(batch)
                await asyncio.sleep(self.pause_seconds)
            self._idle.set()

    async def _post_until_acknowledged(self, client: httpx.AsyncClient, batch: list[dict[str, Any]]) -> None:
        deadline = time.monotonic() + 60
        delay = 0.05
        while True:
            try:
                response = await client.post(f"{self.url}/v1/batch", json={"batch": batch})
                if response.status_code == 200:
                    return
                assert response.status_code in RETRYABLE_STATUS, f"tracking refused a batch: {response.text}"
                self.failures[f"HTTP {response.status_code}"] += 1
            except httpx.TransportError as exc:  # tracking is down or died mid-request: never acknowledged
                self.failures[type(exc).__name__] += 1
            assert time.monotonic() < deadline, f"a batch got no 200 within 60 s: {dict(self.failures)}"
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


def spooled(data_dir: Path) -> int:
    """Events waiting in tracking's spool (a local SQLite file)."""
    path = data_dir / "tracking-spool.db"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as spool:
        return int(spool.execute("SELECT count(*) FROM spooled_events").fetchone()[0])


@asynccontextmanager
async def topic_reader(bootstrap: str, topic: str) -> AsyncIterator[tuple[AIOKafkaConsumer, list[TopicPartition]]]:
    """A group-less consumer assigned every partition of `topic` (none while the broker does not list the topic)."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await reader.start()
    try:
        await reader._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in sorted(reader.partitions_for_topic(topic) or ())]
        if partitions:
            reader.assign(partitions)
        yield reader, partitions
    finally:
        await reader.stop()


async def read_to_end(reader: AIOKafkaConsumer, seconds: float) -> list[Any] | None:
    """Records until a poll finds no more; None when there are still more after `seconds`."""
    records: list[Any] = []
    deadline = time.monotonic() + seconds
    while batches := await reader.getmany(timeout_ms=500, max_records=100_000):
        records += [record for batch in batches.values() for record in batch]
        if time.monotonic() > deadline:
            return None
    return records


async def uncommitted(bootstrap: str, group: str, topic: str) -> int | None:
    """Messages on `topic` past `group`'s committed offsets; None while that cannot be known."""
    # Read, not computed: tansu answers ListOffsets(latest) with the base offset of the last record batch + 1,
    # not the end. The group's offsets are read without joining it (no subscription): aiokafka's admin client
    # sends an OffsetFetch that tansu cannot answer.
    offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await offsets.start()
    try:
        async with topic_reader(bootstrap, topic) as (reader, partitions):
            if not partitions:
                return None  # the broker does not list the topic
            for tp in partitions:
                committed = await offsets.committed(tp)
                if committed is None:
                    await reader.seek_to_beginning(tp)
                else:
                    reader.seek(tp, committed)
            records = await read_to_end(reader, seconds=5)
            return None if records is None else len(records)
    finally:
        await offsets.stop()


async def published_again(bootstrap: str, topic: str, send: Callable[[], Awaitable[list[str]]]) -> Counter[str]:
    """Run `send` (it returns messageIds) and count those ids among what reaches `topic` from then on."""
    async with topic_reader(bootstrap, topic) as (reader, partitions):
        await reader.seek_to_end(*partitions)
        ids = set(await send())
        seen: Counter[str] = Counter()
        deadline = time.monotonic() + 20
        while not ids <= seen.keys() and time.monotonic() < deadline:
            batches = await reader.getmany(timeout_ms=200)
            seen.update(m for b in batches.values() for r in b if (m := orjson.loads(r.value).get("messageId")) in ids)
    return Counter({m: seen[m] for m in ids})


async def topic_message_counts(bootstrap: str, topic: str) -> Counter[str] | None:
    """How often each messageId is on the whole topic; None if it could not be read to its end in 30 s."""
    async with topic_reader(bootstrap, topic) as (reader, partitions):
        if partitions:
            await reader.seek_to_beginning(*partitions)
        records = await read_to_end(reader, seconds=30) if partitions else []
    return None if records is None else Counter(orjson.loads(r.value).get("messageId") for r in records)


async def rejections(bootstrap: str, topic: str, run: str) -> list[str]:
    """`source: reason (messageId)` for each event of this run on a rejected topic."""
    async with topic_reader(bootstrap, topic) as (reader, partitions):
        if partitions:
            await reader.seek_to_beginning(*partitions)
        records = await read_to_end(reader, seconds=10) if partitions else []
    if records is None:
        return [f"{topic} could not be read to its end"]
    found = []
    for record in records:
        value = orjson.loads(record.value)
        payload = value.get("payload")
        message_id = str(payload.get("messageId", "")) if isinstance(payload, dict) else ""
        if message_id.startswith(f"{run}-"):
            found.append(f"{value.get('source')}: {str(value.get('reason'))[:120]} ({message_id})")
    return found


async def profile_differences(client: httpx.AsyncClient, load: Load) -> list[str]:
    """Each user whose profile does not hold exactly the acknowledged orders and revenue, and by how much."""
    differences = []
    for i in range(load.users):
        user = load.user(i)
        want_orders, want_revenue = load.ledger.orders[user], load.ledger.revenue[user]
        response = await client.get("/v1/profiles/lookup", params={"user_id": user})
        if response.status_code == 404:
            if want_orders:
                differences.append(f"{user}: no profile, expected {want_orders} orders / {want_revenue} revenue")
            continue
        response.raise_for_status()
        computed = response.json()["computed"]
        got = (computed.get("orders", 0), computed.get("revenue", 0.0), computed.get("event_count", 0))
        if got != (want_orders, want_revenue, want_orders):
            differences.append(
                f"{user}: orders {got[0]} (expected {want_orders}, {got[0] - want_orders:+d}), "
                f"revenue {got[1]} (expected {want_revenue}, {got[1] - want_revenue:+}), events {got[2]}"
            )
    return differences


async def missing_events(bootstrap: str, topic: str, data_dir: Path, load: Load) -> str:
    """Which acknowledged events profiles never applied, by phase, and whether they are on the topic now."""
    with sqlite3.connect(f"file:{data_dir / 'profiles.db'}?mode=ro", uri=True, timeout=5) as db:
        applied = {row[0] for row in db.execute("SELECT message_id FROM processed_messages")}
    missing = [m for m in load.acknowledged if m not in applied]
    if not missing:
        return "every acknowledged messageId is among those profiles applied"
    on_topic = await topic_message_counts(bootstrap, topic)
    found = "?" if on_topic is None else sum(m in on_topic for m in missing)
    by_phase = Counter(load.acknowledged[m] for m in missing)
    return (
        f"{len(missing)} acknowledged events never applied by profiles, by phase {dict(by_phase)}; "
        f"{found} of them are on {topic} now; first: {missing[:5]}"
    )
