"""Tracking replicas starting together on a fresh database agree on one default source (several engines, as
several processes would have)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.tracking.models import Source
from services.tracking.service import ensure_source_with_key
from shared.db import make_engine, migrate
from tests.conftest import BACKENDS

REPLICAS = 6


@pytest.mark.parametrize("backend", BACKENDS)
async def test_replicas_starting_together_create_the_default_source_once(backend: str, fresh_database: Any) -> None:
    url = await fresh_database(backend, "tracking_start")
    engines = [make_engine(url) for _ in range(REPLICAS)]
    try:
        await asyncio.gather(*(migrate(engine, "tracking") for engine in engines))

        async def start(engine: AsyncEngine) -> str:
            """What a replica's start does: make sure the default source exists, and commit."""
            async with AsyncSession(engine, expire_on_commit=False) as session:
                source = await ensure_source_with_key(session, name="Default", write_key="twk_same")
                await session.commit()
                return source.id

        ids = await asyncio.gather(*(start(engine) for engine in engines))
        async with engines[0].connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(Source))
        assert len(set(ids)) == 1 and count == 1
    finally:
        for engine in engines:
            await engine.dispose()
