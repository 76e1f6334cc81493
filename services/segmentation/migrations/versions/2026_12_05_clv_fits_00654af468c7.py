"""clv fits

Revision ID: 00654af468c7
Revises: 68c5359fc808
Create Date: 2026-12-05 10:27:05.377365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "00654af468c7"
down_revision: str | None = "68c5359fc808"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clv_fits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=200), nullable=False),
        sa.Column(
            "error", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("calibration_end", sa.Date(), nullable=False),
        sa.Column("time_unit", sa.String(length=10), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("discount_rate", sa.Float(), nullable=False),
        sa.Column("rerun_every_hours", sa.Float(), nullable=True),
        sa.Column("model_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", shared.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clv_fits")),
    )
    with op.batch_alter_table("clv_fits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clv_fits_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clv_fits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clv_fits_status"))

    op.drop_table("clv_fits")
