"""Data provenance, training runs and the legal register: datasets, artifact locations, runs and
their inputs, reproductions, licence approvals.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_DIGEST = sa.String(71)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("license", sa.String(256), nullable=False),
        sa.Column("expires_on", sa.String(10), nullable=False),
        sa.Column("registered_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_datasets_expires_on", "datasets", ["expires_on"])
    op.create_table(
        "artifact_locations",
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seen_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "training_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("output_digest", _DIGEST, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_training_runs_output_digest", "training_runs", ["output_digest"])
    op.create_index("ix_training_runs_name", "training_runs", ["name"])
    op.create_table(
        "run_inputs",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
    )
    op.create_index("ix_run_inputs_digest", "run_inputs", ["digest"])
    op.create_table(
        "run_reproductions",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reproduced_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_run_reproductions_run_id", "run_reproductions", ["run_id"])
    op.create_table(
        "license_approvals",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("model_digest", _DIGEST, nullable=False),
        sa.Column("use", sa.String(16), nullable=False),
        sa.Column("distribution", sa.String(16), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("review_digest", _DIGEST, nullable=False),
        sa.Column("approved_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_license_approvals_model", "license_approvals", ["model_digest", "use", "distribution"]
    )


def downgrade() -> None:
    for table in (
        "license_approvals",
        "run_reproductions",
        "run_inputs",
        "training_runs",
        "artifact_locations",
        "datasets",
    ):
        op.drop_table(table)
