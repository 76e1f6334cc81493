"""The `tessera` command: `up`, `migrate`, `status`, `import`, `demo`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tessera import demo
from tessera.stack import SERVICES, Stack, StackConfig, StackError, fetch_status

console = Console(stderr=True)


class Stop(Exception):
    """Raised from the signal handler to leave the watch loop."""


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def cmd_up(args: argparse.Namespace) -> int:
    """Start the embedded stack in the foreground."""
    config = StackConfig.from_env(replicas=args.replicas)
    stack = Stack(config)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        with console.status("Starting the broker, the four services and the console…"):
            stack.start()
        _print_ready(stack)
        stack.watch()
    except (Stop, KeyboardInterrupt):
        console.print("Stopping…")
        return _stopped(stack, 0)
    except StackError as exc:
        # One line however long, and a service's log line is shown as it is, never read as markup.
        console.print(f"tessera up: {exc}", style="red", markup=False, soft_wrap=True)
        return _stopped(stack, 1)
    return _stopped(stack, 0)


def _stopped(stack: Stack, code: int) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not interrupt the clean stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    left = stack.stop(report=lambda line: console.print(line, style="dim", markup=False))
    if left:
        lost = "; ".join(f"{name}: {what}" for name, what in sorted(left.items()))
        console.print(f"Stopped before everything was applied (the embedded broker keeps records in memory): {lost}",
                      style="red", markup=False)  # fmt: skip
        return code or 1
    return code


def _print_ready(stack: Stack) -> None:
    table = Table(title="Tessera is ready", show_header=True)
    table.add_column("service")
    table.add_column("URL")
    for name in stack.services:
        what = "  (web app and its API)" if name == "console" else "  (docs: /docs)"
        if (workers := stack.config.workers_of(name)) > 1:
            what += f"  ×{workers} processes"
        table.add_row(name, f"{stack.config.url(name)}{what}")
    table.add_row("broker", f"{stack.config.host}:{stack.config.broker_port}")
    console.print(table)
    if "console" in stack.services:
        console.print(f"Console:        {stack.config.url('console')}")
        if link := setup_link(stack):
            console.print(f"First admin:    {link}  (works once; no admin exists yet)", markup=False, soft_wrap=True)
    console.print(f"Admin API key:  {stack.keys['admin_api_key']}")
    console.print(f"Write key:      {stack.keys['write_key']}")
    console.print(f"Data and logs:  {stack.config.data_dir.resolve()}   (Ctrl-C stops everything)")
    print(f"READY {' '.join(stack.config.url(n) for n in stack.services)}", flush=True)


def setup_link(stack: Stack) -> str | None:
    """The console's one-time setup link while no admin exists, else None."""
    url = stack.config.url("console")
    try:
        needs_setup = httpx.get(f"{url}/api/auth/status", timeout=5).json()["needs_setup"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    return f"{url}/setup?token={stack.keys['console_setup_token']}" if needs_setup else None


def cmd_migrate(_: argparse.Namespace) -> int:
    """Apply every service's migrations to its configured database."""
    from importlib import import_module

    from shared.db import make_engine, migrate

    async def run() -> None:
        for name in SERVICES:
            settings = import_module(f"services.{name}.config").Settings()
            engine = make_engine(settings.resolved_database_url())
            await migrate(engine, name)
            await engine.dispose()
            console.print(f"{name}: migrated")

    asyncio.run(run())
    return 0


def cmd_status(_: argparse.Namespace) -> int:
    """Show whether each service answers /ready."""
    config = StackConfig.from_env()
    results = asyncio.run(fetch_status({name: config.url(name) for name in SERVICES}))
    table = Table(show_header=True)
    table.add_column("service")
    table.add_column("URL")
    table.add_column("status")
    for name, status in results.items():
        table.add_row(name, config.url(name), status)
    Console().print(table)
    return 0 if all(s == "ready" for s in results.values()) else 1


def _admin_key(config: StackConfig) -> str | None:
    """`TESSERA_ADMIN_API_KEY`, else the key `tessera up` kept in `<data_dir>/keys.json` (never a new one)."""
    path = config.data_dir / "keys.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    return os.environ.get("TESSERA_ADMIN_API_KEY") or stored.get("admin_api_key")


def _data_rows(content: bytes, file_format: str) -> int:
    """Rows to expect, for the progress bar (non-blank lines, less the CSV header)."""
    lines = sum(1 for line in content.splitlines() if line.strip())
    return max(lines - (1 if file_format == "csv" else 0), 0)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
    fields = "; ".join(f"{f['field']}: {f['reason']}" for f in error.get("fields", []))
    return f"{error['message']}" + (f" ({fields})" if fields else "")


def _watch(client: httpx.Client, job: dict[str, Any], total: int) -> dict[str, Any]:
    """Poll the job with a progress bar of rows applied by profiles (not merely sent) until it is done or failed."""
    columns = (TextColumn("importing {task.fields[kind]}: {task.fields[stage]}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("import", total=total or None, kind=job["kind"], stage="publishing")
        while job["status"] in ("running", "published"):
            time.sleep(0.25)
            response = client.get(f"/v1/imports/{job['id']}")
            response.raise_for_status()
            job = response.json()
            stage = "publishing" if job["status"] == "running" else "applying"
            expected = job["accepted"] if job["status"] != "running" else max(total - job["rejected"], job["accepted"])
            bar.update(task, completed=job["applied"], total=expected or None, stage=stage)
    return job


def _report(job: dict[str, Any]) -> int:
    colour = "green" if job["status"] == "done" else "red"
    console.print(f"[{colour}]{job['status']}[/{colour}]: {job['rows_read']} rows read, "
                  f"{job['accepted']} accepted, {job['applied']} applied, {job['rejected']} rejected")  # fmt: skip
    console.print(f"job {job['id']}", style="dim")
    for error in job["errors"][:10]:
        where = f"line {error['line']}: " if error["line"] else ""
        console.print(f"  {where}{error['reason']}", markup=False)
    if job["rejected"] > 10:
        console.print(f"  … all rejections: GET /v1/imports/{job['id']}")
    return 0 if job["status"] == "done" else 1


def cmd_import(args: argparse.Namespace) -> int:
    """Upload a customers or orders file to the running profiles service and follow the job."""
    config = StackConfig.from_env()
    key = _admin_key(config)
    if not key:
        console.print("[red]tessera import: no API key; set TESSERA_ADMIN_API_KEY or run `tessera up` once.[/red]")
        return 2
    if not args.file.is_file():
        console.print(f"tessera import: no file {args.file}", style="red", markup=False)
        return 2
    content = args.file.read_bytes()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "text/csv"}
    with httpx.Client(base_url=config.url("profiles"), headers=headers, timeout=300) as client:
        try:
            response = client.post(f"/v1/imports/{args.kind}", params={"format": args.format}, content=content)
            if response.status_code != 202:
                console.print(f"tessera import: {_error_message(response)}", style="red", markup=False)
                return 1
            return _report(_watch(client, response.json(), _data_rows(content, args.format)))
        except httpx.HTTPError as exc:
            message = f"tessera import: {config.url('profiles')} did not answer ({exc})."
            console.print(message, style="red", markup=False)
            return 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tessera` console script."""
    parser = argparse.ArgumentParser(prog="tessera", description="Customer segmentation and targeted marketing.")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the embedded stack (broker, four services, console)")
    replicas_help = "N processes of each service but the console (PostgreSQL; topics get 6 partitions)"
    up.add_argument("--replicas", type=int, default=None, metavar="N", help=replicas_help)
    up.set_defaults(func=cmd_up)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    commands.add_parser("status", help="health of each service").set_defaults(func=cmd_status)
    importer = commands.add_parser("import", help="import customers or orders from a file (CSV or CDNOW)")
    importer.add_argument("kind", choices=["customers", "orders"])
    importer.add_argument("file", type=Path)
    importer.add_argument("--format", choices=["csv", "cdnow"], default="csv", help="file format (default: csv)")
    importer.set_defaults(func=cmd_import)
    demo_parser = commands.add_parser("demo", help="simulated customers through the whole platform: summary and charts")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(func=demo.cmd_demo)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
