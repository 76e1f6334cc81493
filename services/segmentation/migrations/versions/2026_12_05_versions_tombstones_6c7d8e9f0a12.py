"""profile versions in the replica, tombstones of merged-away and erased profiles

Revision ID: 6c7d8e9f0a12
Revises: 5b6c7d8e9f01
Create Date: 2026-12-05 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "6c7d8e9f0a12"
down_revision: str | None = "5b6c7d8e9f01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("profile_features", sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "profile_tombstones",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_profile_tombstones")),
    )


def downgrade() -> None:
    op.drop_table("profile_tombstones")
    with op.batch_alter_table("profile_features") as batch:
        batch.drop_column("version")
