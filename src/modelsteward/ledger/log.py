"""Appending to the ledger: the append algorithm and group commit.

The algorithm is storage-agnostic. A store implements :class:`LedgerTxn` for one exclusive write
transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SELECT … FOR UPDATE`` on the tree state), and
:func:`append_entries` assigns ``seq`` and ``time``, hashes the leaves, extends the stored compact
range and hands back the rows to insert — entries, perfect-subtree nodes and tree state all go in
the same transaction. :class:`GroupCommitter` batches concurrent producers into one such
transaction (bounded size and wait) and acknowledges each append only after its commit returned.

    >>> from modelsteward.ledger.entry import EntryDraft
    >>> class MemoryTxn:
    ...     def __init__(self): self.state, self.rows = TreeState.empty(), []
    ...     def read_state(self): return self.state
    ...     def write(self, entries, nodes, state): self.rows += entries; self.state = state
    >>> txn = MemoryTxn()
    >>> [e.seq for e in append_entries(txn, [EntryDraft("note", "ada")] * 3)]
    [0, 1, 2]
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from modelsteward.ledger.entry import Entry, EntryDraft
from modelsteward.ledger.merkle import CompactRange, leaf_hash
from modelsteward.types import format_time, utc_now

__all__ = [
    "EntryRow",
    "GroupCommitter",
    "LedgerTxn",
    "NodeRow",
    "Receipt",
    "TreeState",
    "append_entries",
]


@dataclass(frozen=True, slots=True)
class TreeState:
    """The stored head of the log: size, compact range and the last entry's time."""

    size: int
    compact: bytes
    last_time: str

    @classmethod
    def empty(cls) -> TreeState:
        """The state of a log with no entries."""
        return cls(0, b"", "")

    def compact_range(self) -> CompactRange:
        """The compact range ``[0, size)``."""
        return CompactRange.from_bytes(self.size, self.compact)

    def root(self) -> bytes:
        """The current root hash."""
        return self.compact_range().root()


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One entry as stored: the sealed entry, its exact bytes and leaf hash."""

    entry: Entry
    body: bytes
    leaf: bytes


NodeRow = tuple[int, int, bytes]
"""``(level, index, hash)`` of a perfect subtree at level ≥ 1 (leaves live in the entry rows)."""


class LedgerTxn(Protocol):
    """One exclusive write transaction on a ledger store."""

    def read_state(self) -> TreeState:
        """The tree state, locked against other writers until the transaction ends."""
        ...

    def write(
        self, entries: Sequence[EntryRow], nodes: Sequence[NodeRow], state: TreeState
    ) -> None:
        """Insert entries and nodes and replace the tree state."""
        ...


def append_entries(
    txn: LedgerTxn, drafts: Sequence[EntryDraft], now: Callable[[], datetime] = utc_now
) -> list[Entry]:
    """Seal ``drafts`` as the next entries of the log inside ``txn``; return them in order.

    Times never go backwards: an entry's time is the later of the clock and the previous entry's.
    """
    state = txn.read_state()
    tree = state.compact_range()
    stamp = max(format_time(now()), state.last_time)
    rows: list[EntryRow] = []
    nodes: list[NodeRow] = []
    for draft in drafts:
        entry = draft.seal(seq=tree.size, time=stamp)
        body = entry.to_bytes()
        leaf = leaf_hash(body)
        completed = tree.append(leaf)
        nodes.extend(completed[1:])
        rows.append(EntryRow(entry, body, leaf))
    txn.write(rows, nodes, TreeState(tree.size, tree.to_bytes(), stamp))
    return [row.entry for row in rows]


BatchCommit = Callable[[Sequence[EntryDraft]], list[Entry]]
"""Opens a transaction, calls :func:`append_entries`, commits durably, returns the entries."""


class _Batch:
    """Drafts that will commit together, and the outcome every producer waits on."""

    __slots__ = ("done", "drafts", "entries", "error")

    def __init__(self) -> None:
        self.drafts: list[EntryDraft] = []
        self.entries: list[Entry] = []
        self.error: BaseException | None = None
        self.done = threading.Event()


class Receipt:
    """A pending append; :meth:`result` blocks until its group commit is durable."""

    __slots__ = ("_batch", "_index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self._batch = batch
        self._index = index

    def done(self) -> bool:
        """True once the commit finished (successfully or not)."""
        return self._batch.done.is_set()

    def result(self, timeout: float | None = None) -> Entry:
        """The sealed entry, once durable; re-raises the commit's error if it failed."""
        if not self._batch.done.wait(timeout):
            raise TimeoutError("the ledger commit did not finish in time")
        if self._batch.error is not None:
            raise self._batch.error
        return self._batch.entries[self._index]


class GroupCommitter:
    """One writer thread that batches concurrent appends into durable group commits.

    ``submit`` returns a :class:`Receipt` that resolves to the sealed :class:`Entry` only after the
    batch's commit returned (with SQLite ``synchronous=FULL``: after the WAL was fsynced). A failed
    commit fails every receipt of its batch; its entries were normally not written, but a
    connection lost during COMMIT may leave them stored yet unacknowledged (never the reverse:
    nothing acknowledged is lost). A batch closes when it
    holds ``max_batch`` drafts or ``max_wait_s`` after the writer picked it up.
    """

    def __init__(self, commit: BatchCommit, *, max_batch: int = 2048, max_wait_s: float = 0.002):
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be ≥ 1 and max_wait_s ≥ 0")
        self._commit = commit
        self._max_batch = max_batch
        self._max_wait = max_wait_s
        self._queue: deque[_Batch] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="steward-ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, draft: EntryDraft) -> Receipt:
        """Queue one append; the receipt resolves once it is durable."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            queue = self._queue
            if not queue or len(queue[-1].drafts) >= self._max_batch:
                queue.append(_Batch())
                self._cond.notify()
            batch = queue[-1]
            batch.drafts.append(draft)
            if len(batch.drafts) == self._max_batch:
                self._cond.notify()
            return Receipt(batch, len(batch.drafts) - 1)

    def append(self, draft: EntryDraft) -> Entry:
        """Append and wait until durable."""
        return self.submit(draft).result()

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _take_batch(self) -> _Batch | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            if self._max_wait and not self._closed:
                # give concurrent producers a moment to join this commit
                self._cond.wait_for(
                    lambda: len(self._queue[0].drafts) >= self._max_batch or self._closed,
                    self._max_wait,
                )
            return self._queue.popleft()

    def _run(self) -> None:
        while (batch := self._take_batch()) is not None:
            try:
                batch.entries = self._commit(batch.drafts)
            except BaseException as exc:  # handed to every producer of the batch, not swallowed
                batch.error = exc
                if not isinstance(exc, Exception):
                    batch.done.set()
                    raise
            batch.done.set()
