"""HTTP → tracking → Kafka → profiles → REST, with profiles SIGKILLed mid-stream and duplicates redelivered."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from shared.events import EVENTS
from tessera.broker import free_port
from tessera.stack import Stack, StackConfig
from tests.builders import auth
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.helpers import TopicReader, wait_for

USERS = 30
PAGES, ORDERS = 4, 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Broker, tracking and profiles as real processes on free ports."""
    os.environ.setdefault("TESSERA_LOG_LEVEL", "WARNING")
    config = StackConfig(data_dir=tmp_path_factory.mktemp("e2e-profiles"), broker_port=free_port(),
                         ports={"tracking": free_port(), "profiles": free_port()})  # fmt: skip
    stack = Stack(config)
    os.environ["TESSERA_ADMIN_API_KEY"], os.environ["TESSERA_WRITE_KEY"] = ADMIN_KEY, WRITE_KEY
    try:
        stack.start(["tracking", "profiles"])
        yield stack
    finally:
        stack.stop()
        os.environ.pop("TESSERA_ADMIN_API_KEY"), os.environ.pop("TESSERA_WRITE_KEY")


def person_events(i: int) -> list[dict[str, Any]]:
    """An anonymous visit, a sign-in that links it, and orders: what one customer does."""
    anon, user = f"e2e-anon-{i}", f"e2e-user-{i}"
    events: list[dict[str, Any]] = [{"type": "page", "anonymousId": anon, "messageId": f"e2e-{i}-p{p}",
                                     "properties": {"path": f"/p/{p}"}} for p in range(PAGES)]  # fmt: skip
    events.append({"type": "identify", "userId": user, "anonymousId": anon, "messageId": f"e2e-{i}-id",
                   "traits": {"email": f"user{i}@example.com", "tier": "gold" if i % 2 else "silver"}})  # fmt: skip
    events += [{"type": "track", "userId": user, "event": "Order Completed", "messageId": f"e2e-{i}-o{o}",
                "properties": {"order_id": f"{i}-{o}", "revenue": 10.5 * (o + 1)}} for o in range(ORDERS)]  # fmt: skip
    return events


async def post_all(url: str, events: list[dict[str, Any]], halfway: asyncio.Event) -> None:
    async with httpx.AsyncClient(auth=(WRITE_KEY, ""), timeout=10) as client:
        for start in range(0, len(events), 20):
            response = await client.post(f"{url}/v1/batch", json={"batch": events[start : start + 20]})
            assert response.status_code == 200, response.text
            if start >= len(events) // 2:
                halfway.set()
            await asyncio.sleep(0.05)  # a steady stream, so the kill lands in the middle of it


async def redeliver(bootstrap: str, message_ids: set[str]) -> int:
    """Put a second copy of already-published events on the topic, as an at-least-once redelivery would."""
    async with TopicReader(bootstrap, EVENTS) as reader:
        originals = await reader.wait_until(lambda v: v.get("messageId") in message_ids, count=len(message_ids))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    for value in originals:
        await producer.send_and_wait(
            EVENTS, orjson.dumps(value), key=(value.get("userId") or value["anonymousId"]).encode()
        )
    await producer.stop()
    return len(originals)


async def test_exact_profiles_after_sigkill_and_redelivery(stack: Stack) -> None:
    tracking, profiles = stack.config.url("tracking"), stack.config.url("profiles")
    everyone = [e for i in range(USERS) for e in person_events(i)]
    halfway = asyncio.Event()
    sender = asyncio.create_task(post_all(tracking, everyone, halfway))
    await halfway.wait()
    assert not sender.done()
    stack.services["profiles"].send_signal(signal.SIGKILL)  # mid-stream, no goodbye
    stack.services["profiles"].wait()
    await sender
    await asyncio.to_thread(stack.restart, "profiles")
    redelivered = await redeliver(f"127.0.0.1:{stack.config.broker_port}", {e["messageId"] for e in everyone[:60]})
    assert redelivered == 60

    async with httpx.AsyncClient(base_url=profiles, headers=auth(ADMIN_KEY), timeout=10) as client:

        async def settled() -> list[dict[str, Any]] | None:
            found = []
            for i in range(USERS):
                response = await client.get("/v1/profiles/lookup", params={"user_id": f"e2e-user-{i}"})
                if response.status_code != 200 or response.json()["computed"].get("event_count") != PAGES + 1 + ORDERS:
                    return None
                found.append(response.json())
            return found

        found = await wait_for(settled, timeout=60, interval=0.5)
        await asyncio.sleep(1.5)  # anything still in flight would now show as double counting
        found = await settled()
    assert found is not None, "counts moved after settling: something was applied twice"
    for i, profile in enumerate(found):
        computed = profile["computed"]
        assert (computed["page_views"], computed["orders"], computed["revenue"]) == (PAGES, ORDERS, 63.0)
        assert computed["sessions"] == 1 and computed["distinct_order_days"] == 1
        kinds = {(x["kind"], x["value"]) for x in profile["identities"]}
        assert {
            ("user_id", f"e2e-user-{i}"),
            ("anonymous_id", f"e2e-anon-{i}"),
            ("email", f"user{i}@example.com"),
        } <= kinds
        assert profile["traits"]["tier"] == ("gold" if i % 2 else "silver")
