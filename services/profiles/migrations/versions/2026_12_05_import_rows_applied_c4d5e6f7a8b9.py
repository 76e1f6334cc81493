"""imported rows applied by the consumer (an import is done when all are)

Revision ID: c4d5e6f7a8b9
Revises: b3f1c2d4e5a6
Create Date: 2026-12-05 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d5e6f7a8b9"
down_revision: str | None = "b3f1c2d4e5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_rows_applied",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("message_key", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "message_key", name=op.f("pk_import_rows_applied")),
    )


def downgrade() -> None:
    op.drop_table("import_rows_applied")
