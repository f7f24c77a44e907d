"""Group commit and the append algorithm: durability contract, batching, bad input."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from modelsteward.bootstrap import Steward
from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import Entry, EntryDraft
from modelsteward.ledger.log import GroupCommitter, TreeState, append_entries
from modelsteward.ledger.merkle import root_from_leaf_hashes


class MemoryTxn:
    """A seam we own: an in-memory LedgerTxn."""

    def __init__(self) -> None:
        self.state = TreeState.empty()
        self.rows: list[bytes] = []
        self.leaves: list[bytes] = []

    def read_state(self) -> TreeState:
        return self.state

    def write(self, entries, nodes, state) -> None:  # type: ignore[no-untyped-def]
        self.rows += [r.body for r in entries]
        self.leaves += [r.leaf for r in entries]
        self.state = state


def test_append_assigns_contiguous_seqs_and_keeps_the_root() -> None:
    txn = MemoryTxn()
    for _ in range(5):
        append_entries(txn, [EntryDraft("note", "ada", "", {"i": 1})] * 7)
    assert txn.state.size == 35
    assert [Entry.from_bytes(b).seq for b in txn.rows] == list(range(35))
    assert txn.state.root() == root_from_leaf_hashes(txn.leaves)


def test_entry_times_never_go_backwards() -> None:
    from datetime import UTC, datetime, timedelta

    txn = MemoryTxn()
    later = datetime(2030, 1, 1, tzinfo=UTC)
    append_entries(txn, [EntryDraft("note", "ada")], now=lambda: later)
    append_entries(txn, [EntryDraft("note", "ada")], now=lambda: later - timedelta(days=1))
    times = [Entry.from_bytes(b).time for b in txn.rows]
    assert times[1] == times[0]


@pytest.mark.parametrize(
    ("kind", "actor", "payload"),
    [
        ("Not A Kind", "ada", {}),
        ("note", "", {}),
        ("note", "ada", {"x": float("nan")}),
        ("note", "ada", {"x": 2**60}),
        ("note", "ada", {"x": object()}),
    ],
)
def test_bad_drafts_are_rejected_before_anything_is_written(
    kind: str, actor: str, payload: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput):
        EntryDraft(kind, actor, "", payload)


def test_group_committer_batches_concurrent_producers() -> None:
    txn = MemoryTxn()
    batches: list[int] = []

    def commit(drafts: Sequence[EntryDraft]) -> list[Entry]:
        batches.append(len(drafts))
        return append_entries(txn, drafts)

    with GroupCommitter(commit, max_batch=64, max_wait_s=0.01) as committer:
        receipts = []

        def produce() -> None:
            receipts.extend(committer.submit(EntryDraft("note", "ada")) for _ in range(100))

        threads = [threading.Thread(target=produce) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seqs = sorted(r.result(timeout=30).seq for r in receipts)
    assert seqs == list(range(400))
    assert max(batches) <= 64
    assert len(batches) < 400


def test_a_failed_commit_fails_every_receipt_of_its_batch() -> None:
    def commit(drafts: Sequence[EntryDraft]) -> list[Entry]:
        raise OSError("disk full")

    with GroupCommitter(commit, max_wait_s=0.01) as committer:
        receipts = [committer.submit(EntryDraft("note", "ada")) for _ in range(3)]
        for receipt in receipts:
            with pytest.raises(OSError, match="disk full"):
                receipt.result(timeout=30)


@pytest.mark.storage
def test_service_rejects_bad_input_and_leaves_the_ledger_unchanged(steward: Steward) -> None:
    before = steward.ledger.size()
    with pytest.raises(InvalidInput):
        steward.ledger.append("BAD KIND", "x", {})
    with pytest.raises(InvalidInput):
        steward.ledger.note("")
    assert steward.ledger.size() == before
    steward.ledger.checkpoint()
    assert steward.ledger.verify().size == before


@pytest.mark.storage
def test_group_commit_through_the_database_is_durable_and_verifies(steward: Steward) -> None:
    with steward.ledger.group_committer() as committer:
        receipts = [committer.submit(EntryDraft("note", "ada", "", {"i": i})) for i in range(300)]
        entries = [r.result(timeout=60) for r in receipts]
    assert [e.seq for e in entries] == list(range(1, 301))
    steward.ledger.checkpoint()
    assert steward.ledger.verify(deep=True).size == 301
