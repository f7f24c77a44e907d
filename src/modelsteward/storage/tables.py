"""The relational schema (SQLAlchemy Core); migrations create it and a test keeps them equal."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "artifact_locations",
    "datasets",
    "deployment_history",
    "deployments",
    "evaluation_baselines",
    "evaluation_reports",
    "gate_decisions",
    "ledger_checkpoints",
    "ledger_entries",
    "ledger_nodes",
    "ledger_state",
    "meta",
    "metadata",
    "model_alias_moves",
    "model_aliases",
    "model_lineage",
    "model_signatures",
    "model_versions",
    "license_approvals",
    "people",
    "release_stages",
    "run_inputs",
    "run_reproductions",
    "signoffs",
    "supplier_observations",
    "suppliers",
    "training_runs",
]

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("subject", String(1024), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("ix_ledger_entries_kind", "kind"),
    Index("ix_ledger_entries_subject", "subject"),
)

ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("compact", LargeBinary, nullable=False),
    Column("last_time", String(32), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created", String(32), nullable=False),
    Index("ix_ledger_checkpoints_size", "size"),
)

# -- model registry (issue 3) ------------------------------------------------------------------

model_versions = Table(
    "model_versions",
    metadata,
    Column("digest", String(71), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("tier", String(32), nullable=False),
    Column("license", String(128), nullable=True),  # lowercased; for "other", the licence name
    Column("steward", String(256), nullable=True),
    Column("supplier", String(256), nullable=True),
    Column("source_id", String(256), nullable=True),  # "org/name" of a hub source, lowercased
    Column("size", BigInteger, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("record", Text, nullable=False),  # ModelVersion.to_dict() as JSON
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    Index("ix_model_versions_tier_license", "tier", "license"),
    Index("ix_model_versions_license", "license"),
    Index("ix_model_versions_steward", "steward"),
    Index("ix_model_versions_source_id", "source_id"),
)

model_lineage = Table(
    "model_lineage",
    metadata,
    Column("child", String(71), primary_key=True),
    Column("declared", String(256), primary_key=True),
    Column("relation", String(64), nullable=True),
    Column("declared_key", String(256), nullable=False),  # lowercased, for resolution
    Index("ix_model_lineage_declared_key", "declared_key"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("digest", String(71), nullable=False),
    Column("seq", BigInteger, nullable=False),
)

model_alias_moves = Table(
    "model_alias_moves",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger entry
    Column("name", String(128), nullable=False),
    Column("alias", String(64), nullable=False),
    Column("previous", String(71), nullable=True),
    Column("target", String(71), nullable=False),
    Column("moved_at", String(32), nullable=False),
    Column("moved_by", String(256), nullable=False),
    Index("ix_model_alias_moves_name_alias", "name", "alias"),
)

model_signatures = Table(
    "model_signatures",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(71), nullable=False),
    Column("key_fingerprint", String(64), nullable=False),
    Column("bundle", String(71), nullable=False),  # blob digest of the OMS bundle
    Column("signed_at", String(32), nullable=False),
    Column("signed_by", String(256), nullable=False),
    Index("ix_model_signatures_digest", "digest"),
)

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", String(256), primary_key=True),
    Column("first_seen", String(32), nullable=False),
    Column("review", Text, nullable=False),  # SupplierReview as JSON
)

supplier_observations = Table(
    "supplier_observations",
    metadata,
    Column("supplier", String(256), primary_key=True),
    Column("digest", String(71), primary_key=True),
    Column("observed_at", String(32), nullable=False),
    Column("data", Text, nullable=False),
)

# -- data provenance, training runs, legal register (issue 4) ---------------------------------

datasets = Table(
    "datasets",
    metadata,
    Column("digest", String(71), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("tier", String(32), nullable=False),
    Column("license", String(256), nullable=False),
    Column("expires_on", String(10), nullable=False),
    Column("registered_at", String(32), nullable=False),
    Column("record", Text, nullable=False),  # DatasetSnapshot.to_dict() as JSON
    Index("ix_datasets_expires_on", "expires_on"),
)

artifact_locations = Table(
    "artifact_locations",
    metadata,
    Column("digest", String(71), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("kind", String(16), nullable=False),  # "model" | "dataset"
    Column("seen_at", String(32), nullable=False),
)

training_runs = Table(
    "training_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("output_digest", String(71), nullable=False),
    Column("name", String(128), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("record", Text, nullable=False),  # TrainingRun.to_dict() as JSON
    Index("ix_training_runs_output_digest", "output_digest"),
    Index("ix_training_runs_name", "name"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("digest", String(71), primary_key=True),
    Column("name", String(256), nullable=False),
    Index("ix_run_inputs_digest", "digest"),
)

run_reproductions = Table(
    "run_reproductions",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger entry
    Column("run_id", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("reproduced_at", String(32), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_run_reproductions_run_id", "run_id"),
)

license_approvals = Table(
    "license_approvals",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger entry
    Column("model_digest", String(71), nullable=False),
    Column("use", String(16), nullable=False),
    Column("distribution", String(16), nullable=False),
    Column("field", String(64), nullable=False),  # "" when no field of use was named
    Column("review_digest", String(71), nullable=False),
    Column("approved_at", String(32), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_license_approvals_model", "model_digest", "use", "distribution"),
)

# -- evaluation (issue 5) ----------------------------------------------------------------------

evaluation_reports = Table(
    "evaluation_reports",
    metadata,
    Column("digest", String(71), primary_key=True),  # the report blob
    Column("model_digest", String(71), nullable=False),
    Column("suite_digest", String(71), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_evaluation_reports_model", "model_digest"),
)

evaluation_baselines = Table(
    "evaluation_baselines",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger entry
    Column("name", String(128), nullable=False),
    Column("baseline_blob", String(71), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_evaluation_baselines_name", "name"),
)

# -- release workflow (issue 7) ------------------------------------------------------------------

people = Table(
    "people",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),  # the person.added ledger entry
    Column("key_id", String(64), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_people_key_id", "key_id"),
)

signoffs = Table(
    "signoffs",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the ledger entry
    Column("model_digest", String(71), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("person", String(64), nullable=False),
    Column("record", Text, nullable=False),  # the release.signoff payload
    Index("ix_signoffs_model_stage", "model_digest", "stage"),
)

gate_decisions = Table(
    "gate_decisions",
    metadata,
    Column("id", String(71), primary_key=True),  # SHA-256 of the canonical decision record
    Column("seq", BigInteger, nullable=False),
    Column("model_digest", String(71), nullable=False),
    Column("to_stage", String(32), nullable=False),
    Column("allow", Boolean, nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_gate_decisions_model", "model_digest"),
)

release_stages = Table(
    "release_stages",
    metadata,
    Column("model_digest", String(71), primary_key=True),
    Column("stage", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),  # the entry that moved it there
)

deployments = Table(
    "deployments",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("release", String(71), nullable=True),  # the model digest running there
    Column("stage", String(32), nullable=True),
    Column("revision", Integer, nullable=False),  # compare-and-set: one promotion wins
    Column("record", Text, nullable=False),
)

deployment_history = Table(
    "deployment_history",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("deployment", String(64), nullable=False),
    Column("release", String(71), nullable=True),
    Column("stage", String(32), nullable=True),
    Column("event", String(32), nullable=False),  # promoted | rolled-back | retired
    Column("at", String(32), nullable=False),
    Index("ix_deployment_history_deployment", "deployment"),
)
