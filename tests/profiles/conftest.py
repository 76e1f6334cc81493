"""A migrated profiles database per backend; each test runs in a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import make_engine, migrate
from tests.conftest import BACKENDS, POSTGRES_URL


@pytest.fixture(scope="session", params=BACKENDS)
async def profiles_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_databases: Any
) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated profiles database."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('profiles') / 'profiles.db'}"
    elif not POSTGRES_URL:
        pytest.skip("TESSERA_TEST_POSTGRES_URL is not set")
    else:
        url = await postgres_databases("profiles")
    engine = make_engine(url)
    await migrate(engine, "profiles")
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(profiles_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test."""
    async with profiles_engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(bind=connection, expire_on_commit=False,
                                join_transaction_mode="create_savepoint") as session:  # fmt: skip
            yield session
        await transaction.rollback()
