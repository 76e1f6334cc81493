"""Settings base shared by every service: `TESSERA_` variables plus a per-service prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

Role = Literal["analyst", "marketer", "admin"]
# Published here, so anyone can sign links with it: only `TESSERA_ENV=development` may run with it.
DEVELOPMENT_LINK_SECRET = "tessera-dev-link-secret"


class UnsafeSettings(RuntimeError):
    """Settings a service refuses to start with; the message is one line that says what to set."""


class ApiKeySpec(BaseModel):
    """An API key known to the services: only the SHA-256 of the key is ever configured."""

    name: str
    role: Role
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CommonSettings(BaseSettings):
    """Settings read from the plain `TESSERA_` variables, the same for every service."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_", extra="ignore")

    data_dir: Path = Path("./var")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_idempotent_producer: bool = False  # tansu lacks it; Apache Kafka in compose turns it on
    kafka_compression: Literal["lz4", "zstd", "gzip", "snappy", "none"] = "lz4"  # gzip (level 9) costs CPU
    kafka_fetch_max_wait_ms: int = Field(default=100, ge=1, le=5000)  # how long a consumer's fetch may wait
    # Partitions of a topic this process creates: the most consumers of one group that get work (replicas × workers).
    topic_partitions: int = Field(default=3, ge=1, le=1000)
    admin_api_key: SecretStr | None = None
    write_key: SecretStr | None = None  # the default source's write key (tracking creates that source)
    link_secret: SecretStr = SecretStr(DEVELOPMENT_LINK_SECRET)  # signs email open/click/unsubscribe tokens
    env: Literal["development", "production"] = "production"
    api_keys: list[ApiKeySpec] = Field(default_factory=list)
    # The console (`tessera up` sets these): where an API key not listed here is looked up (the console's own keys),
    # with the secret its internal API wants, and the public key that checks the user tokens it signs.
    console_url: str = ""
    console_internal_secret: SecretStr | None = None
    console_public_key: str = ""  # PEM (Ed25519); empty: user tokens are refused
    console_key_cache_seconds: float = Field(default=30.0, ge=0, le=30)  # answers about keys, negative ones too
    log_level: str = "INFO"
    log_json: bool = True


class ServiceSettings(CommonSettings):
    """Base of each service's settings: its own prefix wins over the shared `TESSERA_` one."""

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""
    consumer_group: str = ""
    run_migrations: bool = True
    run_consumers: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the service prefix first, then the common `TESSERA_` prefix."""
        from pydantic_settings import EnvSettingsSource

        common = EnvSettingsSource(settings_cls, env_prefix="TESSERA_")
        return init_settings, env_settings, common, dotenv_settings, file_secret_settings

    def check_secrets(self) -> None:
        """Refuse a link secret anyone can know (published or empty) outside development."""
        if self.env != "development" and self.link_secret.get_secret_value() in (DEVELOPMENT_LINK_SECRET, ""):
            raise UnsafeSettings(
                "TESSERA_LINK_SECRET is unset or the development value published in the code, so anyone could "
                "forge email links: set a secret of your own (`tessera up` generates one) or TESSERA_ENV=development"
            )

    def resolved_database_url(self) -> str:
        """The configured database URL, or a SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        path = (self.data_dir / f"{self.service_name}.db").resolve()
        return f"sqlite+aiosqlite:///{path}"
