"""A segmentation app per test module and backend, consuming the session broker's profile changes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.segmentation.app import create_app
from services.segmentation.config import Settings
from tests.builders import service_settings
from tests.conftest import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
async def segmentation(
    request: pytest.FixtureRequest, broker: str, tmp_path_factory: pytest.TempPathFactory, fresh_database: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A segmentation app consuming profile changes from the session broker."""
    url = await fresh_database(request.param, "segmentation")
    settings = service_settings(Settings, broker=broker, database_url=url, data_dir=tmp_path_factory.mktemp("sd"),
                                consumer_group=f"seg-{uuid.uuid4().hex[:6]}")  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client
