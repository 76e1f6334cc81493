"""scores clusterings clv models

Revision ID: 68c5359fc808
Revises: 5eefecfe2b17
Create Date: 2026-11-23 15:04:51.431383
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import shared.db

revision: str = "68c5359fc808"
down_revision: str | None = "5eefecfe2b17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_assignments",
        sa.Column("clustering_id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("clustering_id", "profile_id", name=op.f("pk_cluster_assignments")),
    )
    with op.batch_alter_table("cluster_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_assignments_profile_id"), ["profile_id"], unique=False)

    op.create_table(
        "clustering_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("clustering_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("profiles", sa.Integer(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("silhouette", sa.Float(), nullable=False),
        sa.Column(
            "result", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "drift", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clustering_runs")),
    )
    with op.batch_alter_table("clustering_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clustering_runs_clustering_id"), ["clustering_id"], unique=False)

    op.create_table(
        "clusterings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "features", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("min_share", sa.Float(), nullable=False),
        sa.Column("segment_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("stage", sa.String(length=100), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("rerun_every_hours", sa.Float(), nullable=True),
        sa.Column("next_run_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusterings")),
    )
    op.create_table(
        "clv_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("calibration_end", shared.db.UTCDateTime(), nullable=False),
        sa.Column("time_unit", sa.String(length=10), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("discount_rate", sa.Float(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column(
            "parameters", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("rerun_every_hours", sa.Float(), nullable=True),
        sa.Column("next_run_at", shared.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", shared.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clv_models")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    with op.batch_alter_table("profile_features", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "consent",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "scores",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )

    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="rules"))
        batch_op.add_column(
            sa.Column(
                "goal", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("goal")
        batch_op.drop_column("kind")

    with op.batch_alter_table("profile_features", schema=None) as batch_op:
        batch_op.drop_column("scores")
        batch_op.drop_column("consent")

    op.drop_table("settings")
    op.drop_table("clv_models")
    op.drop_table("clusterings")
    with op.batch_alter_table("clustering_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clustering_runs_clustering_id"))

    op.drop_table("clustering_runs")
    with op.batch_alter_table("cluster_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_assignments_profile_id"))

    op.drop_table("cluster_assignments")
