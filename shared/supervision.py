"""Long-lived background loops (consumers, the outbox relay, sweeps, schedulers) restarted with backoff when they
fail or end, and their state kept for `/ready`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter

from shared.errors import describe_error

log = structlog.get_logger(__name__)
RESTARTS = Counter("tessera_task_restarts_total", "Background loops restarted after they failed or ended", ["task"])
MAX_BACKOFF_SECONDS = 30.0
HEALTHY_RUN_SECONDS = 60.0  # a loop that ran this long before failing starts its backoff over


@dataclass
class TaskHealth:
    """Where a supervised loop stands."""

    name: str
    state: str = "starting"  # running | restarting
    restarts: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For `/ready` and `/v1/pipeline`."""
        return {"state": self.state, "restarts": self.restarts, "last_error": self.last_error}


async def supervise(make: Callable[[], Awaitable[Any]], health: TaskHealth) -> None:
    """Run `make()` forever: whenever it raises or returns, log it, wait (0.5 s doubling to 30 s) and run it again."""
    delay = 0.5
    while True:
        started = time.monotonic()
        health.state = "running"
        try:
            await make()
            health.last_error = "stopped unexpectedly"
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health.last_error = describe_error(exc)
        if time.monotonic() - started > HEALTHY_RUN_SECONDS:
            delay = 0.5
        health.state, health.restarts = "restarting", health.restarts + 1
        RESTARTS.labels(health.name).inc()
        log.error("task_restarting", task=health.name, error=health.last_error, retry_in=delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)


async def every(seconds: float, job: Callable[[], Awaitable[Any]], health: TaskHealth) -> None:
    """Run `job` every `seconds`; a failed round is logged and kept in `health`, and the next round comes as usual."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception as exc:
            health.last_error = describe_error(exc)
            log.error("periodic_job_failed", task=health.name, error=health.last_error)
