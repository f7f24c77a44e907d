"""The tamper-evident ledger: entries, Merkle tree, checkpoints, proofs, offline verification.

Everything here depends only on the standard library and ``cryptography`` (an import-linter
contract keeps it so), so an auditor can verify a ledger with no Steward database or server.

    >>> from modelsteward.ledger import EntryDraft, leaf_hash
    >>> body = EntryDraft("note", "ada").seal(seq=0, time="2026-01-01T00:00:00.000000Z").to_bytes()
    >>> len(leaf_hash(body))
    32
"""

from modelsteward.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from modelsteward.ledger.entry import Entry, EntryDraft, canonical_json
from modelsteward.ledger.log import GroupCommitter, TreeState, append_entries
from modelsteward.ledger.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from modelsteward.ledger.verify import LogVerifier, VerifyReport, read_export, verify_proof

__all__ = [
    "Checkpoint",
    "CompactRange",
    "Entry",
    "EntryDraft",
    "GroupCommitter",
    "LogVerifier",
    "NoteSigner",
    "NoteVerifier",
    "TreeState",
    "VerifyReport",
    "append_entries",
    "canonical_json",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "read_export",
    "verify_consistency",
    "verify_inclusion",
    "verify_proof",
]
