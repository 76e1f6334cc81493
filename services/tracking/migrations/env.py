"""Alembic environment of the tracking service."""

from services.tracking.config import get_settings
from services.tracking.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata, lambda: get_settings().resolved_database_url())
