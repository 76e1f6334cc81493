"""Alembic environment of the profiles service."""

from services.profiles.config import get_settings
from services.profiles.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata, lambda: get_settings().resolved_database_url())
