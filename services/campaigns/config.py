"""Settings of the campaigns service (`TESSERA_CAMPAIGNS_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class Settings(ServiceSettings):
    """The campaigns service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_CAMPAIGNS_", extra="ignore")

    service_name: str = "campaigns"
    port: int = 8004
    consumer_group: str = "campaigns"


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
