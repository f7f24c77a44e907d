"""Model registry: versions, lineage, aliases and their moves, signatures, suppliers.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_DIGEST = sa.String(71)


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("license", sa.String(128), nullable=True),
        sa.Column("steward", sa.String(256), nullable=True),
        sa.Column("supplier", sa.String(256), nullable=True),
        sa.Column("source_id", sa.String(256), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("file_count", sa.Integer, nullable=False),
        sa.Column("registered_at", sa.String(32), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    )
    op.create_index("ix_model_versions_tier_license", "model_versions", ["tier", "license"])
    op.create_index("ix_model_versions_license", "model_versions", ["license"])
    op.create_index("ix_model_versions_steward", "model_versions", ["steward"])
    op.create_index("ix_model_versions_source_id", "model_versions", ["source_id"])
    op.create_table(
        "model_lineage",
        sa.Column("child", _DIGEST, primary_key=True),
        sa.Column("declared", sa.String(256), primary_key=True),
        sa.Column("relation", sa.String(64), nullable=True),
        sa.Column("declared_key", sa.String(256), nullable=False),
    )
    op.create_index("ix_model_lineage_declared_key", "model_lineage", ["declared_key"])
    op.create_table(
        "model_aliases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("digest", _DIGEST, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "model_alias_moves",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("previous", _DIGEST, nullable=True),
        sa.Column("target", _DIGEST, nullable=False),
        sa.Column("moved_at", sa.String(32), nullable=False),
        sa.Column("moved_by", sa.String(256), nullable=False),
    )
    op.create_index("ix_model_alias_moves_name_alias", "model_alias_moves", ["name", "alias"])
    op.create_table(
        "model_signatures",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("digest", _DIGEST, nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("bundle", _DIGEST, nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
        sa.Column("signed_by", sa.String(256), nullable=False),
    )
    op.create_index("ix_model_signatures_digest", "model_signatures", ["digest"])
    op.create_table(
        "suppliers",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("first_seen", sa.String(32), nullable=False),
        sa.Column("review", sa.Text, nullable=False),
    )
    op.create_table(
        "supplier_observations",
        sa.Column("supplier", sa.String(256), primary_key=True),
        sa.Column("digest", _DIGEST, primary_key=True),
        sa.Column("observed_at", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "supplier_observations",
        "suppliers",
        "model_signatures",
        "model_alias_moves",
        "model_aliases",
        "model_lineage",
        "model_versions",
    ):
        op.drop_table(table)
