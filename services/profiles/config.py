"""Settings of the profiles service (`TESSERA_PROFILES_*`, falling back to `TESSERA_*`)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.profiles.engagement import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_OTHER_WEIGHT,
    DEFAULT_WEIGHTS,
    EngagementRule,
)
from shared.config import ServiceSettings

DEFAULT_POINTS: dict[str, float] = {
    "Contest Entered": 10,
    "Content Submitted": 20,
    "Review Submitted": 5,
    "Comment Posted": 1,
    "Post Shared": 2,
}


class Settings(ServiceSettings):
    """The profiles service's settings."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_PROFILES_", extra="ignore")

    service_name: str = "profiles"
    port: int = 8002
    consumer_group: str = "profiles"
    timeline_retention_days: int = 730  # interactions older than this leave the timeline (0: keep forever)
    # Gamification: points a profile earns per event name (`TESSERA_PROFILES_POINTS_PER_EVENT` as JSON).
    points_per_event: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_POINTS))
    # Engagement score: weight per event name (`page`, `screen` for those types; JSON), of any other event, and the
    # half-life in days (`TESSERA_PROFILES_ENGAGEMENT_WEIGHTS`, `…_OTHER_WEIGHT`, `…_HALF_LIFE_DAYS`).
    engagement_weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    engagement_other_weight: float = Field(default=DEFAULT_OTHER_WEIGHT, ge=0)
    engagement_half_life_days: float = Field(default=DEFAULT_HALF_LIFE_DAYS, gt=0)

    def engagement_rule(self) -> EngagementRule:
        """The engagement score's weights and half-life."""
        return EngagementRule(self.engagement_weights, self.engagement_other_weight, self.engagement_half_life_days)


@lru_cache
def get_settings() -> Settings:
    """The settings read from the environment, once per process."""
    return Settings()
