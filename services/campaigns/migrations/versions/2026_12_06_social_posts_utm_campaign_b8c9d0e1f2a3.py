"""social_posts.campaign is the free-text UTM campaign a post carries, not a campaign id: utm_campaign

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _rename("campaign", "utm_campaign")


def downgrade() -> None:
    _rename("utm_campaign", "campaign")


def _rename(old: str, new: str) -> None:
    """Rename the column and its index; the values stay as they are."""
    op.drop_index(op.f(f"ix_social_posts_{old}"), table_name="social_posts")
    with op.batch_alter_table("social_posts", schema=None) as batch_op:  # SQLite copies the table
        batch_op.alter_column(old, new_column_name=new)
    op.create_index(op.f(f"ix_social_posts_{new}"), "social_posts", [new], unique=False)
