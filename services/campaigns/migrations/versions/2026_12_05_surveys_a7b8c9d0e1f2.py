"""surveys and their answers (one per person and survey)

Revision ID: a7b8c9d0e1f2
Revises: f2a3b4c5d6e7
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UTCDateTime

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "f2a3b4c5d6e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("ask_comment", sa.Boolean(), nullable=False),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", "profile_id", name=op.f("uq_survey_responses_survey_id")),
    )
    for column in ("survey_id", "profile_id", "campaign_id", "answered_at"):
        op.create_index(op.f(f"ix_survey_responses_{column}"), "survey_responses", [column])


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("surveys")
