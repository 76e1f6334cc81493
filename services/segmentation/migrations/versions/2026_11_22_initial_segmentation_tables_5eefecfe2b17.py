"""initial segmentation tables

Revision ID: 5eefecfe2b17
Revises:
Create Date: 2026-11-22 14:33:36.843358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "5eefecfe2b17"
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
        "past_memberships",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("entered_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("exited_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_past_memberships")),
    )
    with op.batch_alter_table("past_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_past_memberships_profile_id"), ["profile_id"], unique=False)

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
            "traits", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "computed", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_profile_features")),
    )
    op.create_table(
        "segment_memberships",
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("entered_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "profile_id", name=op.f("pk_segment_memberships")),
    )
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_memberships_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "segment_sizes",
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "at", name=op.f("pk_segment_sizes")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column(
            "definition", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("last_computed_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )


def downgrade() -> None:

    op.drop_table("segments")
    op.drop_table("segment_sizes")
    with op.batch_alter_table("segment_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_memberships_profile_id"))

    op.drop_table("segment_memberships")
    op.drop_table("profile_features")
    op.drop_table("processed_messages")
    with op.batch_alter_table("past_memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_past_memberships_profile_id"))

    op.drop_table("past_memberships")
    op.drop_table("outbox")
