"""Alembic environment of the console."""

from services.console.config import get_settings
from services.console.models import Base
from shared.migrations import run_migrations

run_migrations(Base.metadata, lambda: get_settings().resolved_database_url())
