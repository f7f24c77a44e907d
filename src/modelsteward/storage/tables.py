"""The relational schema (SQLAlchemy Core); migrations create it and a test keeps them equal."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "ledger_checkpoints",
    "ledger_entries",
    "ledger_nodes",
    "ledger_state",
    "meta",
    "metadata",
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
