"""`tessera demo`: simulated customers flow through the whole platform; a summary and charts come out."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tessera import demo_charts, demo_flow
from tessera.broker import free_port, port_is_free
from tessera.demo_data import generate
from tessera.demo_flow import Api, DemoError, poll, post_batch
from tessera.stack import SERVICES, Stack, StackConfig, StackError, fetch_status

err = Console(stderr=True)
BATCH_EVENTS = 500
STREAMS = 4  # batches in flight at once; each customer's events stay in one stream, in time order


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `tessera demo`."""
    parser.add_argument("--customers", type=_customers, default=2000, help="simulated customers (default: 2000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed: the same seed, the same customers")
    parser.add_argument("--out", type=Path, default=Path("var/demo"), help="where the charts go (default: var/demo)")
    parser.add_argument("--smtp-port", type=int, help="port of the demo's SMTP sink (default: a free one)")
    parser.add_argument("--keep-running", action="store_true", help="leave the stack the demo started running")


def _customers(value: str) -> int:
    number = int(value)
    if not 50 <= number <= 100_000:
        raise argparse.ArgumentTypeError("must be between 50 and 100000")
    return number


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo from start to summary; one line and exit 1 on an expected failure."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a SIGTERM stops the stack like Ctrl-C
    started = time.monotonic()
    try:
        with platform(args) as running:
            results = asyncio.run(run(running, args))
            results["seconds"] = time.monotonic() - started
            demo_charts.print_summary(results, Console(width=None if sys.stdout.isatty() else 130))
            for path in demo_charts.write_charts(results, args.out):
                print(f"chart: {path}")
            print(f"tessera demo finished in {results['seconds']:.0f} s", flush=True)
            if running.stack is not None and args.keep_running:
                _keep_running(running)
    except (DemoError, StackError) as exc:
        err.print(f"tessera demo: {exc}", style="red", markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err.print("tessera demo: interrupted")
        return 130
    return 0


@dataclass
class Platform:
    """The four services the demo talks to, its keys, and where campaign mail lands."""

    urls: dict[str, str]
    admin_key: str
    write_key: str
    sink: demo_flow.MailSink | None
    stack: Stack | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def platform(args: argparse.Namespace) -> Iterator[Platform]:
    """The running stack if all four services answer /ready, else an embedded one started (and stopped) here."""
    config = StackConfig.from_env()
    urls = {name: config.url(name) for name in SERVICES}
    status = asyncio.run(fetch_status(urls))
    ready = [name for name, state in status.items() if state == "ready"]
    if len(ready) == len(SERVICES):
        with _running_stack(config, urls, args) as running:
            yield running
    elif ready:
        raise DemoError(f"only {', '.join(ready)} answer /ready at the configured ports; see `tessera status`")
    else:
        with _own_stack(config, urls, args) as running:
            yield running


@contextmanager
def _running_stack(config: StackConfig, urls: dict[str, str], args: argparse.Namespace) -> Iterator[Platform]:
    """Use the stack that runs already; its campaigns service sends to the SMTP port it was started with."""
    keys = _known_keys(config.data_dir)
    port = args.smtp_port or int(os.environ.get("TESSERA_CAMPAIGNS_SMTP_PORT", 1025))
    sink = demo_flow.MailSink.start(port) if port_is_free("127.0.0.1", port) else None
    where = "the demo's SMTP sink listens there" if sink else "another SMTP server listens there: mail is not read back"
    running = Platform(urls, keys["admin_api_key"], keys["write_key"], sink)
    running.notes.append(f"Using the running stack; its campaigns are assumed to mail 127.0.0.1:{port} ({where}).")
    try:
        yield running
    finally:
        if sink:
            sink.stop()


def _known_keys(data_dir: Path) -> dict[str, str]:
    """The running stack's keys: from the environment, else what `tessera up` (or the demo) kept on disk."""
    admin, write = os.environ.get("TESSERA_ADMIN_API_KEY"), os.environ.get("TESSERA_WRITE_KEY")
    for path in (data_dir / "keys.json", data_dir / "demo-stack" / "keys.json"):
        stored = json.loads(path.read_text()) if path.is_file() else {}
        keys = {"admin_api_key": admin or stored.get("admin_api_key"), "write_key": write or stored.get("write_key")}
        if keys["admin_api_key"] and keys["write_key"]:
            return keys  # type: ignore[return-value]
    raise DemoError("a stack is running but its keys are unknown; set TESSERA_ADMIN_API_KEY and TESSERA_WRITE_KEY")


@contextmanager
def _own_stack(config: StackConfig, urls: dict[str, str], args: argparse.Namespace) -> Iterator[Platform]:
    """An embedded stack in `<data dir>/demo-stack` (recreated each run) mailing the demo's SMTP sink."""
    port = args.smtp_port or free_port()
    if not port_is_free("127.0.0.1", port):
        raise DemoError(f"port {port} (SMTP sink) is already in use; choose another with --smtp-port")
    config.data_dir = config.data_dir / "demo-stack"
    stack = Stack(config)
    stack.check_ports()
    shutil.rmtree(config.data_dir, ignore_errors=True)  # the demo's own databases: every run starts afresh
    sink = demo_flow.MailSink.start(port)
    os.environ["TESSERA_CAMPAIGNS_SMTP_PORT"] = str(port)
    os.environ.setdefault("TESSERA_CAMPAIGNS_SCHEDULE_CHECK_SECONDS", "1")
    try:
        with err.status("Starting the broker and the four services…"):
            stack.start()
        running = Platform(urls, stack.keys["admin_api_key"], stack.keys["write_key"], sink, stack)
        running.notes.append(f"Started the embedded stack (data in {config.data_dir}); mail goes to 127.0.0.1:{port}.")
        yield running
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean stop
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        sink.stop()


def _keep_running(running: Platform) -> None:
    """Stay in the foreground supervising the stack (its children die with this process) until Ctrl-C."""
    assert running.stack is not None
    err.print(f"The stack keeps running: {' '.join(running.urls.values())}")
    err.print(f"Admin API key: {running.admin_key}   write key: {running.write_key}   (Ctrl-C stops everything)")
    try:
        running.stack.watch()
    except KeyboardInterrupt:
        err.print("Stopping…")


async def run(running: Platform, args: argparse.Namespace) -> dict[str, Any]:
    """Every step of the demo against the platform; returns what the summary and charts show."""
    today = datetime.now(UTC)
    tag = f"{args.seed}-{int(today.timestamp())}"
    customers = generate(args.customers, args.seed, today)
    async with httpx.AsyncClient(timeout=60) as client:
        api = Api(client, running.urls, running.admin_key)
        await send_events(client, running, customers, tag)
        await wait_loaded(api, len(customers), tag)
        flow = demo_flow.Flow(api, running.write_key, customers, today, args.seed, running.sink, err)
        results = await flow.run_all(tag)
    return results | {"notes": running.notes, "customers": len(customers), "seed": args.seed, "today": today.date()}


def _streams(customers: list[Any], tag: str) -> list[list[dict[str, Any]]]:
    """Customers dealt into streams, each stream in time order; then one marker per customer, last."""
    streams: list[list[dict[str, Any]]] = [[] for _ in range(STREAMS)]
    for customer in customers:
        streams[customer.index % STREAMS].extend(customer.events)
    for stream in streams:
        stream.sort(key=lambda e: e["timestamp"])
    for customer in customers:  # same time as the customer's last event: last seen stays true
        last = customer.events[-1]["timestamp"]
        marker = {"type": "identify", "userId": customer.user_id, "traits": {"demo_run": tag},
                  "messageId": f"{customer.user_id}-loaded-{tag}", "timestamp": last}  # fmt: skip
        streams[customer.index % STREAMS].append(marker)
    return streams


async def send_events(client: httpx.AsyncClient, running: Platform, customers: list[Any], tag: str) -> None:
    """Post six months of events to tracking's /v1/batch, several batches at once, with a progress bar."""
    streams = _streams(customers, tag)
    columns = (TextColumn("sending events  [cyan]{task.fields[day]}[/cyan]"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} events/s"), TimeElapsedColumn())  # fmt: skip
    started = time.monotonic()
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("events", total=sum(map(len, streams)), day="", rate=0)

        async def one(stream: list[dict[str, Any]]) -> None:
            for start in range(0, len(stream), BATCH_EVENTS):
                chunk = stream[start : start + BATCH_EVENTS]
                await post_batch(client, running.urls["tracking"], running.write_key, chunk)
                bar.advance(task, len(chunk))
                done = bar.tasks[0].completed
                bar.update(task, day=chunk[-1]["timestamp"][:10], rate=int(done / (time.monotonic() - started)))

        await asyncio.gather(*(one(stream) for stream in streams))


async def wait_loaded(api: Api, count: int, tag: str) -> None:
    """Until segmentation has every customer's last event: profiles and the feature replica have caught up."""
    definition = {"trait": "demo_run", "op": "eq", "value": tag}
    with err.status("Profiles and segmentation catching up…") as status:

        async def loaded() -> bool:
            found = (await api.post("segmentation", "/v1/segments/preview", {"definition": definition}))["count"]
            status.update(f"Profiles and segmentation catching up: {found}/{count} customers")
            return bool(found >= count)

        await poll(loaded, 120 + count * 0.05, "loading the events")
