"""Offline verification of a ledger: entries against signed checkpoints, and proof files.

Needs only the standard library and ``cryptography``, so an auditor can run it on a machine with
no Steward database. Each failure raises a distinct error class (see :mod:`modelsteward.errors`):
``BadSignature`` (10), ``RootMismatch`` (11), ``SequenceBroken`` (12),
``InconsistentCheckpoints`` (13), ``MalformedEvidence`` (14).

Verification authenticates every entry: each entry's exact bytes are hashed into the Merkle tree
whose root the checkpoint signs, so an entry that verifies is byte-for-byte the one the ledger
recorded. When the root does not match, a diagnostic pass parses every entry to say *why*
(non-canonical re-encoding, an entry moved to another position, unparseable bytes). ``deep=True``
runs that per-entry schema check even when everything matches.

    >>> from modelsteward.ledger.checkpoint import Checkpoint, NoteSigner
    >>> from modelsteward.ledger.entry import EntryDraft
    >>> from modelsteward.ledger.merkle import leaf_hash, root_from_leaf_hashes
    >>> body = EntryDraft("note", "ada").seal(seq=0, time="2026-01-01T00:00:00.000000Z").to_bytes()
    >>> signer = NoteSigner.generate("example.com/log")
    >>> root = root_from_leaf_hashes([leaf_hash(body)])
    >>> note = signer.sign(Checkpoint("example.com/log", 1, root))
    >>> LogVerifier(signer.verifier(), note).run(lambda: [(0, body)]).size
    1
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from modelsteward.errors import (
    InconsistentCheckpoints,
    MalformedEvidence,
    RootMismatch,
    SequenceBroken,
    StewardError,
)
from modelsteward.ledger.checkpoint import Checkpoint, NoteVerifier
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "PROOF_FORMAT",
    "EntrySource",
    "LogVerifier",
    "ProofReport",
    "VerifyReport",
    "check_consistent",
    "read_export",
    "verify_checkpoint_consistency",
    "verify_proof",
]

PROOF_FORMAT = "steward.ledger.proof/v1"

EntrySource = Callable[[], Iterable[tuple[int, bytes]]]
"""A callable that yields ``(seq, entry bytes)`` in order; called again for the diagnostic pass."""

_FAST_LINE = re.compile(rb'^\{"entry":"([A-Za-z0-9+/]*={0,2})","seq":(0|[1-9][0-9]{0,15})\}\r?\n?$')
_PARALLEL_THRESHOLD = 16 << 20  # bytes; below this, worker start-up costs more than it saves


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What a successful verification established."""

    origin: str
    size: int
    root: bytes
    entries_seen: int
    previous_checked: int
    deep: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def uncovered(self) -> int:
        """Entries after the checkpoint (authentic only once a later checkpoint covers them)."""
        return self.entries_seen - self.size

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "ok": True,
            "origin": self.origin,
            "checkpoint_size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "entries_seen": self.entries_seen,
            "entries_after_checkpoint": self.uncovered,
            "previous_checkpoints_checked": self.previous_checked,
            "entry_schema_checked": self.deep,
            "notes": list(self.notes),
        }


def _parse_line(line: bytes, name: str, lineno: int) -> tuple[int, bytes]:
    match = _FAST_LINE.match(line)
    if match:  # the exact form `ledger export` writes
        try:
            return int(match[2]), binascii.a2b_base64(match[1])
        except binascii.Error:
            pass  # bad padding: the checked path below reports it as MalformedEvidence
    try:
        obj = json.loads(line)
        seq = obj["seq"]
        entry = base64.b64decode(obj["entry"], validate=True)
        if type(seq) is not int or len(obj) != 2:
            raise TypeError("wrong keys or seq type")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        where = f"{name} line {lineno}" if lineno > 0 else name
        raise MalformedEvidence(
            f"{where} is not an export record ({type(exc).__name__})",
            hint='each line must be {"entry": "<base64>", "seq": <int>}',
        ) from exc
    return seq, entry


def read_export(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(seq, entry bytes)`` from a ``ledger export`` JSON Lines file.

    Raises:
        MalformedEvidence: the file cannot be read or a line is not ``{"entry": b64, "seq": int}``.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise MalformedEvidence(f"cannot read entries file {path}: {exc.strerror}") from exc
    with handle:
        for lineno, line in enumerate(handle, 1):
            yield _parse_line(line, path.name, lineno)


def check_consistent(older: Checkpoint, root_at_older_size: bytes | None, label: str) -> None:
    """Raise unless ``older`` is a prefix of a log whose root at ``older.size`` is given.

    ``root_at_older_size`` is ``None`` when the log is shorter than the older checkpoint.
    """
    if root_at_older_size is None:
        raise InconsistentCheckpoints(
            f"{label} covers {older.size} entries but the log has fewer now: a rollback",
            hint="the ledger was truncated or restored from an old copy",
        )
    if root_at_older_size != older.root:
        raise InconsistentCheckpoints(
            f"{label} (size {older.size}) has a different root from this log at that size: a fork",
            hint="entries an earlier checkpoint covered were changed, removed or reordered",
        )


def _sequence_error(seq: int, expected: int) -> SequenceBroken:
    if seq < expected:
        return SequenceBroken(
            f"seq {seq} appears where seq {expected} was expected (duplicate or reordered)"
        )
    return SequenceBroken(f"seq {expected}..{seq - 1} missing: found seq {seq} next")


def _check_entry(body: bytes, seq: int) -> None:
    if Entry.from_bytes(body).seq != seq:
        raise SequenceBroken(
            f"position {seq} holds an entry recorded with another seq",
            hint="entries were moved between positions",
        )


@dataclass(frozen=True, slots=True)
class _Chunk:
    """What a worker found in one byte range of an export file."""

    first_seq: int
    count: int
    leaves: bytes
    error: tuple[str, str, str] | None = None


_ERRORS: dict[str, type[StewardError]] = {
    cls.__name__: cls for cls in (MalformedEvidence, SequenceBroken, RootMismatch)
}


def _verify_chunk(path: str, start: int, end: int, deep: bool) -> _Chunk:
    """Parse the lines in ``[start, end)`` of an export file; return their leaf hashes."""
    leaves: list[bytes] = []
    first = expected = -1
    name = Path(path).name
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            pos = start
            while pos < end:
                line = handle.readline()
                if not line:
                    break
                pos += len(line)
                seq, body = _parse_line(line, name, -1)
                if first < 0:
                    first = expected = seq
                elif seq != expected:
                    raise _sequence_error(seq, expected)
                if deep:
                    _check_entry(body, seq)
                leaves.append(leaf_hash(body))
                expected += 1
    except StewardError as exc:
        return _Chunk(max(first, 0), len(leaves), b"", (type(exc).__name__, exc.message, exc.hint))
    return _Chunk(max(first, 0), len(leaves), b"".join(leaves))


def _split(path: Path, parts: int) -> list[tuple[int, int]]:
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as handle:
        for i in range(1, parts):
            handle.seek(size * i // parts)
            handle.readline()
            bounds.append(max(handle.tell(), bounds[-1]))
    bounds.append(size)
    return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


class _TreeBuilder:
    """Folds leaf hashes into a compact range, remembering the root at each wanted size."""

    def __init__(self, wanted: Iterable[int]) -> None:
        self.wanted = sorted(set(wanted))
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self.tree = CompactRange()

    def add(self, leaves: list[bytes]) -> None:
        start = self.tree.size
        offset = 0
        for size in self.wanted:
            if start < size <= start + len(leaves):
                self.tree.extend(leaves[offset : size - start])
                offset = size - start
                self.roots[size] = self.tree.root()
        self.tree.extend(leaves[offset:])


class LogVerifier:
    """Verify a log's entries against a trusted key, its checkpoint and earlier checkpoints."""

    def __init__(
        self, verifier: NoteVerifier, checkpoint_note: str, previous: Iterable[str] = ()
    ) -> None:
        self.checkpoint = verifier.verify(checkpoint_note)
        self.previous = [verifier.verify(note) for note in previous]
        for prev in self.previous:
            if prev.origin != self.checkpoint.origin:
                raise InconsistentCheckpoints(
                    f"previous checkpoint is for log {prev.origin!r}, "
                    f"not {self.checkpoint.origin!r}"
                )

    def _builder(self) -> _TreeBuilder:
        return _TreeBuilder([self.checkpoint.size, *(p.size for p in self.previous)])

    def run(self, source: EntrySource, *, deep: bool = False) -> VerifyReport:
        """Verify the entries ``source()`` yields.

        Raises:
            MalformedEvidence, SequenceBroken, RootMismatch, InconsistentCheckpoints.
        """
        builder = self._builder()
        batch: list[bytes] = []
        for expected, (seq, body) in enumerate(source()):
            if seq != expected:
                raise _sequence_error(seq, expected)
            if deep:
                _check_entry(body, seq)
            batch.append(leaf_hash(body))
            if len(batch) == 4096:
                builder.add(batch)
                batch = []
        builder.add(batch)
        return self._conclude(builder, deep, source)

    def run_export(
        self, path: Path, *, deep: bool = False, workers: int | None = None
    ) -> VerifyReport:
        """Verify a ``ledger export`` file, in worker processes when it is large.

        Workers hash byte ranges of the file; this process checks the ranges join up and builds
        the tree. ``workers`` defaults to the CPU count.
        """
        if not path.is_file():
            raise MalformedEvidence(f"entries file {path} does not exist")
        workers = workers or os.cpu_count() or 1
        if workers < 2 or path.stat().st_size < _PARALLEL_THRESHOLD:
            return self.run(lambda: read_export(path), deep=deep)
        ranges = _split(path, workers * 8)
        # fork is cheapest, but unsafe with other threads alive: spawn then
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        builder = self._builder()
        with ProcessPoolExecutor(workers, mp_context=get_context(method)) as pool:
            chunks = pool.map(
                _verify_chunk,
                [str(path)] * len(ranges),
                [a for a, _ in ranges],
                [b for _, b in ranges],
                [deep] * len(ranges),
            )
            for chunk in chunks:
                if chunk.count and chunk.first_seq != builder.tree.size:
                    raise _sequence_error(chunk.first_seq, builder.tree.size)
                if chunk.error:
                    name, message, hint = chunk.error
                    raise _ERRORS.get(name, MalformedEvidence)(message, hint=hint)
                leaves = chunk.leaves
                builder.add([leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)])
        return self._conclude(builder, deep, lambda: read_export(path))

    def _conclude(self, builder: _TreeBuilder, deep: bool, source: EntrySource) -> VerifyReport:
        cp = self.checkpoint
        count = builder.tree.size
        if count < cp.size:
            if not deep:  # an entry-level cause (a renumbered gap, a forged entry) comes first
                self._diagnose(source)
            raise SequenceBroken(
                f"entries end at seq {count - 1} but the checkpoint covers seq 0..{cp.size - 1}: "
                f"{cp.size - count} entries are missing (truncated?)",
                hint="export the whole ledger, or verify against an older checkpoint",
            )
        if builder.roots[cp.size] != cp.root:
            if not deep:
                self._diagnose(source)
            raise RootMismatch(
                f"the first {cp.size} entries do not hash to the root the checkpoint signs",
                hint="an entry was edited, removed, inserted or reordered",
            )
        for prev in self.previous:
            check_consistent(prev, builder.roots.get(prev.size), "previous checkpoint")
        notes: tuple[str, ...] = ()
        if count > cp.size:
            notes = (f"{count - cp.size} entries after seq {cp.size - 1} are not yet checkpointed",)
        return VerifyReport(cp.origin, cp.size, cp.root, count, len(self.previous), deep, notes)

    def _diagnose(self, source: EntrySource) -> None:
        """Find an entry-level cause for a root mismatch, and raise it if there is one."""
        for seq, body in source():
            if seq >= self.checkpoint.size:
                return
            _check_entry(body, seq)


@dataclass(frozen=True, slots=True)
class ProofReport:
    """A verified inclusion proof."""

    seq: int
    entry: Entry
    checkpoint: Checkpoint

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "ok": True,
            "seq": self.seq,
            "origin": self.checkpoint.origin,
            "checkpoint_size": self.checkpoint.size,
            "entry": self.entry.to_dict(),
        }


def verify_proof(document: bytes, verifier: NoteVerifier) -> ProofReport:
    """Verify a self-contained proof file (format ``steward.ledger.proof/v1``, docs/ledger.md).

    Raises:
        MalformedEvidence, BadSignature, RootMismatch.
    """
    try:
        obj = json.loads(document)
        if obj.get("format") != PROOF_FORMAT:
            raise ValueError(f"format is not {PROOF_FORMAT}")
        seq = obj["seq"]
        body = base64.b64decode(obj["entry"], validate=True)
        path = [base64.b64decode(p, validate=True) for p in obj["inclusion"]]
        note = obj["checkpoint"]
        if type(seq) is not int or not isinstance(note, str):
            raise TypeError("seq must be an integer and checkpoint a string")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise MalformedEvidence(f"proof file is malformed: {exc}") from exc
    checkpoint = verifier.verify(note)
    entry = Entry.from_bytes(body)
    if entry.seq != seq:
        raise MalformedEvidence(f"proof is for seq {seq} but carries the entry of seq {entry.seq}")
    if not verify_inclusion(leaf_hash(body), seq, checkpoint.size, path, checkpoint.root):
        raise RootMismatch(
            f"inclusion proof for seq {seq} does not lead to the checkpoint root",
            hint="the entry or the audit path was altered",
        )
    return ProofReport(seq, entry, checkpoint)


def verify_checkpoint_consistency(older: Checkpoint, newer: Checkpoint, proof: list[bytes]) -> None:
    """Check a consistency proof between two verified checkpoints of one log.

    Raises:
        InconsistentCheckpoints: different logs, a rollback, or a fork.
    """
    if older.origin != newer.origin:
        raise InconsistentCheckpoints("the checkpoints are for different logs")
    if older.size > newer.size:
        raise InconsistentCheckpoints(
            f"newer checkpoint has {newer.size} entries, fewer than {older.size}: a rollback"
        )
    if older.size == 0:
        return
    if not verify_consistency(older.size, newer.size, older.root, newer.root, proof):
        raise InconsistentCheckpoints(
            f"checkpoint of size {older.size} is not a prefix of the one of size {newer.size}: "
            "a fork"
        )
