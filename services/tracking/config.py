"""Settings of the tracking service (`TESSERA_TRACKING_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class Settings(ServiceSettings):
    """The tracking service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_TRACKING_", extra="ignore")

    service_name: str = "tracking"
    port: int = 8001
    consumer_group: str = "tracking"
    produce_timeout_seconds: float = 2.0  # past this the event goes to the spool instead
    spool_path: Path | None = None  # default: <data_dir>/tracking-spool.db
    rate_limit_per_second: float = 1000.0  # requests per write key; 0 turns the limit off
    rate_limit_burst: int = 2000
    # Email open, click and unsubscribe links, per client address; 0 turns the limit off.
    email_rate_limit_per_second: float = 20.0
    email_rate_limit_burst: int = 100
    # A client time (after clock-skew correction) further ahead of receipt than this becomes the receive time.
    future_tolerance_seconds: int = Field(default=24 * 3600, ge=0)
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    max_event_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    max_batch_events: int = 2500
    dedup_window_seconds: int = 24 * 3600
    dedup_max_ids: int = 1_000_000
    public_url: str = ""  # how browsers reach this service; default: the request's own base URL

    def resolved_spool_path(self) -> Path:
        """Where the durable spool lives (local disk of this replica)."""
        return self.spool_path or self.data_dir / "tracking-spool.db"


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
