"""The `tessera` command: `up`, `migrate`, `status`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from types import FrameType

from rich.console import Console
from rich.table import Table

from tessera.stack import SERVICES, Stack, StackConfig, StackError, fetch_status

console = Console(stderr=True)


class Stop(Exception):
    """Raised from the signal handler to leave the watch loop."""


def _raise_stop(signum: int, _: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def cmd_up(_: argparse.Namespace) -> int:
    """Start the embedded stack in the foreground."""
    config = StackConfig.from_env()
    stack = Stack(config)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        with console.status("Starting the broker and the four services…"):
            stack.start()
        _print_ready(stack)
        stack.watch()
    except (Stop, KeyboardInterrupt):
        console.print("Stopping…")
        return _stopped(stack, 0)
    except StackError as exc:
        console.print(f"[red]tessera up: {exc}[/red]")
        return _stopped(stack, 1)
    return _stopped(stack, 0)


def _stopped(stack: Stack, code: int) -> int:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not interrupt the clean stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stack.stop()
    return code


def _print_ready(stack: Stack) -> None:
    table = Table(title="Tessera is ready", show_header=True)
    table.add_column("service")
    table.add_column("URL")
    for name in stack.services:
        table.add_row(name, f"{stack.config.url(name)}  (docs: /docs)")
    table.add_row("broker", f"{stack.config.host}:{stack.config.broker_port}")
    console.print(table)
    console.print(f"Admin API key:  {stack.keys['admin_api_key']}")
    console.print(f"Write key:      {stack.keys['write_key']}")
    console.print(f"Data and logs:  {stack.config.data_dir.resolve()}   (Ctrl-C stops everything)")
    print(f"READY {' '.join(stack.config.url(n) for n in stack.services)}", flush=True)


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tessera` console script."""
    parser = argparse.ArgumentParser(prog="tessera", description="Customer segmentation and targeted marketing.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the embedded stack (broker + four services)").set_defaults(func=cmd_up)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    commands.add_parser("status", help="health of each service").set_defaults(func=cmd_status)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
