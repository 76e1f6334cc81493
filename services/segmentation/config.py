"""Settings of the segmentation service (`TESSERA_SEGMENTATION_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class Settings(ServiceSettings):
    """The segmentation service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_SEGMENTATION_", extra="ignore")

    service_name: str = "segmentation"
    port: int = 8003
    consumer_group: str = "segmentation"
    sweep_interval_seconds: float = 3600.0  # how often "in the last N days" segments are recomputed as days pass
    schedule_check_seconds: float = 60.0  # how often scheduled clustering and CLV re-runs are looked for
    # Profiles' URL, to ask what it has not passed on yet before a fit (`tessera up` sets it; empty: not asked).
    profiles_url: str = ""


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
