"""PostgreSQL going away under load (every connection terminated, again and again) is transient: the profiles
consumer retries until the database is back, rejects nothing and loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select

from services.profiles.app import create_app
from services.profiles.config import Settings
from services.profiles.models import Identity
from shared.db import make_engine
from shared.events import EVENTS_REJECTED
from shared.transient import is_transient
from tests.builders import service_settings
from tests.conftest import POSTGRES_URL
from tests.helpers import TopicReader, running, wait_for
from tests.profiles.builders import event
from tests.profiles.test_api import send

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="TESSERA_TEST_POSTGRES_URL is not set")
EVENTS = 3000


async def _terminate_connections(database: str) -> int:
    """Kill every session on the database, as an administrator's restart would."""
    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    connection = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1"
        return int(await connection.fetchval(query, database))
    finally:
        await connection.close()


async def _applied(url: str, m: str) -> int | None:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).select_from(Identity).where(Identity.value.like(f"outage-{m}-%"))
            count = int(await connection.scalar(query) or 0)
        return count if count == EVENTS else None
    except Exception as exc:  # our own check may meet a terminated connection too
        assert is_transient(exc), exc
        return None
    finally:
        await engine.dispose()


async def test_terminated_connections_under_load_reject_nothing_and_lose_nothing(
    broker: str, fresh_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url, m = await fresh_database("postgres", "outage"), uuid.uuid4().hex[:8]
    group = f"profiles-outage-{m}"
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("o"),
                                consumer_group=group)  # fmt: skip
    values = [event(userId=f"outage-{m}-{i}", messageId=f"outage-{m}-{i}") for i in range(EVENTS)]
    async with running(create_app(settings)):
        killer = asyncio.create_task(_keep_terminating(url.rsplit("/", 1)[1]))
        try:
            for start in range(0, EVENTS, 300):
                await send(broker, *values[start : start + 300])
            await wait_for(lambda: _applied(url, m), timeout=120, interval=0.5)
        finally:
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
    async with TopicReader(broker, EVENTS_REJECTED) as reader:
        for _ in range(10):  # every partition from the beginning, a fetch at a time
            await reader.poll()
        assert [v for v in reader.values if v.get("source") == group] == []


async def _keep_terminating(database: str) -> None:
    """Terminate every connection a few times a second for the first seconds of the load, then let it recover."""
    for _ in range(12):
        await _terminate_connections(database)
        await asyncio.sleep(0.25)  # the outage's rhythm, not a wait for a condition
