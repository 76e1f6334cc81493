"""feedback inbox

Revision ID: a521da8fdca4
Revises: e463ff1ea6f1
Create Date: 2026-11-23 15:45:31.619080
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "a521da8fdca4"
down_revision: str | None = "e463ff1ea6f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=100), nullable=True),
        sa.Column("product_id", sa.String(length=200), nullable=True),
        sa.Column("post_id", sa.String(length=200), nullable=True),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("compound", sa.Float(), nullable=True),
        sa.Column("label", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("responded_at", shared.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_feedback_items_profile_id_profiles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint("message_id", name=op.f("uq_feedback_items_message_id")),
    )
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_items_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_items_profile_id"), ["profile_id"], unique=False)
        batch_op.create_index("ix_feedback_items_received_id", ["received_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_items_received_id")
        batch_op.drop_index(batch_op.f("ix_feedback_items_profile_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_items_product_id"))

    op.drop_table("feedback_items")
