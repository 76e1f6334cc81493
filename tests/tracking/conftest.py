"""A running tracking app (real broker, real database) per backend, shared by a test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.tracking.app import create_app
from services.tracking.config import Settings
from tests.builders import service_settings
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.helpers import running


async def backend_url(backend: str, tmp_path_factory: pytest.TempPathFactory, make_pg: Callable[[str], Any]) -> str:
    """A fresh database URL on the given backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if not POSTGRES_URL:
        pytest.skip("TESSERA_TEST_POSTGRES_URL is not set")
    return str(await make_pg("tracking"))


@pytest.fixture(scope="module", params=BACKENDS)
async def tracking(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, postgres_databases: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for a tracking app with the default source (`WRITE_KEY`)."""
    url = await backend_url(request.param, tmp_path_factory, postgres_databases)
    settings = service_settings(
        Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("tracking"), rate_limit_per_second=0
    )
    async with running(create_app(settings)) as client:
        yield client
