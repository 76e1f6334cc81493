"""A migrated campaigns database per backend; each test runs in a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import make_engine, migrate
from tests.conftest import BACKENDS


@pytest.fixture(scope="session", params=BACKENDS)
async def campaigns_engine(request: pytest.FixtureRequest, fresh_database: Any) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated campaigns database."""
    url = await fresh_database(request.param, "campaigns")
    engine = make_engine(url)
    await migrate(engine, "campaigns")
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(campaigns_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test."""
    async with campaigns_engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(bind=connection, expire_on_commit=False,
                                join_transaction_mode="create_savepoint") as session:  # fmt: skip
            yield session
        await transaction.rollback()
