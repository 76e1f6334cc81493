"""Services refuse to start with the link secret published in the code, unless told they are in development."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from pydantic import SecretStr

from shared.config import DEVELOPMENT_LINK_SECRET, UnsafeSettings

SERVICES = ["tracking", "profiles", "segmentation", "campaigns"]


def build(service: str, **values: Any) -> Any:
    """The service's app factory applied to settings given here (its own environment aside)."""
    settings = import_module(f"services.{service}.config").Settings(**values)
    return import_module(f"services.{service}.app").create_app(settings)


@pytest.mark.parametrize("service", SERVICES)
class TestLinkSecret:
    @pytest.mark.parametrize("secret", [DEVELOPMENT_LINK_SECRET, ""], ids=["published", "empty"])
    def test_a_known_secret_is_refused_in_production(self, service: str, secret: str) -> None:
        with pytest.raises(UnsafeSettings, match="TESSERA_LINK_SECRET") as refused:
            build(service, env="production", link_secret=SecretStr(secret))
        assert "\n" not in str(refused.value) and "TESSERA_ENV=development" in str(refused.value)

    def test_production_is_the_default(self, service: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TESSERA_ENV", raising=False)
        monkeypatch.delenv("TESSERA_LINK_SECRET", raising=False)
        with pytest.raises(UnsafeSettings):
            build(service)

    def test_development_may_use_it(self, service: str) -> None:
        assert build(service, env="development", link_secret=SecretStr(DEVELOPMENT_LINK_SECRET))

    def test_a_secret_of_ones_own_starts(self, service: str) -> None:
        assert build(service, env="production", link_secret=SecretStr("4f1c0e0b6a9d47c1b1f0d3e2a5c6b7d8"))
