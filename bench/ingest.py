"""Ingest benchmark: raw aiokafka produce vs HTTP /v1/batch end to end, and single-event latency at 500 req/s.

Run: .venv/bin/python -m bench.ingest [--runs 3] [--quick]. Starts its own broker and tracking service (uvicorn with
uvloop + httptools, like production) on free ports and prints the median of each figure over the runs.
Quick (`--quick`): one run of 3,000 raw events, 30 batches and 2 s of single events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from aiokafka import AIOKafkaProducer

from bench.loadgen import Pool
from bench.results import add_quick, record
from services.tracking.config import Settings as TrackingSettings
from services.tracking.spool import Spool
from shared.bus import ensure_topics
from shared.db import make_engine, migrate
from shared.events import ALL_TOPICS
from tessera.broker import free_port, start_broker, stop_process, wait_for_port

WRITE_KEY = "twk_bench"
CODEC = "lz4"  # the services' default TESSERA_KAFKA_COMPRESSION


def event(i: int) -> dict[str, object]:
    return {"type": "track", "userId": f"u{i % 5000}", "event": "Product Viewed", "messageId": uuid.uuid4().hex,
            "properties": {"sku": f"sku-{i % 300}", "price": 19.99}, "context": {"page": {"url": "https://s.example/p"}}}  # fmt: skip


async def raw_produce(bootstrap: str, n: int) -> float:
    """Events/s of a bare aiokafka producer (acks=all, the service's codec), same payloads, same broker."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", compression_type=CODEC, linger_ms=2)
    await producer.start()
    payloads = [(orjson.dumps(event(i)), f"u{i % 5000}".encode()) for i in range(n)]
    started = time.perf_counter()
    futures = [await producer.send("bench.raw.v1", value, key=key) for value, key in payloads]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - started
    await producer.stop()
    return n / elapsed


async def http_batches(url: str, requests: int, concurrency: int) -> float:
    """Events/s through POST /v1/batch with 100 events per request from concurrent clients."""
    pool = Pool(url, concurrency)
    headers = {"Content-Type": "application/json", "X-Write-Key": WRITE_KEY}
    bodies = [pool.prepare("/v1/batch", orjson.dumps({"batch": [event(r * 100 + i) for i in range(100)]}), headers)
              for r in range(requests)]  # fmt: skip
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def worker() -> None:
        while not queue.empty():
            status, _ = await pool.send(queue.get_nowait())
            assert status == 200, status

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return requests * 100 / elapsed


async def fixed_rate_latency(url: str, rate: int, seconds: float) -> tuple[float, float]:
    """p50 and p99 (ms) of single /v1/track calls sent at a fixed rate (open loop: late sends count as latency)."""
    pool = Pool(url, 128)
    headers = {"Content-Type": "application/json", "X-Write-Key": WRITE_KEY}
    requests = [pool.prepare("/v1/track", orjson.dumps(event(i)), headers) for i in range(int(rate * seconds))]
    latencies: list[float] = []

    async def one(raw: bytes, due: float) -> None:
        status, _ = await pool.send(raw)
        assert status == 200, status
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    start = time.perf_counter()
    for i, raw in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    await pool.close()
    quantiles = statistics.quantiles(latencies, n=100)
    return quantiles[49], quantiles[98]


async def premigrate(data_dir: str) -> None:
    """Tracking's database and spool created in the fresh data directory before the workers start: on SQLite each
    worker creates them at start-up without a lock, and two racing on a fresh file can fail one ("table ... already
    exists"), leaving one worker to serve."""
    settings = TrackingSettings(data_dir=Path(data_dir))
    engine = make_engine(settings.resolved_database_url())
    try:
        await migrate(engine, "tracking")
    finally:
        await engine.dispose()
    spool = Spool(settings.resolved_spool_path())
    await spool.open()
    await spool.close()


def start_tracking(bootstrap: str, data_dir: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TESSERA_DATA_DIR": data_dir, "TESSERA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "TESSERA_WRITE_KEY": WRITE_KEY, "TESSERA_ADMIN_API_KEY": "tsk_bench", "TESSERA_LOG_LEVEL": "WARNING",
           "TESSERA_TRACKING_RATE_LIMIT_PER_SECOND": "0", "TESSERA_ENV": "development"}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "services.tracking.app:create_app", "--factory", "--port", str(port),
               "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    wait_for_port("127.0.0.1", port, 30, process)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    time.sleep(1)  # a worker whose start-up fails does so within this, and uvicorn then stops altogether
    children = psutil.Process(process.pid).children() if process.poll() is None else []
    alive = sum(c.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(c.cmdline()) for c in children)
    alive = alive if workers > 1 else int(process.poll() is None)
    if alive != workers:  # /ready answered, but from fewer workers than asked for: the figures would lie
        stop_process(process)
        raise RuntimeError(f"tracking runs {alive} of {workers} workers")
    return process, url


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    add_quick(parser, "1 run, 3,000 raw events, 30 batches, 2 s at 500 req/s")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    raw_n, batches, seconds = (3_000, 30, 2.0) if args.quick else (30_000, 300, 6.0)
    port = free_port()
    broker = start_broker("127.0.0.1", port, subprocess.DEVNULL)  # type: ignore[arg-type]
    bootstrap = f"127.0.0.1:{port}"
    await ensure_topics(bootstrap, [*ALL_TOPICS, "bench.raw.v1"])
    with tempfile.TemporaryDirectory() as data_dir:
        await premigrate(data_dir)
        tracking, url = start_tracking(bootstrap, data_dir, args.workers)
        try:
            await http_batches(url, 5 if args.quick else 20, 4)  # warm-up: connections, caches, source lookup
            results = {"raw": [], "http": [], "p50": [], "p99": []}  # type: dict[str, list[float]]
            for _ in range(args.runs):
                results["raw"].append(await raw_produce(bootstrap, raw_n))
                results["http"].append(await http_batches(url, batches, 8))
                p50, p99 = await fixed_rate_latency(url, 500, seconds)
                results["p50"].append(p50)
                results["p99"].append(p99)
        finally:
            stop_process(tracking)
            stop_process(broker)
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"runs={args.runs} tracking workers={args.workers} cpus={os.cpu_count()} codec={CODEC}")
    print(
        f"(a) raw aiokafka produce, acks=all:        {med['raw']:>10,.0f} events/s   runs: {[round(x) for x in results['raw']]}"
    )
    print(
        f"(b) HTTP /v1/batch x100, 8 clients, e2e:   {med['http']:>10,.0f} events/s   ratio b/a = {med['http'] / med['raw']:.2f} (target >= 0.5)"
    )
    print(f"(c) /v1/track at 500 req/s:  p50 {med['p50']:.1f} ms   p99 {med['p99']:.1f} ms   (target p99 <= 25 ms)")
    params = {"runs": args.runs, "tracking workers": args.workers, "codec": CODEC, "raw events": raw_n,
              "batches x100": batches, "single events at 500/s": int(500 * seconds)}  # fmt: skip
    common: dict[str, Any] = {"quick": args.quick, "params": params}
    raw_ref = ("(a) raw aiokafka produce", results["raw"])
    record("ingest", "(a) raw aiokafka produce, acks=all", results["raw"], "events/s", target="reference", **common)
    record("ingest", "(b) HTTP /v1/batch x100, 8 clients, end to end", results["http"], "events/s",
           reference=raw_ref, target=">= 0.5 x (a)", met=med["http"] / med["raw"] >= 0.5, **common)  # fmt: skip
    record("ingest", "(c) /v1/track p50 at 500 req/s", results["p50"], "ms", **common)
    record("ingest", "(c) /v1/track p99 at 500 req/s", results["p99"], "ms", target="<= 25 ms",
           met=med["p99"] <= 25, **common)  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
