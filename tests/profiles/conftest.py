"""A migrated profiles database per backend; each test runs in a transaction that is rolled back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import make_engine, migrate
from tests.conftest import BACKENDS, running_broker


@pytest.fixture(scope="package")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of the profiles tests' own: each test's fresh consumer group reads from the start of the topic, and
    the events other packages left on the session broker would make it wait behind thousands of them."""
    with running_broker(tmp_path_factory, "profiles-broker") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session", params=BACKENDS)
async def profiles_engine(request: pytest.FixtureRequest, fresh_database: Any) -> AsyncIterator[AsyncEngine]:
    """An engine on a freshly migrated profiles database."""
    url = await fresh_database(request.param, "profiles")
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
