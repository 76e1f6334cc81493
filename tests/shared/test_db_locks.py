"""try_lock on SQLite (a file lock beside the database) and PostgreSQL (an advisory lock): one holder at a time across
engines and processes, let go when the block ends and when the holding process dies."""

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import make_engine, try_lock
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import asyncio, sys
from shared.db import make_engine, try_lock

async def main() -> None:
    async with try_lock(make_engine(sys.argv[1]), "job") as held:
        print("held" if held else "busy", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


async def _free(engine: AsyncEngine, name: str) -> bool:
    async with try_lock(engine, name) as held:
        return held


async def test_one_holder_at_a_time_until_the_block_ends(database_url: str) -> None:
    first, second = make_engine(database_url), make_engine(database_url)
    try:
        async with try_lock(first, "job") as held:
            assert held and not await _free(second, "job") and not await _free(first, "job")
            assert await _free(second, "another job")
        assert await _free(second, "job")
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_holder_that_dies_lets_go(database_url: str) -> None:
    engine = make_engine(database_url)
    with subprocess.Popen([sys.executable, "-c", HOLDER, database_url], cwd=ROOT, stdout=subprocess.PIPE) as holder:
        try:
            assert await asyncio.to_thread(holder.stdout.readline) == b"held\n"  # type: ignore[union-attr]
            assert not await _free(engine, "job")
            holder.kill()  # no clean-up runs: the lock goes with the process (and its connection)
            await asyncio.to_thread(holder.wait)
            assert await wait_for(lambda: _free(engine, "job"))
        finally:
            holder.kill()
            await engine.dispose()


async def test_an_in_memory_database_has_one_holder_in_its_process() -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    async with try_lock(engine, "job") as held:
        assert held and not await _free(engine, "job")
    assert await _free(engine, "job")
    await engine.dispose()
