"""Profiles consumer throughput on PostgreSQL with 1 and with 2 replicas, and with the code before the replica work
(commit a50edd6~5) as the same-run reference.

Run: .venv/bin/python -m bench.replicas [--events 100000] [--old-commit a50edd6~5] [--quick: 20,000 events].
Each run has its own broker (topics of 6 partitions) and database. Its replicas — each its own OS process
(`uvicorn services.profiles.app:create_app`, from this tree or from a worktree of the old commit), one consumer group —
start first and are waited for until every one answers `/ready` (joined, partitions assigned), so a group rebalance is
not timed; then bench.profiles' realistic mix (10,000 people; visits, sign-ins that merge anonymous visits, orders)
is produced. Timed: from the first committed offset the group shows to the last, over the events committed in between.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.pg import pg_database
from bench.profiles import make_events, produce
from bench.results import add_quick, record
from shared.bus import ensure_topics
from shared.events import ALL_TOPICS, EVENTS
from tessera.broker import free_port, start_broker, stop_process

HERE = Path(__file__).resolve().parent.parent
PARTITIONS = 6


def spawn_replica(
    tree: Path, bootstrap: str, database_url: str, group: str, data_dir: Path, port: int
) -> subprocess.Popen[bytes]:
    """One profiles process running the code of `tree` (its directory comes first on the import path)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "TESSERA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "TESSERA_PROFILES_DATABASE_URL": database_url, "TESSERA_PROFILES_CONSUMER_GROUP": group,
           "TESSERA_DATA_DIR": str(data_dir), "TESSERA_ENV": "development", "TESSERA_LOG_LEVEL": "WARNING",
           "TESSERA_PROFILES_TIMELINE_RETENTION_DAYS": "0", "TESSERA_TOPIC_PARTITIONS": str(PARTITIONS)}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "services.profiles.app:create_app", "--factory", "--port",
               str(port), "--no-access-log"]  # fmt: skip
    return subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def committed(bootstrap: str, group: str) -> int:
    """Events the group has committed on the events topic (an OffsetFetch per partition: tansu's answer to the
    admin client's is not one aiokafka decodes)."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        return sum([await probe.committed(TopicPartition(EVENTS, p)) or 0 for p in range(PARTITIONS)])
    finally:
        await probe.stop()


async def throughput(tree: Path, replicas: int, events: list[dict[str, object]]) -> float:
    """Events/s of `replicas` processes of the profiles consumer applying `events` on a fresh broker."""
    port = free_port()
    broker = start_broker("127.0.0.1", port, subprocess.DEVNULL)  # type: ignore[arg-type]
    bootstrap, group, n = f"127.0.0.1:{port}", f"bench-replicas-{uuid.uuid4().hex[:6]}", len(events)
    try:
        await ensure_topics(bootstrap, ALL_TOPICS, partitions=PARTITIONS)
        async with pg_database("replicas") as url:
            with tempfile.TemporaryDirectory() as tmp:
                ports = [free_port() for _ in range(replicas)]
                processes = [spawn_replica(tree, bootstrap, url, group, Path(tmp) / str(i), ports[i])
                             for i in range(replicas)]  # fmt: skip
                try:
                    await _all_ready(ports, processes)
                    await produce(bootstrap, events)
                    first, started = await _first_commit(bootstrap, group, processes)
                    while (done := await committed(bootstrap, group)) < n:
                        await asyncio.sleep(0.1)
                    return (done - first) / (time.perf_counter() - started)
                finally:
                    for process in processes:
                        stop_process(process)
    finally:
        stop_process(broker)


async def _all_ready(ports: list[int], processes: list[subprocess.Popen[bytes]]) -> None:
    """Wait until every replica answers /ready (its consumer joined the group and holds partitions)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for port in ports:
            while True:
                if any(process.poll() is not None for process in processes):
                    raise SystemExit("a replica exited before it was ready (run it by hand to see why)")
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)


async def _first_commit(bootstrap: str, group: str, processes: list[subprocess.Popen[bytes]]) -> tuple[
        int, float]:  # fmt: skip
    while True:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("a replica exited before consuming (run it by hand to see why)")
        try:
            found = await committed(bootstrap, group)
        except Exception:  # the group does not exist yet
            found = 0
        if found:
            return found, time.perf_counter()
        await asyncio.sleep(0.05)


def old_tree(commit: str) -> Path | None:
    """A worktree of `commit` under /tmp (made once), or None when git cannot make it."""
    path = Path(tempfile.gettempdir()) / f"tessera-bench-{commit.replace('~', '-')}"
    if path.exists():
        return path
    made = subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(path), commit],
                          capture_output=True)  # fmt: skip
    return path if made.returncode == 0 else None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--old-commit", default="a50edd6~5")
    add_quick(parser, "20,000 events")
    args = parser.parse_args()
    if args.quick:
        args.events = 20_000
    events = make_events(args.events)
    rates: dict[str, float] = {}
    if (old := old_tree(args.old_commit)) is not None:
        rates[f"{args.old_commit}, 1 replica"] = await throughput(old, 1, events)
    for replicas in (1, 2):
        rates[f"this tree, {replicas} replica{'s' if replicas > 1 else ''}"] = await throughput(HERE, replicas, events)
    print(f"events={args.events} partitions={PARTITIONS} cpus={os.cpu_count()}")
    for name, rate in rates.items():
        print(f"profiles consumer on PostgreSQL, {name:<28} {rate:>9,.0f} events/s")
    for name, rate in rates.items():
        record("replicas", f"profiles consumer on PostgreSQL, {name}", [rate], "events/s", quick=args.quick,
               params={"events": args.events, "partitions": PARTITIONS})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
