"""Alembic environment of the campaigns service."""

from services.campaigns.config import get_settings
from services.campaigns.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata, lambda: get_settings().resolved_database_url())
