"""Settings of the campaigns service (`TESSERA_CAMPAIGNS_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache

from pydantic import Field, IPvAnyNetwork, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings


class Settings(ServiceSettings):
    """The campaigns service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_CAMPAIGNS_", extra="ignore")

    service_name: str = "campaigns"
    port: int = 8004
    consumer_group: str = "campaigns"
    # Where the other services answer (their REST APIs give audiences and contact data).
    profiles_url: str = "http://127.0.0.1:8002"
    segmentation_url: str = "http://127.0.0.1:8003"
    # How recipients' mail clients reach tracking's open pixel, click redirect and unsubscribe link.
    tracking_public_url: str = "http://127.0.0.1:8001"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_concurrency: int = Field(default=10, ge=1, le=200)  # connections sending at once
    send_rate_per_second: float = Field(default=1000.0, ge=0)  # 0: no limit
    mail_from: str = "Tessera <marketing@tessera.invalid>"
    send_chunk_size: int = Field(default=500, ge=1, le=1000)  # recipients planned, mailed and recorded together
    schedule_check_seconds: float = 5.0  # scheduled launches, A/B winners and triggered sends are looked for this often
    # Webhooks and audience pushes reach public addresses only, plus these networks (JSON list of CIDRs).
    allowed_webhook_networks: list[IPvAnyNetwork] = Field(default_factory=list)


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
