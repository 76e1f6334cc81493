"""Settings of the console (`TESSERA_CONSOLE_*`, falling back to `TESSERA_*`)."""

import re
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.console.passwords import MIN_LENGTH
from shared.config import ServiceSettings, UnsafeSettings
from shared.usertokens import load_or_create_signing_key

REPOSITORY = Path(__file__).resolve().parents[2]
FORWARDED = ("tracking", "profiles", "segmentation", "campaigns")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Settings(ServiceSettings):
    """The console's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_CONSOLE_", extra="ignore")

    service_name: str = "console"
    port: int = 8000
    public_url: str = ""  # how browsers reach the console (invitation links); default: the request's base URL
    web_dir: Path = REPOSITORY / "web" / "dist"  # the built web app
    # Where the four services answer (`tessera up` sets them for its ports).
    tracking_url: str = "http://127.0.0.1:8001"
    profiles_url: str = "http://127.0.0.1:8002"
    segmentation_url: str = "http://127.0.0.1:8003"
    campaigns_url: str = "http://127.0.0.1:8004"
    forward_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    forward_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    forward_read_timeout_seconds: float = Field(default=60.0, gt=0)
    # User tokens: the Ed25519 private key (PEM; default: generated once into <data_dir>/console-signing-key.pem).
    signing_key: SecretStr | None = None
    token_ttl_seconds: int = Field(default=300, ge=10, le=300)
    # First admin: the one-time setup token (`tessera up` generates it), or an admin made at start.
    setup_token: SecretStr | None = None
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    admin_name: str = "Administrator"
    # Sessions.
    secure_cookies: bool = False  # Secure cookies even when a request did not come over HTTPS (behind a proxy)
    session_idle_minutes: float = Field(default=30.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    # Logins: failures within the lockout window lock an account or a client address for that long.
    lockout_failures_per_account: int = Field(default=5, ge=1)
    lockout_failures_per_address: int = Field(default=20, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    login_attempts_per_minute: int = Field(default=10, ge=1)  # per client address, failed or not
    trusted_proxies: list[str] = Field(default_factory=list)  # whose X-Forwarded-For is believed
    # Other origins whose pages may log in (a web dev server that proxies /api, e.g. http://localhost:5173).
    allowed_origins: list[str] = Field(default_factory=list)
    # Password hashing (argon2id); a stored hash made with other parameters is redone at the next login.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=8)
    password_parallelism: int = Field(default=4, ge=1)
    # Invitations.
    invitation_hours: float = Field(default=72.0, gt=0)
    smtp_host: str = ""  # empty: invitations are not mailed (the link is shown to the admin either way)
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "Tessera <console@tessera.invalid>"

    def check_secrets(self) -> None:
        """The shared checks, and an admin from the environment needs both an e-mail and a long enough password."""
        super().check_secrets()
        if bool(self.admin_email) != bool(self.admin_password):
            raise UnsafeSettings("set both TESSERA_CONSOLE_ADMIN_EMAIL and TESSERA_CONSOLE_ADMIN_PASSWORD, or neither")
        if self.admin_password and len(self.admin_password.get_secret_value()) < MIN_LENGTH:
            raise UnsafeSettings(f"TESSERA_CONSOLE_ADMIN_PASSWORD needs at least {MIN_LENGTH} characters")

    def service_url(self, service: str) -> str:
        """Base URL of one of the four services."""
        return str(getattr(self, f"{service}_url")).rstrip("/")

    def signing_key_pem(self) -> str:
        """The private key that signs user tokens: the setting, else the file in the data directory."""
        if self.signing_key:
            return self.signing_key.get_secret_value()
        return load_or_create_signing_key(self.data_dir / "console-signing-key.pem")


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
