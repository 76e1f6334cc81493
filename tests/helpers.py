"""Test helpers: read topics from the real broker, wait for conditions, run an app's lifespan."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

T = TypeVar("T")


async def wait_for(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {last!r})")


class TopicReader:
    """Reads a whole topic from the beginning (all partitions assigned, no group) and decodes values."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.values: list[Any] = []

    async def __aenter__(self) -> TopicReader:
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self.topic)
        if not partitions:
            await self.consumer._client.force_metadata_update()
            partitions = self.consumer.partitions_for_topic(self.topic) or {0}
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_beginning(*assigned)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> list[Any]:
        """Fetch whatever arrived since the last poll."""
        batches = await self.consumer.getmany(timeout_ms=100)
        for records in batches.values():
            self.values.extend(orjson.loads(r.value) for r in records)
        return self.values

    async def wait_until(self, predicate: Callable[[Any], bool], count: int = 1, timeout: float = 20.0) -> list[Any]:
        """Values matching `predicate`, once at least `count` of them arrived."""

        async def check() -> list[Any] | None:
            found = [v for v in await self.poll() if predicate(v)]
            return found if len(found) >= count else None

        return await wait_for(check, timeout)


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give an HTTP client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def audience_copied(
    client: httpx.AsyncClient, campaigns_url: str, segment_id: str, size: int, headers: dict[str, str]
) -> None:
    """Wait until campaigns' membership copy (the audience of a launch) holds the segment's `size` members."""

    async def copied() -> bool:
        query = {"target_segments": [segment_id], "exclude_segments": []}
        found = await client.post(f"{campaigns_url}/v1/campaigns/audience-size", json=query, headers=headers)
        return found.status_code == 200 and found.json()["size"] == size

    await wait_for(copied, timeout=60)
