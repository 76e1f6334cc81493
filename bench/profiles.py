"""Profiles consumer throughput on SQLite and PostgreSQL vs a bare aiokafka consumer on the same topic.

Run: .venv/bin/python -m bench.profiles [--events 100000] [--runs 3] [--quick: 30,000 events, 1 run]. A fresh
broker gets a realistic mix (10,000 people in visits of 3-10 events; page and product views, cart adds, sign-ins
that merge anonymous visits, orders); then the real profiles app (consumer + handler + outbox relay) applies it,
each run on a fresh database. Timed: the events after the first batch, from the end of that batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.results import add_quick, record
from services.profiles.app import create_app
from services.profiles.config import Settings
from shared.bus import ensure_topics
from shared.events import ALL_TOPICS, EVENTS
from tessera.broker import free_port, start_broker, stop_process

PG = os.environ.get("TESSERA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def make_events(n: int, people: int = 10_000, seed: int = 7) -> list[dict[str, object]]:
    """A month of visits by `people` customers: about 200 visits at a time, each 3-10 events minutes apart
    (page and product views, cart adds); a quarter of the people sign in, and some of those buy."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    step = timedelta(seconds=30 * 86400 / n)
    active: list[tuple[datetime, list[dict[str, object]]]] = []
    events: list[dict[str, object]] = []
    while len(events) < n:
        now = start + step * len(events)
        while len(active) < 200:
            active.append((now, _visit(rng, rng.randrange(people), rng.randint(3, 10))))
        visit_start, visit = active[rng.randrange(len(active))]
        at = visit_start + timedelta(seconds=45 * (10 - len(visit)))  # a visit's events are about 45 s apart
        events.append(visit.pop(0) | {"messageId": f"b-{len(events)}", "sourceId": "bench",
                                      "receivedAt": at.isoformat(), "timestamp": at.isoformat()})  # fmt: skip
        if not visit:
            active = [(t, v) for t, v in active if v]
    return events


def _visit(rng: random.Random, p: int, length: int) -> list[dict[str, object]]:
    base = {"anonymousId": f"anon-{p}", "context": {"page": {"url": "https://s.example/p?utm_source=ads"}}}
    steps: list[dict[str, object]] = [base | {"type": "page", "properties": {"path": "/"}}]
    for _ in range(length - 1):
        roll = rng.random()
        if roll < 0.5:
            steps.append(base | {"type": "page", "properties": {"path": f"/p/{rng.randrange(200)}"}})
        elif roll < 0.8:
            steps.append(
                base | {"type": "track", "event": "Product Viewed", "properties": {"sku": f"s{rng.randrange(500)}"}}
            )
        else:
            steps.append(
                base | {"type": "track", "event": "Product Added", "properties": {"sku": f"s{rng.randrange(500)}"}}
            )
    if p % 4 == 0:  # a known customer signs in, and sometimes buys
        steps.append(base | {"type": "identify", "userId": f"user-{p}", "traits": {"email": f"p{p}@example.com"}})
        if rng.random() < 0.4:
            steps.append(base | {"type": "track", "event": "Order Completed", "userId": f"user-{p}",
                                 "properties": {"order_id": f"o-{p}-{rng.random()}", "revenue": round(rng.uniform(5, 120), 2)}})  # fmt: skip
    return steps


async def produce(bootstrap: str, events: list[dict[str, object]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type="lz4", linger_ms=5)
    await producer.start()
    futures = [
        await producer.send(EVENTS, orjson.dumps(e), key=str(e.get("userId") or e["anonymousId"]).encode())
        for e in events
    ]
    await asyncio.gather(*futures)
    await producer.stop()


async def bare_consumer(bootstrap: str, n: int) -> float:
    """Events/s of an aiokafka consumer that reads and decodes the topic and does nothing else."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, max_poll_records=1000)
    await consumer.start()
    partitions = [TopicPartition(EVENTS, p) for p in consumer.partitions_for_topic(EVENTS) or {0}]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    seen, started = 0, time.perf_counter()
    while seen < n:
        for records in (await consumer.getmany(timeout_ms=500, max_records=1000)).values():
            seen += len([orjson.loads(r.value) for r in records])
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return n / elapsed


async def profiles_consumer(bootstrap: str, database_url: str, data_dir: Path, n: int) -> float:
    """Events/s of the real profiles app applying the topic from the start: the events after the first batch over
    the time from the end of that batch (its own start is not observable from here, so it is left out of both)."""
    settings = Settings(kafka_bootstrap_servers=bootstrap, database_url=database_url, data_dir=data_dir,
                        consumer_group=f"bench-{uuid.uuid4().hex[:6]}", log_level="WARNING",
                        timeline_retention_days=0, env="development")  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        worker = app.state.runtime.workers[0]
        while worker.processed == 0:
            await asyncio.sleep(0.005)
        started, first = time.perf_counter(), worker.processed
        if first >= n:
            raise SystemExit(f"all {n:,} events came in one batch: too few to time (use more --events)")
        while worker.processed < n:
            await asyncio.sleep(0.01)
        rate = (n - first) / (time.perf_counter() - started)
        print(
            f"  {database_url.split(':')[0]}: {rate:,.0f} events/s, {n / max(worker.batches, 1):.0f} events per batch"
            f" (timed: the {n - first:,} after the first {first:,})"
        )
        return rate


async def fresh_pg_database() -> tuple[str, str]:
    name = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    admin = PG.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return PG.rsplit("/", 1)[0] + f"/{name}", name


async def drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG.replace("postgresql+asyncpg://", "postgresql://"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    add_quick(parser, "30,000 events, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.events, args.runs = 30_000, 1
    port = free_port()
    broker = start_broker("127.0.0.1", port, subprocess.DEVNULL)  # type: ignore[arg-type]
    bootstrap = f"127.0.0.1:{port}"
    results: dict[str, list[float]] = {"bare": [], "sqlite": [], "postgres": []}
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        await produce(bootstrap, make_events(args.events))
        for _ in range(args.runs):
            results["bare"].append(await bare_consumer(bootstrap, args.events))
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{tmp}/profiles.db"
                results["sqlite"].append(await profiles_consumer(bootstrap, url, Path(tmp), args.events))
                url, name = await fresh_pg_database()
                try:
                    results["postgres"].append(await profiles_consumer(bootstrap, url, Path(tmp), args.events))
                finally:
                    await drop_pg_database(name)
    finally:
        stop_process(broker)
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"events={args.events} runs={args.runs} cpus={os.cpu_count()}")
    print(
        f"bare aiokafka consumer (read + decode): {med['bare']:>9,.0f} events/s  runs {[round(x) for x in results['bare']]}"
    )
    for backend in ("sqlite", "postgres"):
        print(
            f"profiles consumer on {backend:<8}:       {med[backend]:>9,.0f} events/s  = {med[backend] / med['bare']:.2f} x bare"
            f"  runs {[round(x) for x in results[backend]]}  (target >= 10,000 on SQLite)"
        )
    common: dict[str, Any] = {
        "quick": args.quick,
        "params": {"events": args.events, "people": 10_000, "runs": args.runs},
    }
    bare = ("bare aiokafka consumer (read + decode)", results["bare"])
    record("profiles", "bare aiokafka consumer (read + decode)", results["bare"], "events/s", target="reference",
           **common)  # fmt: skip
    record("profiles", "profiles consumer on SQLite", results["sqlite"], "events/s", reference=bare,
           target=">= 10,000 events/s", met=med["sqlite"] >= 10_000, **common)  # fmt: skip
    record("profiles", "profiles consumer on PostgreSQL", results["postgres"], "events/s", reference=bare, **common)


if __name__ == "__main__":
    asyncio.run(main())
