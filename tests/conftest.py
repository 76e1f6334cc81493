"""Session-wide real infrastructure: one tansu broker, SQLite files and PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import pytest

from shared.auth import hash_key
from shared.config import ApiKeySpec
from tessera.broker import free_port, start_broker, stop_process

POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "")
ADMIN_KEY = "tsk_test_admin"
MARKETER_KEY = "tsk_test_marketer"
ANALYST_KEY = "tsk_test_analyst"
WRITE_KEY = "twk_test_default"
LINK_SECRET = "tessera-test-link-secret"
CONSOLE_ADMIN_EMAIL = "admin@tessera.test"
CONSOLE_ADMIN_PASSWORD = (
    "console-test-admin-password"  # services refuse the published development value outside development
)
API_KEYS = [
    ApiKeySpec(name="marketer", role="marketer", sha256=hash_key(MARKETER_KEY)),
    ApiKeySpec(name="analyst", role="analyst", sha256=hash_key(ANALYST_KEY)),
]
BACKENDS = ["sqlite", "postgres"]


@contextmanager
def running_broker(tmp_path_factory: pytest.TempPathFactory, name: str = "broker") -> Iterator[str]:
    """A real Kafka-protocol broker (tansu, memory storage) on a free port, logging to a file of its own."""
    port = free_port()
    with open(tmp_path_factory.mktemp(name) / "broker.log", "ab") as log:
        process = start_broker("127.0.0.1", port, log)
        try:
            yield f"127.0.0.1:{port}"
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's broker."""
    with running_broker(tmp_path_factory) as bootstrap:
        yield bootstrap


def _pg_dsn(database: str) -> str:
    base = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    return base.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
async def postgres_databases() -> AsyncIterator[Callable[[str], str]]:
    """Makes PostgreSQL databases for this run (dropped at the end); skips when none is configured."""
    created: list[str] = []
    run = uuid.uuid4().hex[:8]

    async def make(name: str) -> str:
        database = f"tessera_test_{run}_{name}_{len(created)}"
        conn = await asyncpg.connect(_pg_dsn("postgres"))
        await conn.execute(f'CREATE DATABASE "{database}"')
        await conn.close()
        created.append(database)
        return POSTGRES_URL.rsplit("/", 1)[0] + f"/{database}"

    yield make  # type: ignore[misc]
    if created:
        conn = await asyncpg.connect(_pg_dsn("postgres"))
        for database in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.close()


FreshDatabase = Callable[[str, str], Awaitable[str]]


@pytest.fixture(scope="session")
def fresh_database(tmp_path_factory: pytest.TempPathFactory, postgres_databases: Any) -> FreshDatabase:
    """`await fresh_database(backend, name)`: a new empty database URL; skips PostgreSQL when none is configured."""

    async def make(backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp(name) / f'{name}.db'}"
        if not POSTGRES_URL:
            pytest.skip("TESSERA_TEST_POSTGRES_URL is not set")
        return str(await postgres_databases(name))

    return make


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, fresh_database: FreshDatabase) -> str:
    """A fresh, empty database URL on each backend (PostgreSQL only when configured)."""
    return await fresh_database(request.param, "db")
