"""Profiles consumer throughput on PostgreSQL with 1 and with 2 replicas, and with the code before the replica work
(commit a50edd6~5) as the same-run reference.

Run: .venv/bin/python -m bench.replicas [--events 100000] [--old-commit a50edd6~5] [--quick: 20,000 events].
A fresh broker (topics of 6 partitions) gets bench.profiles' realistic mix (10,000 people; visits, sign-ins that
merge anonymous visits, orders). Each replica is its own OS process (`uvicorn services.profiles.app:create_app`,
from this tree or from a worktree of the old commit) in one fresh consumer group on a fresh database. Timed: from
the first committed offset the group shows to the last, over the events committed in between.
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

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.pg import pg_database
from bench.profiles import make_events, produce
from bench.results import add_quick, record
from shared.bus import ensure_topics
from shared.events import ALL_TOPICS, EVENTS
from tessera.broker import free_port, start_broker, stop_process

HERE = Path(__file__).resolve().parent.parent
PARTITIONS = 6


def spawn_replica(tree: Path, bootstrap: str, database_url: str, group: str, data_dir: Path) -> subprocess.Popen[bytes]:
    """One profiles process running the code of `tree` (its directory comes first on the import path)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "TESSERA_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
           "TESSERA_PROFILES_DATABASE_URL": database_url, "TESSERA_PROFILES_CONSUMER_GROUP": group,
           "TESSERA_DATA_DIR": str(data_dir), "TESSERA_ENV": "development", "TESSERA_LOG_LEVEL": "WARNING",
           "TESSERA_PROFILES_TIMELINE_RETENTION_DAYS": "0", "TESSERA_TOPIC_PARTITIONS": str(PARTITIONS)}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "services.profiles.app:create_app", "--factory", "--port",
               str(free_port()), "--no-access-log"]  # fmt: skip
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


async def throughput(bootstrap: str, tree: Path, replicas: int, n: int) -> float:
    """Events/s of `replicas` processes of the profiles consumer applying the topic from its start."""
    group = f"bench-replicas-{uuid.uuid4().hex[:6]}"
    async with pg_database("replicas") as url:
        with tempfile.TemporaryDirectory() as tmp:
            processes = [spawn_replica(tree, bootstrap, url, group, Path(tmp) / str(i)) for i in range(replicas)]
            try:
                first, started = await _first_commit(bootstrap, group, processes)
                done = first
                while done < n:
                    await asyncio.sleep(0.1)
                    done = await committed(bootstrap, group)
                rate = (n - first) / (time.perf_counter() - started)
            finally:
                for process in processes:
                    stop_process(process)
    return rate


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
    port = free_port()
    broker = start_broker("127.0.0.1", port, subprocess.DEVNULL)  # type: ignore[arg-type]
    bootstrap = f"127.0.0.1:{port}"
    rates: dict[str, float] = {}
    try:
        await ensure_topics(bootstrap, ALL_TOPICS, partitions=PARTITIONS)
        await produce(bootstrap, make_events(args.events))
        if (old := old_tree(args.old_commit)) is not None:
            rates[f"{args.old_commit}, 1 replica"] = await throughput(bootstrap, old, 1, args.events)
        for replicas in (1, 2):
            rates[f"this tree, {replicas} replica{'s' if replicas > 1 else ''}"] = await throughput(
                bootstrap, HERE, replicas, args.events
            )
    finally:
        stop_process(broker)
    print(f"events={args.events} partitions={PARTITIONS} cpus={os.cpu_count()}")
    for name, rate in rates.items():
        print(f"profiles consumer on PostgreSQL, {name:<28} {rate:>9,.0f} events/s")
    for name, rate in rates.items():
        record("replicas", f"profiles consumer on PostgreSQL, {name}", [rate], "events/s", quick=args.quick,
               params={"events": args.events, "partitions": PARTITIONS})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
