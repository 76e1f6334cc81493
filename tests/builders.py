"""Builders for settings and apps of each service, pointed at the test broker and database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import SecretStr

from tests.conftest import ADMIN_KEY, API_KEYS, LINK_SECRET, WRITE_KEY


def service_settings(
    settings_cls: type[Any], *, broker: str, database_url: str, data_dir: Path, **overrides: Any
) -> Any:
    """Settings for one service in a test: real broker, given database, test keys and link secret."""
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": broker,
        "database_url": database_url,
        "data_dir": data_dir,
        "admin_api_key": SecretStr(ADMIN_KEY),
        "api_keys": API_KEYS,
        "write_key": SecretStr(WRITE_KEY),
        "link_secret": SecretStr(LINK_SECRET),
        "log_json": True,
    }
    values.update(overrides)
    return settings_cls(**values)


def auth(key: str) -> dict[str, str]:
    """An Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}
