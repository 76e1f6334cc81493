"""Settings of the profiles service (`TESSERA_PROFILES_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class Settings(ServiceSettings):
    """The profiles service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_PROFILES_", extra="ignore")

    service_name: str = "profiles"
    port: int = 8002
    consumer_group: str = "profiles"
    timeline_retention_days: int = 730  # interactions older than this leave the timeline (0: keep forever)


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
