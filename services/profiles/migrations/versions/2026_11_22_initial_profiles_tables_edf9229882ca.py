"""initial profiles tables

Revision ID: edf9229882ca
Revises:
Create Date: 2026-11-22 12:48:09.854809
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "edf9229882ca"
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
        "profiles",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "traits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
    )
    op.create_table(
        "identities",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_identities_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_identities")),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_profile_id"), ["profile_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_profile_id"))

    op.drop_table("identities")
    op.drop_table("profiles")
    op.drop_table("processed_messages")
    op.drop_table("outbox")
