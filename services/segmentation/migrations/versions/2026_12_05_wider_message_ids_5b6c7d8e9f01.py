"""message ids namespaced by source (wider column)

Revision ID: 5b6c7d8e9f01
Revises: 00654af468c7
Create Date: 2026-12-05 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b6c7d8e9f01"
down_revision: str | None = "00654af468c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _resize(length: int) -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce VARCHAR lengths
        op.alter_column("processed_messages", "message_id", type_=sa.String(length=length), existing_nullable=False)


def upgrade() -> None:
    _resize(300)  # shared.events.dedup_key


def downgrade() -> None:
    _resize(200)
