"""What the PostgreSQL benchmarks share: a throwaway database, and timing one awaited call."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

PG = os.environ.get("TESSERA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Seconds the call took, and its result."""
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


@asynccontextmanager
async def pg_database(bench: str) -> AsyncIterator[str]:
    """A fresh database named `tessera_bench_<bench>_<random>`, dropped afterwards whatever happens."""
    name = f"tessera_bench_{bench}_{uuid.uuid4().hex[:8]}"
    admin = PG.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        yield PG.rsplit("/", 1)[0] + f"/{name}"
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
