"""initial campaigns tables

Revision ID: c75cd068c587
Revises:
Create Date: 2026-11-22 12:48:11.371620
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "c75cd068c587"
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
        "segment_members",
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("entered_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "profile_id", name=op.f("pk_segment_members")),
    )
    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_members_profile_id"), ["profile_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("segment_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_members_profile_id"))

    op.drop_table("segment_members")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
