"""erased identities; message keys namespaced by source (wider columns)

Revision ID: d7e8f9a0b1c2
Revises: ce326b013056
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.db

revision: str = "d7e8f9a0b1c2"
down_revision: str | None = "ce326b013056"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A message key is `<source namespace>/<messageId>` (shared.events.dedup_key): up to 233 characters.
WIDENED = [("processed_messages", "message_id"), ("interactions", "message_id"), ("conversions", "message_id"),
           ("social_conversions", "message_id"), ("brand_mentions", "message_id"), ("contest_entries", "message_id"),
           ("user_content", "id")]  # fmt: skip


def _resize(length: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite does not enforce VARCHAR lengths
    for table, column in WIDENED:
        op.alter_column(table, column, type_=sa.String(length=length), existing_nullable=False)


def upgrade() -> None:
    op.create_table(
        "erased_identities",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", shared.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "digest", name=op.f("pk_erased_identities")),
    )
    _resize(300)


def downgrade() -> None:
    _resize(200)
    op.drop_table("erased_identities")
