"""initial segmentation tables

Revision ID: 3f6f5a959f39
Revises:
Create Date: 2026-11-22 12:48:10.618816
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "3f6f5a959f39"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_table(
        "processed_messages",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("processed_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_processed_messages")),
    )
    op.create_table(
        "profile_features",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "computed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_profile_features")),
    )


def downgrade() -> None:

    op.drop_table("profile_features")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
