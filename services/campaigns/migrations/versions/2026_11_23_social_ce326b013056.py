"""social: posts, daily post metrics, influencers, visits, conversions, mentions, contests, user content

Revision ID: ce326b013056
Revises: c1509e984a2b
Create Date: 2026-11-23 15:44:38.259346
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "ce326b013056"
down_revision: str | None = "c1509e984a2b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "brand_mentions",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=True),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_brand_mentions")),
    )
    with op.batch_alter_table("brand_mentions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_brand_mentions_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_brand_mentions_brand"), ["brand"], unique=False)

    op.create_table(
        "contest_entries",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("contest_id", sa.String(length=200), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_contest_entries")),
    )
    with op.batch_alter_table("contest_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contest_entries_contest_id"), ["contest_id"], unique=False)

    op.create_table(
        "influencers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column(
            "referral_codes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "utm_campaigns",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_influencers")),
        sa.UniqueConstraint("platform", "handle", name=op.f("uq_influencers_platform")),
    )
    op.create_table(
        "social_conversions",
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("referral_code", sa.String(length=200), nullable=True),
        sa.Column("utm_campaign", sa.String(length=200), nullable=True),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_social_conversions")),
    )
    with op.batch_alter_table("social_conversions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_conversions_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_conversions_referral_code"), ["referral_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_conversions_utm_campaign"), ["utm_campaign"], unique=False)

    op.create_table(
        "social_post_metrics",
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("saves", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "post_id", "date", name=op.f("pk_social_post_metrics")),
    )
    with op.batch_alter_table("social_post_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_post_metrics_date"), ["date"], unique=False)

    op.create_table(
        "social_posts",
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("published_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("influencer_id", sa.String(length=32), nullable=True),
        sa.Column("competitor", sa.Boolean(), nullable=False),
        sa.Column("competitor_handle", sa.String(length=200), nullable=True),
        sa.Column("imported_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "post_id", name=op.f("pk_social_posts")),
    )
    with op.batch_alter_table("social_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_posts_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_posts_campaign"), ["campaign"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_posts_influencer_id"), ["influencer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_social_posts_published_at"), ["published_at"], unique=False)

    op.create_table(
        "social_visits",
        sa.Column("utm_campaign", sa.String(length=200), nullable=False),
        sa.Column("session_key", sa.String(length=300), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("utm_campaign", "session_key", name=op.f("pk_social_visits")),
    )
    with op.batch_alter_table("social_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_visits_at"), ["at"], unique=False)

    op.create_table(
        "user_content",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("contest_id", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", shared.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_content")),
    )
    with op.batch_alter_table("user_content", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_content_contest_id"), ["contest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_content_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_content_submitted_at"), ["submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_content", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_content_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_user_content_status"))
        batch_op.drop_index(batch_op.f("ix_user_content_contest_id"))

    op.drop_table("user_content")
    with op.batch_alter_table("social_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_visits_at"))

    op.drop_table("social_visits")
    with op.batch_alter_table("social_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_posts_published_at"))
        batch_op.drop_index(batch_op.f("ix_social_posts_influencer_id"))
        batch_op.drop_index(batch_op.f("ix_social_posts_campaign"))
        batch_op.drop_index(batch_op.f("ix_social_posts_author"))

    op.drop_table("social_posts")
    with op.batch_alter_table("social_post_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_post_metrics_date"))

    op.drop_table("social_post_metrics")
    with op.batch_alter_table("social_conversions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_conversions_utm_campaign"))
        batch_op.drop_index(batch_op.f("ix_social_conversions_referral_code"))
        batch_op.drop_index(batch_op.f("ix_social_conversions_at"))

    op.drop_table("social_conversions")
    op.drop_table("influencers")
    with op.batch_alter_table("contest_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_entries_contest_id"))

    op.drop_table("contest_entries")
    with op.batch_alter_table("brand_mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brand_mentions_brand"))
        batch_op.drop_index(batch_op.f("ix_brand_mentions_at"))

    op.drop_table("brand_mentions")
