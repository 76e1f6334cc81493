"""Ingest benchmark: raw aiokafka produce vs HTTP /v1/batch end to end, and single-event latency at 500 req/s.

Run: .venv/bin/python bench/ingest.py [--runs 3]. Starts its own broker and tracking service (uvicorn with
uvloop + httptools, like production) on free ports and prints the median of each figure over the runs.
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

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from bench.loadgen import Pool
from shared.bus import ensure_topics
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


def start_tracking(bootstrap: str, data_dir: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "TESSERA_DATA_DIR": data_dir, "TESSERA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "TESSERA_WRITE_KEY": WRITE_KEY, "TESSERA_ADMIN_API_KEY": "tsk_bench", "TESSERA_LOG_LEVEL": "WARNING",
           "TESSERA_TRACKING_RATE_LIMIT_PER_SECOND": "0"}  # fmt: skip
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
    return process, url


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    broker = start_broker("127.0.0.1", port, subprocess.DEVNULL)  # type: ignore[arg-type]
    bootstrap = f"127.0.0.1:{port}"
    await ensure_topics(bootstrap, [*ALL_TOPICS, "bench.raw.v1"])
    with tempfile.TemporaryDirectory() as data_dir:
        tracking, url = start_tracking(bootstrap, data_dir, args.workers)
        try:
            await http_batches(url, 20, 4)  # warm-up: connections, caches, source lookup
            results = {"raw": [], "http": [], "p50": [], "p99": []}  # type: dict[str, list[float]]
            for _ in range(args.runs):
                results["raw"].append(await raw_produce(bootstrap, 30_000))
                results["http"].append(await http_batches(url, 300, 8))
                p50, p99 = await fixed_rate_latency(url, 500, 6)
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


if __name__ == "__main__":
    asyncio.run(main())
