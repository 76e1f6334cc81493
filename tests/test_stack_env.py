"""`tessera up` gives each service process the environment it needs: campaigns finds the stack's other services."""

from __future__ import annotations

import json
import os
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from services.campaigns.config import Settings as CampaignsSettings
from shared.config import DEVELOPMENT_LINK_SECRET
from tessera.stack import (
    SERVICES,
    StackConfig,
    StackError,
    check_replicas,
    console_public_key,
    load_keys,
    service_env,
)
from tests.console.conftest import PUBLIC_KEY

KEYS = {"admin_api_key": "tsk_admin", "write_key": "twk_write", "link_secret": "a-generated-link-secret",
        "console_internal_secret": "an-internal-secret", "console_setup_token": "a-setup-token",
        "console_public_key": PUBLIC_KEY}  # fmt: skip
PORTS = {"tracking": 9101, "profiles": 9102, "segmentation": 9103, "campaigns": 9104, "console": 9100}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackConfig:
    """A stack on unusual ports, started from an environment without `TESSERA_` variables."""
    for var in [v for v in os.environ if v.startswith("TESSERA_")]:
        monkeypatch.delenv(var)
    return StackConfig(data_dir=tmp_path, ports=dict(PORTS))


def campaigns_settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CampaignsSettings:
    """The campaigns Settings that process would read."""
    for var, value in env.items():
        if var.startswith("TESSERA_"):
            monkeypatch.setenv(var, value)
    return CampaignsSettings()


class TestCampaignsEnv:
    def test_points_at_the_stacks_own_services(self, config: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = campaigns_settings(service_env(config, KEYS, "campaigns"), monkeypatch)
        assert (settings.profiles_url, settings.segmentation_url, settings.tracking_public_url) == (
            "http://127.0.0.1:9102",
            "http://127.0.0.1:9103",
            "http://127.0.0.1:9101",
        )
        assert (settings.host, settings.port) == ("127.0.0.1", 9104)

    def test_keeps_the_smtp_defaults(self, config: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
        settings = campaigns_settings(service_env(config, KEYS, "campaigns"), monkeypatch)
        assert (settings.smtp_host, settings.smtp_port) == ("127.0.0.1", 1025)

    def test_an_explicit_variable_wins(self, config: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TESSERA_CAMPAIGNS_PROFILES_URL", "http://crm.internal:8002")
        monkeypatch.setenv("TESSERA_TRACKING_PUBLIC_URL", "https://t.example.com")  # also campaigns' fallback
        settings = campaigns_settings(service_env(config, KEYS, "campaigns"), monkeypatch)
        assert settings.profiles_url == "http://crm.internal:8002"
        assert settings.tracking_public_url == "https://t.example.com"
        assert settings.segmentation_url == "http://127.0.0.1:9103"

    @pytest.mark.parametrize("name", ["tracking", "profiles", "segmentation"])
    def test_other_services_get_no_campaigns_variables(self, config: StackConfig, name: str) -> None:
        env = service_env(config, KEYS, name)
        assert not [var for var in env if var.startswith("TESSERA_CAMPAIGNS_")]
        assert (env[f"TESSERA_{name.upper()}_HOST"], env[f"TESSERA_{name.upper()}_PORT"]) == (
            "127.0.0.1",
            str(PORTS[name]),
        )


class TestLinkSecret:
    def test_generated_once_into_the_data_directory(self, config: StackConfig) -> None:
        first = load_keys(config.data_dir)
        stored = json.loads((config.data_dir / "keys.json").read_text())
        assert len(first["link_secret"]) >= 32 and first["link_secret"] != DEVELOPMENT_LINK_SECRET
        assert stored["link_secret"] == first["link_secret"] == load_keys(config.data_dir)["link_secret"]
        assert (config.data_dir / "keys.json").stat().st_mode & 0o077 == 0

    def test_kept_keys_from_before_gain_one(self, config: StackConfig) -> None:
        (config.data_dir / "keys.json").write_text(json.dumps({"admin_api_key": "tsk_old", "write_key": "twk_old"}))
        keys = load_keys(config.data_dir)
        assert (keys["admin_api_key"], keys["write_key"]) == ("tsk_old", "twk_old") and keys["link_secret"]

    def test_the_environment_wins(self, config: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TESSERA_LINK_SECRET", "from-the-environment")
        assert load_keys(config.data_dir)["link_secret"] == "from-the-environment"

    @pytest.mark.parametrize("name", list(SERVICES))
    def test_every_service_gets_it(self, config: StackConfig, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        for var, value in service_env(config, KEYS, name).items():
            if var.startswith("TESSERA_"):
                monkeypatch.setenv(var, value)
        settings = import_module(f"services.{name}.config").Settings()
        assert settings.link_secret.get_secret_value() == KEYS["link_secret"] and settings.env == "production"


def settings_of(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Settings a service process would read from this environment."""
    for var, value in env.items():
        if var.startswith("TESSERA_"):
            monkeypatch.setenv(var, value)
    return import_module(f"services.{name}.config").Settings()


class TestConsoleEnv:
    @pytest.mark.parametrize("name", ["tracking", "profiles", "segmentation", "campaigns"])
    def test_services_find_the_console_and_check_its_tokens(
        self, config: StackConfig, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = settings_of(name, service_env(config, KEYS, name), monkeypatch)
        assert settings.console_url == "http://127.0.0.1:9100" and settings.console_public_key == PUBLIC_KEY
        assert settings.console_internal_secret.get_secret_value() == "an-internal-secret"
        assert "TESSERA_CONSOLE_SETUP_TOKEN" not in service_env(config, KEYS, name)

    def test_the_console_gets_the_services_its_secret_and_setup_token(
        self, config: StackConfig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        env = service_env(config, KEYS, "console")
        settings = settings_of("console", env, monkeypatch)
        assert (settings.host, settings.port) == ("127.0.0.1", 9100)
        assert [settings.service_url(n) for n in ("tracking", "profiles", "segmentation", "campaigns")] == [
            f"http://127.0.0.1:910{i}" for i in range(1, 5)
        ]
        assert settings.setup_token.get_secret_value() == "a-setup-token" and settings.console_url == ""
        assert settings.console_internal_secret.get_secret_value() == "an-internal-secret"

    def test_a_stack_without_the_console_passes_none_of_this(self, tmp_path: Path) -> None:
        config = StackConfig(data_dir=tmp_path, ports={n: p for n, p in PORTS.items() if n != "console"})
        assert not [var for var in service_env(config, KEYS, "profiles") if var.startswith("TESSERA_CONSOLE_")]

    def test_secrets_and_the_signing_key_are_generated_once(self, config: StackConfig) -> None:
        first = load_keys(config.data_dir)
        assert len(first["console_internal_secret"]) >= 32 and len(first["console_setup_token"]) >= 32
        assert load_keys(config.data_dir) == first
        public = console_public_key(config.data_dir)
        assert public == console_public_key(config.data_dir) and public.startswith("-----BEGIN PUBLIC KEY-----")
        assert (config.data_dir / "console-signing-key.pem").stat().st_mode & 0o077 == 0


class TestReplicas:
    def test_replicas_set_every_service_but_the_console_and_six_partitions(self, config: StackConfig) -> None:
        replicated = StackConfig.from_env(replicas=3)
        assert [replicated.workers_of(name) for name in SERVICES] == [3, 3, 3, 3, 1]
        assert replicated.partitions() == 6 and config.partitions() == 3
        env = service_env(replicated, KEYS, "profiles")
        assert env["TESSERA_TOPIC_PARTITIONS"] == "6"

    def test_workers_per_service_and_partitions_from_the_environment(
        self, config: StackConfig, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TESSERA_PROFILES_WORKERS", "2")
        monkeypatch.setenv("TESSERA_TOPIC_PARTITIONS", "12")
        from_env = StackConfig.from_env()
        assert [from_env.workers_of(name) for name in SERVICES] == [1, 2, 1, 1, 1] and from_env.partitions() == 12

    def test_replicas_on_sqlite_are_refused_naming_the_variable(self, config: StackConfig) -> None:
        replicated = StackConfig.from_env(replicas=2)
        with pytest.raises(StackError, match="TESSERA_TRACKING_DATABASE_URL"):
            check_replicas(replicated, {})
        postgres = {f"TESSERA_{name.upper()}_DATABASE_URL": "postgresql+asyncpg://h/db" for name in SERVICES}
        check_replicas(replicated, postgres)
        check_replicas(config, {})  # one process each: SQLite is fine
