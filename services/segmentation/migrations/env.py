"""Alembic environment of the segmentation service."""

from services.segmentation.config import get_settings
from services.segmentation.models import Base  # every room's tables
from shared.migrations import run_migrations

run_migrations(Base.metadata, lambda: get_settings().resolved_database_url())
