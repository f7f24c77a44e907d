"""Read ledger entries by kind and subject (the ledger is the record of release evidence)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from modelsteward.ledger.entry import Entry
from modelsteward.storage.tables import ledger_entries

__all__ = ["entries", "entries_of_kind"]


def entries(conn: Connection, kinds: Iterable[str], subject: str) -> list[Entry]:
    """Entries of these kinds about ``subject``, oldest first."""
    query = (
        select(ledger_entries.c.body)
        .where(ledger_entries.c.kind.in_(list(kinds)))
        .where(ledger_entries.c.subject == subject)
        .order_by(ledger_entries.c.seq)
    )
    return [Entry.from_bytes(bytes(body)) for body in conn.execute(query).scalars()]


def entries_of_kind(conn: Connection, kind: str) -> list[Entry]:
    """Every entry of one kind, oldest first."""
    query = select(ledger_entries.c.body).where(ledger_entries.c.kind == kind)
    return [
        Entry.from_bytes(bytes(body))
        for body in conn.execute(query.order_by(ledger_entries.c.seq)).scalars()
    ]
