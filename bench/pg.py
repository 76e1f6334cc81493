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
_ADMIN = PG.replace("postgresql+asyncpg://", "postgresql://")


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Seconds the call took, and its result."""
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


async def create_database(bench: str) -> str:
    """A fresh database named `tessera_bench_<bench>_<random>`; its URL."""
    name = f"tessera_bench_{bench}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return PG.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(url: str) -> None:
    """Drop a database made by `create_database`, sessions and all."""
    conn = await asyncpg.connect(_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


@asynccontextmanager
async def pg_database(bench: str) -> AsyncIterator[str]:
    """A fresh database named `tessera_bench_<bench>_<random>`, dropped afterwards whatever happens."""
    url = await create_database(bench)
    try:
        yield url
    finally:
        await drop_database(url)
