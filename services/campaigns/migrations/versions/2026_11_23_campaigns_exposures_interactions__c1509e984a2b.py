"""campaigns exposures interactions conversions

Revision ID: c1509e984a2b
Revises: c75cd068c587
Create Date: 2026-11-23 15:32:22.255401
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "c1509e984a2b"
down_revision: str | None = "c75cd068c587"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audience_exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column(
            "rows", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column(
            "removed", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("pushed", sa.String(length=20), nullable=True),
        sa.Column("push_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audience_exports")),
    )
    with op.batch_alter_table("audience_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audience_exports_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("goal_event", sa.String(length=200), nullable=False),
        sa.Column(
            "target_segments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "exclude_segments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "variants", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("holdout_percent", sa.Float(), nullable=False),
        sa.Column(
            "schedule", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "frequency_cap",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "attribution", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "ab_test", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column(
            "progress", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("winner_variant_id", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("launched_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("test_ends_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "conversions",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_conversions")),
    )
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversions_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "exposures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("segment_id", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("variant_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exposures")),
        sa.UniqueConstraint("campaign_id", "profile_id", name=op.f("uq_exposures_campaign_id")),
    )
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposures_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("variant_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interactions_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "known_identities",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name=op.f("pk_known_identities")),
    )
    with op.batch_alter_table("known_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_known_identities_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "suppressions",
        sa.Column("email_sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_sha256", name=op.f("pk_suppressions")),
    )
    op.create_table(
        "trigger_requests",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("segment_id", sa.String(length=32), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "profile_id", name=op.f("pk_trigger_requests")),
    )


def downgrade() -> None:
    op.drop_table("trigger_requests")
    op.drop_table("suppressions")
    with op.batch_alter_table("known_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_known_identities_profile_id"))

    op.drop_table("known_identities")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_campaign_id"))

    op.drop_table("interactions")
    with op.batch_alter_table("exposures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposures_profile_id"))

    op.drop_table("exposures")
    with op.batch_alter_table("conversions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversions_profile_id"))

    op.drop_table("conversions")
    op.drop_table("campaigns")
    with op.batch_alter_table("audience_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audience_exports_campaign_id"))

    op.drop_table("audience_exports")
