"""docker-compose.yml agrees with the services' Settings (parsed, since no Docker engine runs here)."""

from __future__ import annotations

import importlib
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("tracking", "profiles", "segmentation", "campaigns", "console")
REQUIRED = ("database_url", "kafka_bootstrap_servers", "host", "port")
# Set in compose ahead of the campaigns Settings fields they will fill; drop each entry once its field exists.
NOT_YET_IN_SETTINGS: set[str] = set()
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}
INTERPOLATION = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: object) -> str:
    """Resolve compose variables as an unset environment would: defaults, and a stand-in where required."""

    def resolve(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if op and op.endswith("?"):
            return f"test-{name.lower()}"
        return arg if op else ""

    return INTERPOLATION.sub(resolve, str(value))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    return compose["services"][name]


def environment(compose: dict[str, Any], name: str) -> dict[str, str]:
    env = service(compose, name).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: interpolate(value) for key, value in env.items()}


def settings_class(name: str) -> type[BaseSettings]:
    return importlib.import_module(f"services.{name}.config").Settings


def env_names(name: str, field: str) -> tuple[str, str]:
    """The service-prefixed and the common variable that set a field."""
    return f"TESSERA_{name}_{field}".upper(), f"TESSERA_{field}".upper()


def default_port(name: str) -> int:
    return settings_class(name).model_fields["port"].default


def published_ports(compose: dict[str, Any], name: str) -> set[tuple[int, int]]:
    """(host, container) pairs from short ("[ip:]host:container") or long port syntax."""
    pairs = set()
    for port in service(compose, name).get("ports", []):
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            host, container = str(port).rsplit(":", 2)[-2:]
            pairs.add((int(host), int(container.split("/")[0])))
    return pairs


def test_stack_has_the_infrastructure_and_the_four_services(compose: dict[str, Any]) -> None:
    assert {"kafka", "postgres", "mailpit", *SERVICES} <= set(compose["services"])


def test_allow_list_only_holds_fields_still_missing() -> None:
    fields = settings_class("campaigns").model_fields
    added = {var for var in NOT_YET_IN_SETTINGS if var.removeprefix("TESSERA_CAMPAIGNS_").lower() in fields}
    assert not added, f"now Settings fields, remove from NOT_YET_IN_SETTINGS: {sorted(added)}"


@pytest.mark.parametrize("name", SERVICES)
class TestServiceSettings:
    def test_every_variable_is_a_settings_field(self, compose: dict[str, Any], name: str) -> None:
        known = {var for field in settings_class(name).model_fields for var in env_names(name, field)}
        unknown = set(environment(compose, name)) - known - NOT_YET_IN_SETTINGS
        assert not unknown, f"{name}: no Settings field for {sorted(unknown)}"

    def test_required_variables_are_set(self, compose: dict[str, Any], name: str) -> None:
        env = environment(compose, name)
        missing = [field for field in REQUIRED if not set(env_names(name, field)) & set(env)]
        assert not missing, f"{name}: compose sets nothing for {missing}"

    def test_environment_builds_the_expected_settings(
        self, compose: dict[str, Any], name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for var in [v for v in os.environ if v.startswith("TESSERA_")]:
            monkeypatch.delenv(var)
        for var, value in environment(compose, name).items():
            monkeypatch.setenv(var, value)
        settings: Any = settings_class(name)()
        url = make_url(settings.database_url)
        assert (url.drivername, url.host, url.database) == ("postgresql+asyncpg", "postgres", f"tessera_{name}")
        assert (settings.host, settings.port) == ("0.0.0.0", default_port(name))
        assert settings.kafka_idempotent_producer is True
        assert settings.env == "production"
        settings.check_secrets()  # the link secret comes from .env, never the development value
        advertised = environment(compose, "kafka")["KAFKA_ADVERTISED_LISTENERS"]
        assert f"//{settings.kafka_bootstrap_servers}" in advertised

    def test_the_link_secret_must_be_in_the_env_file(self, compose: dict[str, Any], name: str) -> None:
        match = INTERPOLATION.fullmatch(service(compose, name)["environment"]["TESSERA_LINK_SECRET"])
        assert match and match.group(2) == ":?", "compose must stop when .env has no TESSERA_LINK_SECRET"

    def test_publishes_the_default_port(self, compose: dict[str, Any], name: str) -> None:
        port = default_port(name)
        assert (port, port) in published_ports(compose, name)

    def test_command_serves_the_app_on_that_port(self, compose: dict[str, Any], name: str) -> None:
        command = service(compose, name)["command"]
        argv = shlex.split(command) if isinstance(command, str) else [str(arg) for arg in command]
        assert argv[:3] == ["uvicorn", f"services.{name}.app:create_app", "--factory"]
        assert argv[argv.index("--host") + 1] == "0.0.0.0"
        assert argv[argv.index("--port") + 1] == str(default_port(name))

    def test_healthcheck_asks_ready_on_that_port(self, compose: dict[str, Any], name: str) -> None:
        probe = " ".join(service(compose, name)["healthcheck"]["test"])
        assert "urllib" in probe and f"//127.0.0.1:{default_port(name)}/ready" in probe

    def test_waits_for_healthy_kafka_and_postgres(self, compose: dict[str, Any], name: str) -> None:
        depends_on = service(compose, name)["depends_on"]
        needed = ("postgres",) if name == "console" else ("kafka", "postgres")  # the console uses no Kafka
        assert {depends_on[dep]["condition"] for dep in needed} == {"service_healthy"}

    def test_runs_the_image_built_from_deploy(self, compose: dict[str, Any], name: str) -> None:
        build = service(compose, name)["build"]
        assert (build["context"], build["dockerfile"]) == (".", "deploy/Dockerfile")

    def test_database_is_created_by_the_init_script(self, compose: dict[str, Any], name: str) -> None:
        created = re.findall(r"CREATE DATABASE (\w+)", (ROOT / "deploy/postgres-init.sql").read_text())
        assert f"tessera_{name}" in created


class TestInfrastructure:
    def test_every_container_has_a_healthcheck(self, compose: dict[str, Any]) -> None:
        assert all(spec.get("healthcheck", {}).get("test") for spec in compose["services"].values())

    def test_kafka_is_a_single_kraft_node_on_a_named_volume(self, compose: dict[str, Any]) -> None:
        kafka, env = service(compose, "kafka"), environment(compose, "kafka")
        assert kafka["image"].startswith("apache/kafka:")
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        assert f"kafka-data:{env['KAFKA_LOG_DIRS']}" in kafka["volumes"]
        assert "kafka-data" in compose["volumes"]

    def test_postgres_16_runs_the_init_script(self, compose: dict[str, Any]) -> None:
        postgres = service(compose, "postgres")
        init_mount = "./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/"
        assert postgres["image"].startswith("postgres:16")
        assert any(volume.startswith(init_mount) for volume in postgres["volumes"])

    def test_campaigns_send_mail_to_mailpit(self, compose: dict[str, Any]) -> None:
        assert service(compose, "mailpit")["image"].startswith("axllent/mailpit")
        assert {(1025, 1025), (8025, 8025)} <= published_ports(compose, "mailpit")
        env = environment(compose, "campaigns")
        assert (env["TESSERA_CAMPAIGNS_SMTP_HOST"], env["TESSERA_CAMPAIGNS_SMTP_PORT"]) == ("mailpit", "1025")
        assert service(compose, "campaigns")["depends_on"]["mailpit"]["condition"] == "service_healthy"

    def test_the_console_reaches_the_services_and_they_reach_it(self, compose: dict[str, Any]) -> None:
        env = environment(compose, "console")
        for name in ("tracking", "profiles", "segmentation", "campaigns"):
            assert env[f"TESSERA_CONSOLE_{name.upper()}_URL"] == f"http://{name}:{default_port(name)}"
            theirs = service(compose, name)["environment"]
            assert interpolate(theirs["TESSERA_CONSOLE_URL"]) == f"http://console:{default_port('console')}"
            for secret in ("TESSERA_CONSOLE_PUBLIC_KEY", "TESSERA_CONSOLE_INTERNAL_SECRET"):
                assert INTERPOLATION.fullmatch(theirs[secret]).group(2) == ":?", (name, secret)  # type: ignore[union-attr]
        for secret in ("TESSERA_CONSOLE_SIGNING_KEY", "TESSERA_CONSOLE_ADMIN_EMAIL", "TESSERA_CONSOLE_ADMIN_PASSWORD"):
            match = INTERPOLATION.fullmatch(service(compose, "console")["environment"][secret])
            assert match and match.group(2) == ":?", f"compose must stop when .env has no {secret}"

    def test_campaigns_reach_profiles_and_segmentation_by_service_name(self, compose: dict[str, Any]) -> None:
        env, depends_on = environment(compose, "campaigns"), service(compose, "campaigns")["depends_on"]
        for name in ("profiles", "segmentation"):
            assert env[f"TESSERA_CAMPAIGNS_{name.upper()}_URL"] == f"http://{name}:{default_port(name)}"
            assert depends_on[name]["condition"] == "service_healthy"
        assert env["TESSERA_CAMPAIGNS_TRACKING_PUBLIC_URL"] == f"http://localhost:{default_port('tracking')}"
