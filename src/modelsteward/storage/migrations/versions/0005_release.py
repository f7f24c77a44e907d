"""Release workflow: people, sign-offs, gate decisions, release stages, deployments.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DIGEST = sa.String(71)
_TIME = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_people_key_id", "people", ["key_id"])
    op.create_table(
        "signoffs",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("model_digest", _DIGEST, nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_signoffs_model_stage", "signoffs", ["model_digest", "stage"])
    op.create_table(
        "gate_decisions",
        sa.Column("id", _DIGEST, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("model_digest", _DIGEST, nullable=False),
        sa.Column("to_stage", sa.String(32), nullable=False),
        sa.Column("allow", sa.Boolean, nullable=False),
        sa.Column("decided_at", _TIME, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_index("ix_gate_decisions_model", "gate_decisions", ["model_digest"])
    op.create_table(
        "release_stages",
        sa.Column("model_digest", _DIGEST, primary_key=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("release", _DIGEST, nullable=True),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
    )
    op.create_table(
        "deployment_history",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("deployment", sa.String(64), nullable=False),
        sa.Column("release", _DIGEST, nullable=True),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_index("ix_deployment_history_deployment", "deployment_history", ["deployment"])


def downgrade() -> None:
    for table in (
        "deployment_history",
        "deployments",
        "release_stages",
        "gate_decisions",
        "signoffs",
        "people",
    ):
        op.drop_table(table)
