"""Inclusion proof files (``steward.ledger.proof/v1``) and the checkpoint note format.

A proof file from a workspace must verify with nothing but the workspace's public key (as a
``vkey`` string or as PEM); any alteration fails with the class that names it. The checkpoint
note is checked against the C2SP signed-note layout, computed independently with ``cryptography``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from modelsteward.bootstrap import Steward
from modelsteward.errors import (
    BadSignature,
    InvalidInput,
    LedgerTampered,
    MalformedEvidence,
    NotFound,
    RootMismatch,
)
from modelsteward.ledger.checkpoint import NoteSigner, NoteVerifier
from modelsteward.ledger.entry import canonical_json
from modelsteward.ledger.verify import PROOF_FORMAT, read_export, verify_proof

EVENTS = 12
SIZE = 1 + EVENTS  # with the workspace.init entry
SEQS = [0, 1, 6, 7, 8, SIZE - 1]


@pytest.fixture
def recorded(steward: Steward) -> Steward:
    for i in range(EVENTS):
        steward.ledger.append("evaluation.report", f"model:m{i}", {"i": i, "score": i / 10})
    return steward


def _bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def _entry(document: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(base64.b64decode(document["entry"]))
    return entry


def _with_entry(document: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {**document, "entry": base64.b64encode(body).decode()}


def assert_proof_rejected(
    document: dict[str, Any] | bytes,
    verifier: NoteVerifier,
    expected: type[LedgerTampered],
    exit_code: int,
) -> LedgerTampered:
    data = document if isinstance(document, bytes) else _bytes(document)
    with pytest.raises(LedgerTampered) as info:
        verify_proof(data, verifier)
    assert type(info.value) is expected, info.value.message
    assert info.value.exit_code == exit_code
    return info.value


# -- proofs that verify ---------------------------------------------------------------------------


@pytest.mark.parametrize("seq", SEQS)
def test_proof_of_an_entry_verifies_with_the_workspace_key(recorded: Steward, seq: int) -> None:
    document = recorded.ledger.prove(seq)
    report = verify_proof(_bytes(document), recorded.workspace.verifier())
    assert document["format"] == PROOF_FORMAT
    assert (report.seq, report.entry.seq, report.checkpoint.size) == (seq, seq, SIZE)
    assert report.checkpoint.origin == recorded.workspace.origin


def test_proof_carries_the_exact_stored_entry_bytes(recorded: Steward) -> None:
    document = recorded.ledger.prove(5)
    assert base64.b64decode(document["entry"]) == recorded.ledger.tail(SIZE)[5].to_bytes()
    assert verify_proof(_bytes(document), recorded.workspace.verifier()).entry.payload == {
        "i": 4,
        "score": 0.4,
    }


def test_proof_verifies_with_a_verifier_read_from_the_vkey_file(recorded: Steward) -> None:
    vkey = (recorded.workspace.keys_dir / "ledger.vkey").read_text()
    verifier = NoteVerifier.from_vkey(vkey)
    for seq in SEQS:
        assert verify_proof(_bytes(recorded.ledger.prove(seq)), verifier).seq == seq
    assert NoteVerifier.from_file_text(vkey).to_vkey() == vkey.strip()


def test_proof_verifies_with_a_verifier_read_from_the_pem_file(recorded: Steward) -> None:
    pem = (recorded.workspace.keys_dir / "ledger.pub").read_text()
    verifier = NoteVerifier.from_file_text(pem)
    for seq in SEQS:
        assert verify_proof(_bytes(recorded.ledger.prove(seq)), verifier).seq == seq


def test_proof_still_verifies_after_the_log_grew(recorded: Steward) -> None:
    document = recorded.ledger.prove(3)
    recorded.ledger.append("evaluation.report", "model:later", {"i": 99})
    later = recorded.ledger.prove(3)
    verifier = recorded.workspace.verifier()
    assert verify_proof(_bytes(document), verifier).checkpoint.size == SIZE
    assert verify_proof(_bytes(later), verifier).checkpoint.size == SIZE + 1
    assert later["checkpoint"] != document["checkpoint"]


def test_proving_a_seq_outside_the_log_is_refused(recorded: Steward) -> None:
    with pytest.raises(NotFound):
        recorded.ledger.prove(SIZE)
    with pytest.raises(InvalidInput):
        recorded.ledger.prove(-1)


# -- altered proofs -------------------------------------------------------------------------------


def test_proof_with_an_edited_entry_is_a_root_mismatch(recorded: Steward) -> None:
    document = recorded.ledger.prove(6)
    entry = _entry(document)
    entry["payload"]["score"] = 1.0
    altered = _with_entry(document, canonical_json(entry))
    assert_proof_rejected(altered, recorded.workspace.verifier(), RootMismatch, 11)


def test_proof_with_a_reencoded_entry_is_malformed_evidence(recorded: Steward) -> None:
    document = recorded.ledger.prove(6)
    altered = _with_entry(document, json.dumps(_entry(document), sort_keys=True).encode())
    error = assert_proof_rejected(altered, recorded.workspace.verifier(), MalformedEvidence, 14)
    assert "canonical" in error.message


@pytest.mark.parametrize("position", [0, 1, -1])
def test_proof_with_an_altered_path_element_is_a_root_mismatch(
    recorded: Steward, position: int
) -> None:
    document = recorded.ledger.prove(6)
    raw = bytearray(base64.b64decode(document["inclusion"][position]))
    raw[0] ^= 0x80
    altered = copy.deepcopy(document)
    altered["inclusion"][position] = base64.b64encode(bytes(raw)).decode()
    assert_proof_rejected(altered, recorded.workspace.verifier(), RootMismatch, 11)


def test_proof_with_a_path_element_dropped_or_added_is_a_root_mismatch(
    recorded: Steward,
) -> None:
    document = recorded.ledger.prove(6)
    path = document["inclusion"]
    for altered_path in (path[1:], path[:-1], [*path, path[0]]):
        altered = {**document, "inclusion": altered_path}
        assert_proof_rejected(altered, recorded.workspace.verifier(), RootMismatch, 11)


@pytest.mark.parametrize("line", [0, 1, 2], ids=["origin", "size", "root"])
def test_proof_with_an_altered_checkpoint_is_a_bad_signature(recorded: Steward, line: int) -> None:
    document = recorded.ledger.prove(6)
    lines = document["checkpoint"].split("\n")
    lines[line] = {
        0: lines[0] + ".evil",
        1: str(SIZE + 1),
        2: base64.b64encode(bytes(32)).decode(),
    }[line]
    altered = {**document, "checkpoint": "\n".join(lines)}
    assert_proof_rejected(altered, recorded.workspace.verifier(), BadSignature, 10)


def test_proof_checked_with_another_key_is_a_bad_signature(recorded: Steward) -> None:
    stranger = NoteSigner.generate(recorded.workspace.origin).verifier()
    assert_proof_rejected(recorded.ledger.prove(6), stranger, BadSignature, 10)


def test_proof_whose_seq_differs_from_its_entry_is_malformed_evidence(recorded: Steward) -> None:
    document = recorded.ledger.prove(6)
    for seq in (5, 7, SIZE + 3):
        error = assert_proof_rejected(
            {**document, "seq": seq}, recorded.workspace.verifier(), MalformedEvidence, 14
        )
        assert "seq" in error.message


def test_proof_of_one_entry_does_not_prove_another(recorded: Steward) -> None:
    six, seven = recorded.ledger.prove(6), recorded.ledger.prove(7)
    swapped = {**seven, "inclusion": six["inclusion"]}
    assert six["inclusion"] != seven["inclusion"]
    assert_proof_rejected(swapped, recorded.workspace.verifier(), RootMismatch, 11)


@pytest.mark.parametrize(
    "alter",
    [
        lambda d: {**d, "format": "steward.ledger.proof/v2"},
        lambda d: {k: v for k, v in d.items() if k != "format"},
        lambda d: {k: v for k, v in d.items() if k != "inclusion"},
        lambda d: {**d, "seq": "6"},
        lambda d: {**d, "seq": True},
        lambda d: {**d, "entry": "not*base64"},
        lambda d: {**d, "inclusion": ["not*base64"]},
        lambda d: {**d, "inclusion": "AAAA"},
        lambda d: {**d, "checkpoint": 42},
        lambda d: [d],
    ],
    ids=[
        "other-format",
        "no-format",
        "no-inclusion",
        "seq-as-string",
        "seq-as-bool",
        "entry-not-base64",
        "path-not-base64",
        "path-not-a-list",
        "checkpoint-not-text",
        "not-an-object",
    ],
)
def test_proof_file_with_a_malformed_field_is_malformed_evidence(
    recorded: Steward, alter: Any
) -> None:
    document = recorded.ledger.prove(6)
    data = json.dumps(alter(document)).encode()
    assert_proof_rejected(data, recorded.workspace.verifier(), MalformedEvidence, 14)


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"null"], ids=str)
def test_proof_file_that_is_not_json_is_malformed_evidence(recorded: Steward, data: bytes) -> None:
    assert_proof_rejected(data, recorded.workspace.verifier(), MalformedEvidence, 14)


# -- the checkpoint note --------------------------------------------------------------------------


def _public_key(steward: Steward) -> bytes:
    pem = (steward.workspace.keys_dir / "ledger.pub").read_bytes()
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _rfc6962_root(bodies: list[bytes]) -> bytes:
    """MTH over the entries, written from RFC 6962 §2.1 (independent of our Merkle module)."""
    if len(bodies) == 1:
        return hashlib.sha256(b"\x00" + bodies[0]).digest()
    k = 1 << ((len(bodies) - 1).bit_length() - 1)
    left, right = _rfc6962_root(bodies[:k]), _rfc6962_root(bodies[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def test_checkpoint_note_follows_the_c2sp_signed_note_layout(
    recorded: Steward, tmp_path: Path
) -> None:
    note = recorded.ledger.checkpoint().note
    recorded.ledger.export(tmp_path / "entries.jsonl")
    bodies = [body for _, body in read_export(tmp_path / "entries.jsonl")]
    origin = recorded.workspace.origin
    public_key = _public_key(recorded)

    lines = note.split("\n")
    assert len(lines) == 6, note
    origin_line, size_line, root_line, blank, signature_line, end = lines
    assert (origin_line, size_line, blank, end) == (origin, str(SIZE), "", "")
    assert base64.b64decode(root_line, validate=True) == _rfc6962_root(bodies)

    dash, name, signature_b64 = signature_line.split(" ")
    assert dash == "\u2014"  # an em dash
    assert name == origin
    signature = base64.b64decode(signature_b64, validate=True)
    assert len(signature) == 4 + 64
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key).digest()[:4]
    assert signature[:4] == key_id
    signed_text = f"{origin_line}\n{size_line}\n{root_line}\n".encode()
    Ed25519PublicKey.from_public_bytes(public_key).verify(signature[4:], signed_text)


def test_vkey_file_is_name_keyid_and_typed_public_key(recorded: Steward) -> None:
    vkey = (recorded.workspace.keys_dir / "ledger.vkey").read_text().strip()
    public_key = _public_key(recorded)
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    assert name == recorded.workspace.origin
    assert key_id_hex == (
        hashlib.sha256(name.encode() + b"\n" + b"\x01" + public_key).digest()[:4].hex()
    )
    assert base64.b64decode(key_b64) == b"\x01" + public_key


def test_vkey_with_a_wrong_key_id_is_malformed_evidence(recorded: Steward) -> None:
    vkey = (recorded.workspace.keys_dir / "ledger.vkey").read_text().strip()
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    wrong = f"{int(key_id_hex, 16) ^ 1:08x}"
    with pytest.raises(MalformedEvidence):
        NoteVerifier.from_vkey(f"{name}+{wrong}+{key_b64}")
