"""The tamper suite: every way of altering a ledger is caught, and named by its own error class.

Most tests are offline: a real workspace records a ledger once per module and exports it; each test
alters a copy of the export (or of the checkpoint) and runs the offline verifier both ways
(``run_export`` and ``run(read_export)``). A synthetic 17 MiB export takes ``run_export``'s
parallel path (worker processes). The last part tampers with the workspace database and witness
folder directly and runs ``steward.ledger.verify()`` and ``steward.ledger.checkpoint()``.

Exit codes are pinned as literals: they are part of the public contract.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.config import Settings
from modelsteward.errors import (
    BadSignature,
    InconsistentCheckpoints,
    LedgerTampered,
    MalformedEvidence,
    RootMismatch,
    SequenceBroken,
)
from modelsteward.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from modelsteward.ledger.entry import EntryDraft, canonical_json
from modelsteward.ledger.merkle import (
    CompactRange,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_inclusion,
)
from modelsteward.ledger.verify import _PARALLEL_THRESHOLD, LogVerifier, read_export
from modelsteward.storage.tables import (
    ledger_checkpoints,
    ledger_entries,
    ledger_nodes,
    ledger_state,
)

EARLY_EVENTS = 20  # events before the early checkpoint (after the workspace.init entry)
LATE_EVENTS = 20  # events after it
TOTAL = 1 + EARLY_EVENTS + LATE_EVENTS


@dataclass(frozen=True)
class Evidence:
    """A recorded ledger as an auditor receives it."""

    export: Path  # all TOTAL entries
    note: str  # checkpoint covering all of them
    early_export: Path  # the first 1 + EARLY_EVENTS entries
    early_note: str  # checkpoint covering those
    verifier: NoteVerifier
    origin: str
    key_pem: bytes
    home: Path

    @property
    def lines(self) -> list[bytes]:
        return self.export.read_bytes().splitlines(keepends=True)

    def bodies(self) -> list[bytes]:
        return [body for _, body in read_export(self.export)]


@dataclass(frozen=True)
class SignedLog:
    """An export and the checkpoint that covers it."""

    export: Path
    note: str
    verifier: NoteVerifier


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    """A real workspace ledger: 41 entries, checkpoints at 21 and 41, and their exports.

    Built once per module (each append is a durable commit); every test alters a copy.
    """
    base = tmp_path_factory.mktemp("recorded")
    app = init_workspace(
        Settings(home=base / "ws", database_url=None, witness_dir=None, actor="tester")
    )
    try:
        for i in range(EARLY_EVENTS):
            app.ledger.append("model.intake", f"model:m{i}", {"i": i, "name": f"modèle-{i}"})
        early = app.ledger.checkpoint()
        app.ledger.export(base / "early.jsonl")
        for i in range(EARLY_EVENTS, EARLY_EVENTS + LATE_EVENTS):
            app.ledger.append("release.signoff", f"model:m{i}", {"i": i, "role": "safety"})
        late = app.ledger.checkpoint()
        app.ledger.export(base / "entries.jsonl")
        workspace = app.workspace
        yield Evidence(
            export=base / "entries.jsonl",
            note=late.note,
            early_export=base / "early.jsonl",
            early_note=early.note,
            verifier=workspace.verifier(),
            origin=workspace.origin,
            key_pem=(workspace.keys_dir / "ledger.key").read_bytes(),
            home=workspace.home,
        )
    finally:
        app.close()


# -- helpers --------------------------------------------------------------------------------------


def _write(tmp_path: Path, lines: list[bytes], name: str = "tampered.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(lines))
    return path


def _line(seq: int, body: bytes) -> bytes:
    return b'{"entry":"%s","seq":%d}\n' % (base64.b64encode(body), seq)


def _renumbered(bodies: list[bytes]) -> list[bytes]:
    return [_line(seq, body) for seq, body in enumerate(bodies)]


def _verifications(
    ev: Evidence,
    path: Path,
    note: str | None,
    previous: tuple[str, ...],
    deep: bool,
) -> list[Callable[[], Any]]:
    note = ev.note if note is None else note
    return [
        lambda: LogVerifier(ev.verifier, note, previous).run_export(path, deep=deep),
        lambda: LogVerifier(ev.verifier, note, previous).run(lambda: read_export(path), deep=deep),
    ]


def assert_rejected(
    ev: Evidence,
    path: Path,
    expected: type[LedgerTampered],
    exit_code: int,
    *,
    note: str | None = None,
    previous: tuple[str, ...] = (),
    deep: bool = False,
) -> LedgerTampered:
    """Both offline verification paths raise exactly ``expected`` with ``exit_code``."""
    caught: list[LedgerTampered] = []
    for verification in _verifications(ev, path, note, previous, deep):
        with pytest.raises(LedgerTampered) as info:
            verification()
        assert type(info.value) is expected, info.value.message
        assert info.value.exit_code == exit_code
        caught.append(info.value)
    assert caught[0].message == caught[1].message
    return caught[0]


def _edit_entry(body: bytes, **payload: Any) -> bytes:
    """The entry with payload fields replaced, still in canonical form."""
    obj = json.loads(body)
    obj["payload"] = {**obj["payload"], **payload}
    return canonical_json(obj)


def _edit_note(note: str, line: int, new: str) -> str:
    lines = note.split("\n")
    lines[line] = new
    return "\n".join(lines)


# -- the untampered ledger ------------------------------------------------------------------------


def test_untampered_export_verifies_both_ways(evidence: Evidence) -> None:
    for verification in _verifications(evidence, evidence.export, None, (), deep=True):
        report = verification()
        assert (report.size, report.entries_seen, report.uncovered) == (TOTAL, TOTAL, 0)


def test_untampered_export_is_consistent_with_the_earlier_checkpoint(evidence: Evidence) -> None:
    previous = (evidence.early_note,)
    for verification in _verifications(evidence, evidence.export, None, previous, deep=False):
        assert verification().previous_checked == 1


def test_entries_after_the_checkpoint_are_reported_as_not_yet_covered(evidence: Evidence) -> None:
    report = LogVerifier(evidence.verifier, evidence.early_note).run_export(evidence.export)
    assert report.size == 1 + EARLY_EVENTS
    assert report.uncovered == LATE_EVENTS


# -- entry bodies ---------------------------------------------------------------------------------


def test_edited_body_is_a_root_mismatch(evidence: Evidence, tmp_path: Path) -> None:
    bodies = evidence.bodies()
    bodies[7] = _edit_entry(bodies[7], name="a different model")
    assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), RootMismatch, 11)


def test_edited_body_with_deep_check_is_still_a_root_mismatch(
    evidence: Evidence, tmp_path: Path
) -> None:
    bodies = evidence.bodies()
    bodies[30] = _edit_entry(bodies[30], role="product")
    path = _write(tmp_path, _renumbered(bodies))
    assert_rejected(evidence, path, RootMismatch, 11, deep=True)


def test_edited_body_that_is_no_longer_json_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    bodies = evidence.bodies()
    bodies[7] = bodies[7][:-1]  # the closing brace is gone
    assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), MalformedEvidence, 14)


def test_edited_body_with_an_unknown_field_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    bodies = evidence.bodies()
    obj = json.loads(bodies[7])
    obj["approved"] = True
    bodies[7] = canonical_json(obj)
    assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), MalformedEvidence, 14)


def _with_space(body: bytes) -> bytes:
    return json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode()


def _reordered_keys(body: bytes) -> bytes:
    obj = json.loads(body)
    return json.dumps(
        dict(reversed(obj.items())), separators=(",", ":"), ensure_ascii=False
    ).encode()


def _ascii_escaped(body: bytes) -> bytes:
    return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "reencode",
    [_with_space, _reordered_keys, _ascii_escaped],
    ids=["extra-space", "key-order", "ascii-escapes"],
)
def test_non_canonical_reencoding_of_one_entry_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path, reencode: Callable[[bytes], bytes]
) -> None:
    bodies = evidence.bodies()
    original = bodies[5]  # an intake entry: its payload holds a non-ASCII name
    bodies[5] = reencode(original)
    assert bodies[5] != original
    assert json.loads(bodies[5]) == json.loads(original)  # same JSON value
    error = assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), MalformedEvidence, 14)
    assert "canonical" in error.message


# -- lines: order, gaps, duplicates, truncation ---------------------------------------------------


def test_deleted_line_is_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    lines = evidence.lines
    del lines[12]
    error = assert_rejected(evidence, _write(tmp_path, lines), SequenceBroken, 12)
    assert "12" in error.message


def test_deleted_line_with_later_seqs_renumbered_is_a_sequence_break(
    evidence: Evidence, tmp_path: Path
) -> None:
    """The export's seq fields look contiguous, but each entry body carries its own seq.

    So the precise diagnosis is not "the root differs" (RootMismatch) nor "the log was truncated":
    it is that position 12 holds the entry recorded as seq 13 — a sequence break.
    """
    bodies = evidence.bodies()
    del bodies[12]
    path = _write(tmp_path, _renumbered(bodies))
    error = assert_rejected(evidence, path, SequenceBroken, 12)
    assert "position 12" in error.message


def test_deleted_line_renumbered_within_uncovered_tail_is_a_sequence_break(
    evidence: Evidence, tmp_path: Path
) -> None:
    # verified against the early checkpoint the renumbered export is still long enough
    bodies = evidence.bodies()
    del bodies[3]
    path = _write(tmp_path, _renumbered(bodies))
    error = assert_rejected(evidence, path, SequenceBroken, 12, note=evidence.early_note)
    assert "position 3" in error.message


def test_swapped_lines_are_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    lines = evidence.lines
    lines[9], lines[10] = lines[10], lines[9]
    assert_rejected(evidence, _write(tmp_path, lines), SequenceBroken, 12)


def test_swapped_entries_with_seqs_renumbered_are_a_sequence_break(
    evidence: Evidence, tmp_path: Path
) -> None:
    bodies = evidence.bodies()
    bodies[9], bodies[10] = bodies[10], bodies[9]
    assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), SequenceBroken, 12)


def test_truncated_export_is_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    error = assert_rejected(evidence, _write(tmp_path, evidence.lines[:-5]), SequenceBroken, 12)
    assert "missing" in error.message


def test_empty_export_is_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    assert_rejected(evidence, _write(tmp_path, []), SequenceBroken, 12)


def test_export_cut_in_the_middle_of_a_line_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    data = evidence.export.read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: len(data) - 40])
    assert_rejected(evidence, path, MalformedEvidence, 14)


def test_duplicated_line_is_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    lines = evidence.lines
    lines.insert(20, lines[20])
    error = assert_rejected(evidence, _write(tmp_path, lines), SequenceBroken, 12)
    assert "duplicate" in error.message


def test_inserted_entry_is_a_sequence_break(evidence: Evidence, tmp_path: Path) -> None:
    bodies = evidence.bodies()
    bodies.insert(15, _edit_entry(bodies[15], name="smuggled in"))
    assert_rejected(evidence, _write(tmp_path, _renumbered(bodies)), SequenceBroken, 12)


def test_line_that_is_not_an_export_record_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    lines = evidence.lines
    lines[4] = b'{"entry": 42, "seq": 4}\n'
    assert_rejected(evidence, _write(tmp_path, lines), MalformedEvidence, 14)


def test_line_with_badly_padded_base64_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    lines = evidence.lines
    record = json.loads(lines[4])
    lines[4] = b'{"entry":"%s","seq":4}\n' % record["entry"].rstrip("=")[:-1].encode()
    assert_rejected(evidence, _write(tmp_path, lines), MalformedEvidence, 14)


# -- leaf/node confusion --------------------------------------------------------------------------


def test_interior_node_presented_as_an_entry_is_malformed_evidence(
    evidence: Evidence, tmp_path: Path
) -> None:
    """Replace entries 10 and 11 by one entry whose bytes are ``0x01 ‖ leaf10 ‖ leaf11``.

    Without domain separation that "entry" would hash to the very node that covers 10 and 11;
    with RFC 6962's 0x00/0x01 prefixes it hashes to something else, and it is not an entry.
    """
    bodies = evidence.bodies()
    forged = b"\x01" + leaf_hash(bodies[10]) + leaf_hash(bodies[11])
    bodies[10:12] = [forged]
    path = _write(tmp_path, _renumbered(bodies))
    assert_rejected(evidence, path, MalformedEvidence, 14)


def test_inclusion_proof_cannot_present_an_interior_node_as_a_leaf(evidence: Evidence) -> None:
    bodies = evidence.bodies()
    size = len(bodies) - 1  # an even size, so the level-1 nodes form a tree of their own
    nodes: dict[tuple[int, int], bytes] = {}
    tree = CompactRange()
    for body in bodies[:size]:
        for level, index, node in tree.append(leaf_hash(body)):
            nodes[(level, index)] = node
    root = tree.root()

    k = 10
    interior = node_hash(leaf_hash(bodies[k]), leaf_hash(bodies[k + 1]))
    assert interior == nodes[(1, k // 2)]
    path = inclusion_proof(k, size, lambda level, i: nodes[(level, i)])
    above = path[1:]  # the audit path of the node covering k and k+1
    # the node does sit in the tree: as a "leaf" of the tree of level-1 nodes it verifies
    assert verify_inclusion(interior, k // 2, size // 2, above, root)
    # but an entry made of the node's preimage hashes, as a leaf, proves nothing anywhere
    forged_leaf = leaf_hash(b"\x01" + leaf_hash(bodies[k]) + leaf_hash(bodies[k + 1]))
    for index, claimed_size, proof in [
        (k // 2, size // 2, above),
        (k, size, path),
        (k, size, above),
        (k + 1, size, path),
    ]:
        assert not verify_inclusion(forged_leaf, index, claimed_size, proof, root)


# -- the checkpoint -------------------------------------------------------------------------------


def _other_root(ev: Evidence) -> str:
    return ev.early_note.split("\n")[2]


@pytest.mark.parametrize(
    "edit",
    [
        lambda ev, note: _edit_note(note, 0, ev.origin + "x"),
        lambda ev, note: _edit_note(note, 1, str(TOTAL - 1)),
        lambda ev, note: _edit_note(note, 1, str(TOTAL + 1)),
        lambda ev, note: _edit_note(note, 2, _other_root(ev)),
    ],
    ids=["origin", "size-smaller", "size-larger", "root"],
)
def test_edited_checkpoint_field_is_a_bad_signature(
    evidence: Evidence, edit: Callable[[Evidence, str], str]
) -> None:
    note = edit(evidence, evidence.note)
    assert note != evidence.note
    assert_rejected(evidence, evidence.export, BadSignature, 10, note=note)


def test_altered_signature_bytes_are_a_bad_signature(evidence: Evidence) -> None:
    text, _, sigline = evidence.note.rstrip("\n").rpartition("\n")
    prefix, _, sig = sigline.rpartition(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 0x01
    note = f"{text}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
    assert_rejected(evidence, evidence.export, BadSignature, 10, note=note)


def test_checkpoint_checked_with_a_wrong_key_of_the_same_name_is_a_bad_signature(
    evidence: Evidence,
) -> None:
    stranger = NoteSigner.generate(evidence.origin).verifier()
    with pytest.raises(LedgerTampered) as info:
        LogVerifier(stranger, evidence.note).run_export(evidence.export)
    assert type(info.value) is BadSignature
    assert info.value.exit_code == 10


def test_checkpoint_signed_by_an_unknown_key_is_a_bad_signature(evidence: Evidence) -> None:
    bodies = evidence.bodies()
    root = root_from_leaf_hashes(leaf_hash(b) for b in bodies)
    impostor = NoteSigner.generate("impostor.example/log")
    note = impostor.sign(Checkpoint(evidence.origin, len(bodies), root))
    error = assert_rejected(evidence, evidence.export, BadSignature, 10, note=note)
    assert "impostor.example/log" in error.message


@pytest.mark.parametrize(
    "note",
    [
        "",
        "not a checkpoint\n",
        "origin\n41\nroot\n",  # no signature block
        "{text}\n\n",  # an empty signature block
        "{origin}\nforty-one\n{root}\n\n{sig}",
        "{origin}\n041\n{root}\n\n{sig}",
        "{origin}\n41\nnot*base64\n\n{sig}",
        "{origin}\n41\nAAAA\n\n{sig}",  # a 3-byte root
        "{origin}\n41\n{root}\n\n— {origin} not*base64\n",
        "{origin}\n41\n{root}\n\n-- {origin} AAAAAAAA\n",  # ASCII dashes, not an em dash
        "{origin}\r\n41\n{root}\n\n{sig}",
    ],
    ids=[
        "empty",
        "one-line",
        "unsigned",
        "empty-signature-block",
        "size-not-a-number",
        "size-leading-zero",
        "root-not-base64",
        "root-wrong-length",
        "signature-not-base64",
        "signature-without-em-dash",
        "control-character",
    ],
)
def test_malformed_checkpoint_text_is_malformed_evidence(evidence: Evidence, note: str) -> None:
    text, _, sig = evidence.note.partition("\n\n")
    origin, _, root = text.split("\n")
    filled = note.format(text=text, origin=origin, root=root, sig=sig)
    assert_rejected(evidence, evidence.export, MalformedEvidence, 14, note=filled)


# -- forks and rollbacks --------------------------------------------------------------------------


def _rewritten_history(ev: Evidence, tmp_path: Path) -> tuple[Path, str]:
    """The same key re-signs a log whose entry 5 was rewritten and which then grew by one."""
    bodies = ev.bodies()
    bodies[5] = _edit_entry(bodies[5], name="rewritten history")
    extra = json.loads(bodies[-1])
    extra["seq"], extra["payload"] = len(bodies), {"i": 999}
    bodies.append(canonical_json(extra))
    signer = NoteSigner.from_pem(ev.origin, ev.key_pem)
    root = root_from_leaf_hashes(leaf_hash(b) for b in bodies)
    note = signer.sign(Checkpoint(ev.origin, len(bodies), root))
    return _write(tmp_path, _renumbered(bodies), "fork.jsonl"), note


def test_rewritten_log_resigned_with_the_same_key_verifies_on_its_own(
    evidence: Evidence, tmp_path: Path
) -> None:
    """Why auditors keep earlier checkpoints: a key holder can re-sign any history."""
    fork, fork_note = _rewritten_history(evidence, tmp_path)
    report = LogVerifier(evidence.verifier, fork_note).run_export(fork, deep=True)
    assert report.size == TOTAL + 1


def test_fork_resigned_with_the_same_key_is_inconsistent_with_the_earlier_checkpoint(
    evidence: Evidence, tmp_path: Path
) -> None:
    fork, fork_note = _rewritten_history(evidence, tmp_path)
    for previous in [
        (evidence.note,),
        (evidence.early_note,),
        (evidence.early_note, evidence.note),
    ]:
        error = assert_rejected(
            evidence, fork, InconsistentCheckpoints, 13, note=fork_note, previous=previous
        )
        assert "fork" in error.message


def test_second_workspace_with_the_same_key_forks_the_log(
    evidence: Evidence, tmp_path: Path
) -> None:
    """A copy of the workspace folder (same id, origin and key) started over on a fresh database."""
    home = tmp_path / "ws-copy"
    home.mkdir()
    shutil.copy(evidence.home / "workspace.json", home / "workspace.json")
    shutil.copytree(evidence.home / "keys", home / "keys")
    app = init_workspace(Settings(home=home, database_url=None, witness_dir=None, actor="mallory"))
    try:
        assert app.workspace.origin == evidence.origin
        entries = [("model.intake", f"model:m{i}", {"i": i}) for i in range(TOTAL + 3)]
        for kind, subject, payload in entries:
            app.ledger.append(kind, subject, payload)
        fork_note = app.ledger.checkpoint().note
        app.ledger.export(tmp_path / "fork.jsonl")
    finally:
        app.close()
    fork = tmp_path / "fork.jsonl"
    assert LogVerifier(evidence.verifier, fork_note).run_export(fork).size > TOTAL
    assert_rejected(
        evidence, fork, InconsistentCheckpoints, 13, note=fork_note, previous=(evidence.note,)
    )


def test_rollback_to_an_older_log_is_inconsistent_with_the_newer_checkpoint(
    evidence: Evidence,
) -> None:
    # the early export and its checkpoint are genuine, but a bigger checkpoint was seen already
    error = assert_rejected(
        evidence,
        evidence.early_export,
        InconsistentCheckpoints,
        13,
        note=evidence.early_note,
        previous=(evidence.note,),
    )
    assert "rollback" in error.message


# -- large exports: the parallel verifier -------------------------------------------------------

LARGE_ENTRIES = 3000  # with 4 KB payloads: above the size where run_export uses worker processes


@pytest.fixture(scope="module")
def large_log(tmp_path_factory: pytest.TempPathFactory) -> SignedLog:
    """A synthetic 17 MiB export, signed: big enough for ``run_export`` to hash it in workers."""
    pad = "x" * 4300
    bodies = [
        EntryDraft("bulk.event", "ada", f"item:{i}", {"i": i, "pad": pad})
        .seal(seq=i, time="2026-01-01T00:00:00.000000Z")
        .to_bytes()
        for i in range(LARGE_ENTRIES)
    ]
    path = _write(tmp_path_factory.mktemp("large"), _renumbered(bodies), "large.jsonl")
    assert path.stat().st_size > _PARALLEL_THRESHOLD
    signer = NoteSigner.generate("example.org/large-log")
    root = root_from_leaf_hashes(leaf_hash(b) for b in bodies)
    note = signer.sign(Checkpoint(signer.name, len(bodies), root))
    return SignedLog(path, note, signer.verifier())


def _large_bodies(log: SignedLog) -> list[bytes]:
    return [body for _, body in read_export(log.export)]


def _large_lines(log: SignedLog) -> list[bytes]:
    return log.export.read_bytes().splitlines(keepends=True)


def assert_rejected_by_workers(
    log: SignedLog,
    path: Path,
    expected: type[LedgerTampered],
    exit_code: int,
    *,
    deep: bool = False,
) -> LedgerTampered:
    """The parallel path raises exactly ``expected`` (the sequential one is covered above)."""
    with pytest.raises(LedgerTampered) as info:
        LogVerifier(log.verifier, log.note).run_export(path, deep=deep, workers=2)
    assert type(info.value) is expected, info.value.message
    assert info.value.exit_code == exit_code
    return info.value


def test_large_export_verifies_in_worker_processes(large_log: SignedLog) -> None:
    report = LogVerifier(large_log.verifier, large_log.note).run_export(large_log.export, workers=2)
    assert report.entries_seen == report.size == LARGE_ENTRIES


@pytest.mark.parametrize("seq", [0, LARGE_ENTRIES // 2])
def test_large_export_with_a_deleted_line_is_a_sequence_break(
    large_log: SignedLog, tmp_path: Path, seq: int
) -> None:
    lines = _large_lines(large_log)
    del lines[seq]
    assert_rejected_by_workers(large_log, _write(tmp_path, lines), SequenceBroken, 12)


def test_large_export_with_a_duplicated_line_is_a_sequence_break(
    large_log: SignedLog, tmp_path: Path
) -> None:
    lines = _large_lines(large_log)
    lines.insert(1500, lines[1500])
    assert_rejected_by_workers(large_log, _write(tmp_path, lines), SequenceBroken, 12)


def test_large_export_with_a_renumbered_gap_is_a_sequence_break(
    large_log: SignedLog, tmp_path: Path
) -> None:
    bodies = _large_bodies(large_log)
    del bodies[1200]
    path = _write(tmp_path, _renumbered(bodies))
    error = assert_rejected_by_workers(large_log, path, SequenceBroken, 12)
    assert "position 1200" in error.message


def test_large_export_with_an_edited_body_is_a_root_mismatch(
    large_log: SignedLog, tmp_path: Path
) -> None:
    bodies = _large_bodies(large_log)
    bodies[2222] = _edit_entry(bodies[2222], i=-1)
    path = _write(tmp_path, _renumbered(bodies))
    assert_rejected_by_workers(large_log, path, RootMismatch, 11)


def test_large_export_with_a_reencoded_body_checked_deep_is_malformed_evidence(
    large_log: SignedLog, tmp_path: Path
) -> None:
    # deep: the worker that parses the entry finds it, and its error crosses the process boundary
    bodies = _large_bodies(large_log)
    bodies[2222] = _with_space(bodies[2222])
    path = _write(tmp_path, _renumbered(bodies))
    error = assert_rejected_by_workers(large_log, path, MalformedEvidence, 14, deep=True)
    assert "canonical" in error.message


def test_large_export_with_a_badly_padded_line_is_malformed_evidence(
    large_log: SignedLog, tmp_path: Path
) -> None:
    lines = _large_lines(large_log)
    record = json.loads(lines[1700])
    lines[1700] = b'{"entry":"%s","seq":1700}\n' % record["entry"].rstrip("=")[:-1].encode()
    assert_rejected_by_workers(large_log, _write(tmp_path, lines), MalformedEvidence, 14)


# -- the workspace: tampering with the database and the witness folder ---------------------------

WORKSPACE_EVENTS = 8


def _record(steward: Steward, events: int = WORKSPACE_EVENTS) -> None:
    for i in range(events):
        steward.ledger.append("model.intake", f"model:w{i}", {"i": i, "name": f"modèle-{i}"})
    steward.ledger.checkpoint()


def _body(engine: Engine, seq: int) -> bytes:
    with engine.connect() as conn:
        body = conn.execute(
            select(ledger_entries.c.body).where(ledger_entries.c.seq == seq)
        ).scalar_one()
    return bytes(body)


def _set_body(engine: Engine, seq: int, body: bytes, *, fix_leaf: bool) -> None:
    values: dict[str, bytes] = {"body": body}
    if fix_leaf:
        values["leaf_hash"] = leaf_hash(body)
    with engine.begin() as conn:
        conn.execute(update(ledger_entries).where(ledger_entries.c.seq == seq).values(**values))


def assert_workspace_rejected(
    steward: Steward, expected: type[LedgerTampered], exit_code: int, *, deep: bool = False
) -> LedgerTampered:
    with pytest.raises(LedgerTampered) as info:
        steward.ledger.verify(deep=deep)
    assert type(info.value) is expected, info.value.message
    assert info.value.exit_code == exit_code
    return info.value


@pytest.mark.storage
def test_untampered_workspace_verifies(steward: Steward) -> None:
    _record(steward)
    report = steward.ledger.verify(deep=True)
    assert report.entries_seen == report.size == 1 + WORKSPACE_EVENTS


@pytest.mark.storage
def test_body_edited_in_the_database_is_a_root_mismatch(steward: Steward) -> None:
    _record(steward)
    engine = steward.db.engine
    _set_body(engine, 3, _edit_entry(_body(engine, 3), name="edited"), fix_leaf=False)
    assert_workspace_rejected(steward, RootMismatch, 11)


@pytest.mark.storage
def test_body_and_leaf_hash_edited_together_are_a_root_mismatch(steward: Steward) -> None:
    _record(steward)
    engine = steward.db.engine
    _set_body(engine, 3, _edit_entry(_body(engine, 3), name="edited"), fix_leaf=True)
    assert_workspace_rejected(steward, RootMismatch, 11)


@pytest.mark.storage
def test_body_reencoded_in_the_database_is_malformed_evidence(steward: Steward) -> None:
    _record(steward)
    engine = steward.db.engine
    _set_body(engine, 3, _with_space(_body(engine, 3)), fix_leaf=True)
    assert_workspace_rejected(steward, MalformedEvidence, 14)


@pytest.mark.storage
def test_row_deleted_from_the_database_is_a_sequence_break(steward: Steward) -> None:
    _record(steward)
    with steward.db.engine.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq == 4))
    assert_workspace_rejected(steward, SequenceBroken, 12)


@pytest.mark.storage
def test_checkpoint_note_edited_in_the_database_is_a_bad_signature(steward: Steward) -> None:
    _record(steward)
    with steward.db.engine.begin() as conn:
        latest = conn.execute(
            select(ledger_checkpoints.c.id, ledger_checkpoints.c.note)
            .order_by(ledger_checkpoints.c.id.desc())
            .limit(1)
        ).one()
        forged = _edit_note(latest.note, 1, str(WORKSPACE_EVENTS + 5))
        conn.execute(
            update(ledger_checkpoints)
            .where(ledger_checkpoints.c.id == latest.id)
            .values(note=forged)
        )
    assert_workspace_rejected(steward, BadSignature, 10)


_LEDGER_TABLES = (ledger_entries, ledger_nodes, ledger_state, ledger_checkpoints)
Snapshot = dict[str, list[dict[str, Any]]]


def _snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as conn:
        return {
            t.name: [dict(row._mapping) for row in conn.execute(select(t))] for t in _LEDGER_TABLES
        }


def _restore(engine: Engine, snapshot: Snapshot, tables: tuple[str, ...]) -> None:
    """Put the named ledger tables back as they were in ``snapshot`` (a restore from backup)."""
    with engine.begin() as conn:
        for table in _LEDGER_TABLES:
            if table.name in tables:
                conn.execute(delete(table))
                if snapshot[table.name]:
                    conn.execute(insert(table), snapshot[table.name])


@pytest.fixture
def witnessed(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Steward, Path]]:
    """A workspace whose checkpoints are also copied to a witness folder."""
    witness = tmp_path / "witness"
    app = init_workspace(
        Settings(home=tmp_path / "ws", database_url=database_url, witness_dir=witness, actor="t")
    )
    yield app, witness
    app.close()


def _roll_back(app: Steward, tables: tuple[str, ...]) -> None:
    """Record 4 entries, keep a copy of the store, record 5 more, then restore the copy."""
    _record(app, 3)
    old = _snapshot(app.db.engine)
    _record(app, 5)
    _restore(app.db.engine, old, tables)


@pytest.mark.storage
def test_witness_folder_keeps_every_checkpoint(witnessed: tuple[Steward, Path]) -> None:
    app, witness = witnessed
    _record(app, 3)
    assert sorted(p.name[:12] for p in witness.glob("*.checkpoint")) == [
        f"{1:012d}",
        f"{4:012d}",
    ]
    assert app.ledger.verify().previous_checked == 1 + 2  # the earlier DB checkpoint + witness


@pytest.mark.storage
def test_entries_truncated_in_place_are_a_sequence_break_and_block_signing(
    witnessed: tuple[Steward, Path],
) -> None:
    """Rows deleted and the tree state reset, but the newer checkpoint row is still there."""
    app, _ = witnessed
    _roll_back(app, tables=("ledger_entries", "ledger_nodes", "ledger_state"))
    assert app.ledger.size() == 4
    error = assert_workspace_rejected(app, SequenceBroken, 12)
    assert "missing" in error.message
    with pytest.raises(LedgerTampered) as info:
        app.ledger.checkpoint()
    assert type(info.value) is InconsistentCheckpoints
    assert info.value.exit_code == 13
    assert "refusing to sign" in info.value.message


@pytest.mark.storage
def test_store_restored_from_an_old_copy_is_caught_by_the_witness(
    witnessed: tuple[Steward, Path],
) -> None:
    """Everything in the database is as it was at size 4, checkpoints included: only the witness
    folder remembers the checkpoint of size 9."""
    app, _ = witnessed
    _roll_back(app, tables=tuple(t.name for t in _LEDGER_TABLES))
    assert app.ledger.size() == 4
    error = assert_workspace_rejected(app, InconsistentCheckpoints, 13)
    assert "rollback" in error.message


@pytest.mark.storage
def test_store_restored_from_an_old_copy_is_not_signed_again(
    witnessed: tuple[Steward, Path],
) -> None:
    app, _ = witnessed
    _roll_back(app, tables=tuple(t.name for t in _LEDGER_TABLES))
    with pytest.raises(LedgerTampered) as info:
        app.ledger.checkpoint()
    assert type(info.value) is InconsistentCheckpoints
    assert info.value.exit_code == 13
    # nor extended and signed as if nothing happened
    app.ledger.append("model.intake", "model:after", {"i": 100})
    with pytest.raises(InconsistentCheckpoints):
        app.ledger.checkpoint()


@pytest.mark.storage
def test_without_a_witness_a_restored_store_still_verifies(steward: Steward) -> None:
    """The limit the witness folder exists for: a consistent old copy is a valid ledger."""
    _record(steward, 3)
    old = _snapshot(steward.db.engine)
    _record(steward, 5)
    _restore(steward.db.engine, old, tuple(t.name for t in _LEDGER_TABLES))
    assert steward.ledger.verify().size == 4
