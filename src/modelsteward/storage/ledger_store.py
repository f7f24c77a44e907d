"""SQL storage for the ledger: the :class:`LedgerTxn` implementation and read queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from modelsteward.errors import LedgerTampered, NotFound
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.log import EntryRow, NodeRow, TreeState
from modelsteward.storage.tables import (
    ledger_checkpoints,
    ledger_entries,
    ledger_nodes,
    ledger_state,
)

__all__ = ["LedgerReader", "SqlLedgerTxn", "StoredCheckpoint", "save_checkpoint"]

_STATE_ID = 1


class SqlLedgerTxn:
    """Ledger writes inside one write transaction of :class:`~modelsteward.storage.db.Database`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read_state(self) -> TreeState:
        """The tree state, row-locked (PostgreSQL) or under the SQLite write lock."""
        return _read_state(self.conn, lock=True)

    def write(
        self, entries: Sequence[EntryRow], nodes: Sequence[NodeRow], state: TreeState
    ) -> None:
        """Insert entries and nodes, then move the tree state.

        Rows go straight to the driver's ``executemany`` as tuples: this is the ledger's hot path
        and SQLAlchemy's per-row parameter processing would cost more than the insert itself.
        """
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        if entries:
            self.conn.exec_driver_sql(
                "INSERT INTO ledger_entries (seq, time, kind, actor, subject, leaf_hash, body) "
                f"VALUES ({', '.join([mark] * 7)})",
                [
                    (
                        r.entry.seq,
                        r.entry.time,
                        r.entry.kind,
                        r.entry.actor,
                        r.entry.subject,
                        r.leaf,
                        r.body,
                    )
                    for r in entries
                ],
            )
        if nodes:
            self.conn.exec_driver_sql(
                f"INSERT INTO ledger_nodes (level, idx, hash) VALUES ({mark}, {mark}, {mark})",
                list(nodes),
            )
        values = {"size": state.size, "compact": state.compact, "last_time": state.last_time}
        changed = self.conn.execute(
            update(ledger_state).where(ledger_state.c.id == _STATE_ID).values(**values)
        ).rowcount
        if not changed:
            self.conn.execute(insert(ledger_state).values(id=_STATE_ID, **values))


def _read_state(conn: Connection, *, lock: bool) -> TreeState:
    query = select(ledger_state.c.size, ledger_state.c.compact, ledger_state.c.last_time).where(
        ledger_state.c.id == _STATE_ID
    )
    row = conn.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        return TreeState.empty()
    return TreeState(int(row.size), bytes(row.compact), row.last_time)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint as stored: size, root and the signed note."""

    size: int
    root: bytes
    note: str
    created: str

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredCheckpoint:
        """Build from a ``ledger_checkpoints`` row."""
        return cls(int(row.size), bytes(row.root), row.note, row.created)


class LedgerReader:
    """Read queries on the ledger tables within one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def state(self) -> TreeState:
        """The current tree state (unlocked)."""
        return _read_state(self.conn, lock=False)

    def tail(self, n: int) -> list[Entry]:
        """The last ``n`` entries, oldest first."""
        rows = self.conn.execute(
            select(ledger_entries.c.body).order_by(ledger_entries.c.seq.desc()).limit(n)
        ).all()
        return [Entry.from_bytes(bytes(r.body)) for r in reversed(rows)]

    def entry_body(self, seq: int) -> bytes:
        """The exact bytes of entry ``seq``."""
        body = self.conn.execute(
            select(ledger_entries.c.body).where(ledger_entries.c.seq == seq)
        ).scalar_one_or_none()
        if body is None:
            raise NotFound(f"ledger has no entry with seq {seq}", hint="see `steward ledger tail`")
        return bytes(body)

    def bodies(self, batch: int = 10_000) -> Iterator[tuple[int, bytes, bytes]]:
        """Every ``(seq, body, stored leaf hash)`` in seq order, in keyset-paged batches."""
        after = -1
        columns = (ledger_entries.c.seq, ledger_entries.c.body, ledger_entries.c.leaf_hash)
        while True:
            rows = self.conn.execute(
                select(*columns)
                .where(ledger_entries.c.seq > after)
                .order_by(ledger_entries.c.seq)
                .limit(batch)
            ).all()
            for row in rows:
                yield int(row.seq), bytes(row.body), bytes(row.leaf_hash)
            if len(rows) < batch:
                return
            after = int(rows[-1].seq)

    def node(self, level: int, index: int) -> bytes:
        """A perfect-subtree hash (level 0 = a leaf hash), for proof generation."""
        if level == 0:
            value = self.conn.execute(
                select(ledger_entries.c.leaf_hash).where(ledger_entries.c.seq == index)
            ).scalar_one_or_none()
        else:
            value = self.conn.execute(
                select(ledger_nodes.c.hash).where(
                    ledger_nodes.c.level == level, ledger_nodes.c.idx == index
                )
            ).scalar_one_or_none()
        if value is None:
            raise LedgerTampered(
                f"ledger tree node ({level}, {index}) is missing from the store",
                hint="run `steward ledger verify`",
            )
        return bytes(value)

    def checkpoints(self) -> list[StoredCheckpoint]:
        """All stored checkpoints, oldest first."""
        rows = self.conn.execute(select(ledger_checkpoints).order_by(ledger_checkpoints.c.id)).all()
        return [StoredCheckpoint.from_row(r) for r in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The newest stored checkpoint."""
        row = self.conn.execute(
            select(ledger_checkpoints).order_by(ledger_checkpoints.c.id.desc()).limit(1)
        ).one_or_none()
        return None if row is None else StoredCheckpoint.from_row(row)


def save_checkpoint(conn: Connection, checkpoint: StoredCheckpoint) -> None:
    """Store a signed checkpoint."""
    conn.execute(
        insert(ledger_checkpoints).values(
            size=checkpoint.size,
            root=checkpoint.root,
            note=checkpoint.note,
            created=checkpoint.created,
        )
    )
