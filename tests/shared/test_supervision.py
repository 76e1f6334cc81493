"""Background loops: a failed round never ends a periodic job, a loop that dies is restarted and shown meanwhile."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.exc import OperationalError

from shared.supervision import TaskHealth, every, supervise
from tests.helpers import wait_for


async def test_a_failed_round_is_logged_and_the_next_round_comes() -> None:
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    health = TaskHealth("sweep")
    task = asyncio.create_task(every(0.01, job, health))
    try:
        await wait_for(lambda: _at_least(rounds, 3))
        assert health.last_error == "OperationalError (Exception)"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_loop_that_dies_is_restarted_and_reported_while_down() -> None:
    runs: list[str] = []
    stay = asyncio.Event()

    async def loop() -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("boom")
        await stay.wait()

    health = TaskHealth("consumer")
    task = asyncio.create_task(supervise(loop, health))
    try:
        await wait_for(lambda: _at_least(runs, 2), timeout=5)
        assert health.restarts == 1 and health.last_error == "RuntimeError" and health.state == "running"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _at_least(items: list[object], n: int) -> bool:
    return len(items) >= n
