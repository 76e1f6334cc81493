"""Soak: a steady stream of events through the whole stack for minutes, with the memory of every process.

Run: .venv/bin/python -m bench.soak [--minutes 10] [--rate 200] [--batch 10] [--out bench/soak.md]; `make soak`.
Not part of `make bench` nor CI.

- The stack: the broker and the four services (`tessera.stack.Stack`, as `tessera up` runs them: one uvicorn process
  each, SQLite in a temp dir) on free ports, and one rule segment ("orders >= 1") so segmentation and campaigns
  have work too.
- The load: `--rate` events/s through tracking's `/v1/batch` in batches of `--batch` (open loop: each batch is sent
  when due, whatever the previous ones are doing), visit-shaped traffic from `bench.profiles.make_events` (page and
  product views, cart adds, sign-ins that merge anonymous visits, orders), timestamped when sent.
- Memory: the RSS of each process (with its children, if any) every `--every` seconds, from the start of the load
  until profiles has applied everything. Growth per minute is the slope of a least-squares line over the second
  half of the load, so start-up and warm-up (caches, connection pools) do not count as growth.
- Checks: events acknowledged by tracking (200, not rejected) against the rows profiles wrote to its timeline for
  them, which must be exactly equal once profiles has caught up; p50/p99 of the POST's latency from its due time.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil

from bench.loadgen import Pool
from bench.profiles import make_events
from bench.report import machine
from tessera.broker import free_port
from tessera.stack import SERVICES, Stack, StackConfig

MIB = 1024 * 1024


@dataclass
class Load:
    """What the load generator sent and what came back."""

    sent: int = 0  # events in batches sent
    acked: int = 0  # events accepted: 200 and not in `rejected`
    rejected: int = 0
    failed: int = 0  # events of batches answered with another status or not at all
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # ms from each batch's due time to its response
    due: list[float] = field(default_factory=list)  # each batch's due time, seconds since the load started


@dataclass
class Sample:
    at: float  # seconds since the load started
    rss: dict[str, int]  # bytes per process
    applied: int  # timeline rows profiles wrote for this run's events
    acked: int  # events tracking had acknowledged by then
    load1: float  # the machine's 1-minute load average


class Watch:
    """The stack's processes by name, each with its children (a process that forks workers counts them too)."""

    def __init__(self, stack: Stack) -> None:
        assert stack.broker is not None
        pids = {"broker": stack.broker.pid} | {name: p.pid for name, p in stack.services.items()}
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.cpu_start = {name: self.cpu(name) for name in self.processes}

    def tree(self, name: str) -> list[psutil.Process]:
        process = self.processes[name]
        return [process, *process.children(recursive=True)]

    def rss(self) -> dict[str, int]:
        out = {}
        for name in self.processes:
            total = 0
            for p in self.tree(name):
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            out[name] = total
        return out

    def cpu(self, name: str) -> float:
        total = 0.0
        for p in self.tree(name):
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total


def applied(db: Path, prefix: str) -> int:
    """Timeline rows profiles wrote for this run's message ids (read-only; the unique index on message_id serves)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute("SELECT count(*) FROM timeline_events WHERE message_id >= ? AND message_id < ?",
                           (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))).fetchone()  # fmt: skip
        return int(row[0])
    except sqlite3.OperationalError:  # the table is not there yet
        return 0
    finally:
        conn.close()


async def create_segment(stack: Stack) -> None:
    """A rule segment, so each order makes segmentation (and campaigns, which follows memberships) work."""
    headers = {"Authorization": f"Bearer {stack.keys['admin_api_key']}"}
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        created = await client.post(f"{stack.config.url('segmentation')}/v1/segments",
                                    json={"name": "Buyers", "definition": {"computed": "orders", "op": "gte", "value": 1}})  # fmt: skip
        created.raise_for_status()


async def send_load(stack: Stack, args: argparse.Namespace, prefix: str, load: Load, events: list[dict[str, Any]]
                    ) -> None:  # fmt: skip
    """`args.rate` events/s in batches of `args.batch`, each batch sent when due (open loop)."""
    count = len(events)
    pool = Pool(stack.config.url("tracking"), 64)
    headers = {"Content-Type": "application/json", "X-Write-Key": stack.keys["write_key"]}
    interval = args.batch / args.rate
    tasks: set[asyncio.Task[None]] = set()

    async def one(batch: list[dict[str, Any]], due: float) -> None:
        raw = pool.prepare("/v1/batch", orjson.dumps({"batch": batch}), headers)
        try:
            status, body, _ = await pool.send_read(raw)
        except (OSError, asyncio.IncompleteReadError) as exc:
            status, body = 0, str(exc).encode()
        load.latencies.append((time.perf_counter() - due) * 1000)
        load.due.append(due - start)
        load.statuses[str(status)] = load.statuses.get(str(status), 0) + 1
        if status == 200:
            rejected = len(orjson.loads(body).get("rejected") or [])
            load.rejected += rejected
            load.acked += len(batch) - rejected
        else:
            load.failed += len(batch)

    start = time.perf_counter()
    for k, first in enumerate(range(0, count, args.batch)):
        due = start + k * interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        now = datetime.now(UTC).isoformat()
        batch = [{key: value for key, value in e.items() if key not in ("sourceId", "receivedAt")}
                 | {"messageId": f"{prefix}{first + i:07d}", "timestamp": now}
                 for i, e in enumerate(events[first : first + args.batch])]  # fmt: skip
        load.sent += len(batch)
        task = asyncio.create_task(one(batch, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    await pool.close()


async def soak(stack: Stack, args: argparse.Namespace) -> tuple[Load, list[Sample], float, Watch]:
    """Sample, load, then wait for profiles to apply everything acknowledged; the load's duration in seconds."""
    prefix = f"soak-{uuid.uuid4().hex[:8]}-"
    db = stack.config.data_dir / "profiles.db"
    watch, load, samples = Watch(stack), Load(), list[Sample]()
    events = make_events(int(args.rate * args.minutes * 60), people=args.people, seed=11)
    await create_segment(stack)
    started = time.perf_counter()

    async def sample() -> None:
        at, rss, acked = time.perf_counter() - started, watch.rss(), load.acked
        s = Sample(at, rss, await asyncio.to_thread(applied, db, prefix), acked, os.getloadavg()[0])
        samples.append(s)
        rss = "  ".join(f"{name} {b / MIB:,.0f}" for name, b in s.rss.items())
        print(f"  t={s.at:>5.0f} s  acked {load.acked:>7,}  in profiles {s.applied:>7,}  RSS MiB: {rss}", flush=True)

    async def sampler() -> None:
        while True:
            await sample()
            await asyncio.sleep(args.every - (time.perf_counter() - started) % args.every)

    sampling = asyncio.create_task(sampler())
    try:
        await send_load(stack, args, prefix, load, events)
        duration = time.perf_counter() - started
        # Drain: until profiles holds every acknowledged event, or it stops progressing for a minute.
        last, progress_at = -1, time.perf_counter()
        while (n := await asyncio.to_thread(applied, db, prefix)) < load.acked:
            if n != last:
                last, progress_at = n, time.perf_counter()
            elif time.perf_counter() - progress_at > 60:
                break
            await asyncio.sleep(0.5)
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
    await sample()  # the end: after the drain
    return load, samples, duration, watch


def slope_per_minute(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes), in MiB per minute."""
    if len(points) < 2:
        return math.nan
    fit = statistics.linear_regression([t for t, _ in points], [b for _, b in points])
    return fit.slope * 60 / MIB


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else math.nan


def render(args: argparse.Namespace, load: Load, samples: list[Sample], duration: float, watch: Watch) -> str:
    end = samples[-1]
    second_half = [s for s in samples if duration / 2 <= s.at <= duration]
    label = f"{args.minutes:g}-minute run" + (" (a check, not the 10-minute soak)" if args.minutes < 10 else "")
    ok = end.applied == load.acked and load.failed == 0 and load.rejected == 0
    lines = [f"# Soak: {label}, {args.rate:g} events/s in batches of {args.batch}", ""]
    lines += [f"Machine: {', '.join(f'{k} {v}' for k, v in machine().items())}.", ""]
    lines += [f"Load: {load.sent:,} events in {len(load.latencies):,} POST /v1/batch over {duration:.0f} s "
              f"({load.sent / duration:,.1f} events/s); HTTP statuses {load.statuses}.",
              f"Events acknowledged {load.acked:,} (rejected {load.rejected:,}, failed {load.failed:,}); found in "
              f"profiles' timeline at the end {end.applied:,}, {end.at - duration:.0f} s after the load stopped: "
              f"{'equal, OK' if ok else 'MISMATCH'}.",
              f"POST /v1/batch latency (from each batch's due time): p50 {percentile(load.latencies, 50):.1f} ms, "
              f"p99 {percentile(load.latencies, 99):.1f} ms, max {max(load.latencies, default=math.nan):.1f} ms.",
              f"Machine load average (1 min) during the run: mean {statistics.mean(s.load1 for s in samples):.1f}, "
              f"max {max(s.load1 for s in samples):.1f} on {os.cpu_count()} cores (other work inflates latency).",
              "", f"RSS (MiB; sampled every {args.every:g} s, {len(samples)} samples). Growth: least-squares slope over "
              f"the second half of the load ({len(second_half)} samples, t = {duration / 2:.0f}-{duration:.0f} s).",
              "", "| process | start | end | peak | growth per minute | CPU (average of one core) |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for name in watch.processes:
        series = [s.rss[name] for s in samples]
        growth = slope_per_minute([(s.at, s.rss[name]) for s in second_half])
        cpu = (watch.cpu(name) - watch.cpu_start[name]) / max(end.at - samples[0].at, 1e-9)
        lines.append(f"| {name} | {series[0] / MIB:,.1f} | {series[-1] / MIB:,.1f} | {max(series) / MIB:,.1f} | "
                     f"{growth:+,.2f} MiB/min | {cpu:.0%} |")  # fmt: skip
    lines += ["", "The broker keeps every record in memory (`tansu`, memory storage): its growth is the data the "
              "stack produced (events, profile upserts, segment entries), not a leak.", "",
              "Samples (RSS in MiB; POSTs due since the previous sample):", "",
              "| t (s) | " + " | ".join(watch.processes) + " | acked so far | in profiles | POST p50 / p99 / max (ms) | load |",
              "|---" * (len(watch.processes) + 5) + "|"]  # fmt: skip
    for previous, s in zip([None, *samples], samples, strict=False):
        low = previous.at if previous else -math.inf
        window = [ms for due, ms in zip(load.due, load.latencies, strict=True) if low < due <= s.at]
        post = f"{percentile(window, 50):.1f} / {percentile(window, 99):.1f} / {max(window):.1f}" if window else "—"
        lines.append(f"| {s.at:.0f} | " + " | ".join(f"{s.rss[n] / MIB:,.1f}" for n in watch.processes)
                     + f" | {s.acked:,} | {s.applied:,} | {post} | {s.load1:.1f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--batch", type=int, default=10, help="events per POST /v1/batch")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between memory samples")
    parser.add_argument("--out", default="bench/soak.md", help="where the report is written")
    args = parser.parse_args()
    os.environ.setdefault("TESSERA_LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="tessera-soak-") as tmp:
        # Started on the main thread: the children are tied to the thread that forks them.
        stack = Stack(
            StackConfig(data_dir=Path(tmp), broker_port=free_port(), ports={n: free_port() for n in SERVICES})
        )
        try:
            stack.start()
            print(f"stack up in {tmp}; {args.minutes:g} min at {args.rate:g} events/s, batches of {args.batch}",
                  flush=True)  # fmt: skip
            load, samples, duration, watch = asyncio.run(soak(stack, args))
            text = render(args, load, samples, duration, watch)
        finally:
            stack.stop()
    summary = text.split("\nSamples", 1)[0]
    print("\n" + summary)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(f"wrote {args.out}")
    if samples[-1].applied != load.acked or load.failed:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the stack has been stopped on the way out
        raise SystemExit(130) from None
