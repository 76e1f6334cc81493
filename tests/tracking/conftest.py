"""A running tracking app (real broker, real database) per backend, shared by a test module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.tracking.app import create_app
from services.tracking.config import Settings
from tests.builders import service_settings
from tests.conftest import BACKENDS
from tests.helpers import running


@pytest.fixture(scope="module", params=BACKENDS)
async def tracking(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for a tracking app with the default source (`WRITE_KEY`)."""
    url = await fresh_database(request.param, "tracking")
    settings = service_settings(
        Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("tracking"), rate_limit_per_second=0
    )
    async with running(create_app(settings)) as client:
        yield client
