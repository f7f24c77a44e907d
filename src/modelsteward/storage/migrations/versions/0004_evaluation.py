"""Evaluation: stored reports and locked baselines.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DIGEST = sa.String(71)


def upgrade() -> None:
    op.create_table(
        "evaluation_reports",
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("model_digest", _DIGEST, nullable=False),
        sa.Column("suite_digest", _DIGEST, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_evaluation_reports_model", "evaluation_reports", ["model_digest"])
    op.create_table(
        "evaluation_baselines",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("baseline_blob", _DIGEST, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_evaluation_baselines_name", "evaluation_baselines", ["name"])


def downgrade() -> None:
    op.drop_table("evaluation_baselines")
    op.drop_table("evaluation_reports")
