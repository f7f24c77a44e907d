"""Signed envelopes: DSSE over an in-toto statement, verified first, then strictly parsed; and
attestation naming every changed, missing and extra file."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from modelsteward.artifacts.manifest import ModelManifest, hash_model
from modelsteward.artifacts.signing import (
    SUPPORTED_CURVES,
    KeyPairPaths,
    generate_key_pair,
    load_private_key,
    pae,
)
from modelsteward.errors import InvalidInput, VerificationFailed
from modelsteward.runtime.envelope import Envelope, example_envelope
from modelsteward.runtime.signed import (
    PREDICATE_TYPE,
    attest,
    attest_or_raise,
    load_signed_envelope,
    read_signed_envelope_unverified,
    sign_envelope,
)
from modelsteward.types import Digest

SIGNED_AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)

Statement = dict[str, Any]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "tiny"}')
    (folder / "weights" / "model.safetensors").write_bytes(b"\x00" * 64)
    (folder / "tokenizer.json").write_text("{}")
    return folder


@pytest.fixture
def keys(tmp_path: Path) -> KeyPairPaths:
    return generate_key_pair(tmp_path / "signer.pem")


@pytest.fixture
def manifest(model_dir: Path) -> ModelManifest:
    return hash_model(model_dir)


@pytest.fixture
def signed_bytes(manifest: ModelManifest, keys: KeyPairPaths) -> bytes:
    envelope = Envelope.from_dict(example_envelope())
    return sign_envelope(
        envelope, manifest, keys.private_key, model_ref="tiny@1", signed_at=SIGNED_AT
    )


def _statement(data: bytes) -> Statement:
    statement: Statement = json.loads(base64.b64decode(json.loads(data)["payload"]))
    return statement


def _replace_payload(data: bytes, edit: Callable[[Statement], object]) -> bytes:
    """The file with its statement edited and the old signature kept (a forgery)."""
    document = json.loads(data)
    statement = _statement(data)
    edit(statement)
    document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(document).encode()


def _resign(data: bytes, edit: Callable[[Statement], object], private_key: Path) -> bytes:
    """The file with its statement edited and signed again with ``private_key``."""
    document = json.loads(data)
    statement = _statement(data)
    edit(statement)
    payload = json.dumps(statement).encode()
    key = load_private_key(private_key)
    signature = key.sign(pae(payload), ec.ECDSA(SUPPORTED_CURVES[key.curve.name]))
    document["payload"] = base64.b64encode(payload).decode()
    document["signatures"][0]["sig"] = base64.b64encode(signature).decode()
    return json.dumps(document).encode()


# -- sign and verify ------------------------------------------------------------------------------


def test_a_signed_envelope_round_trips_with_its_key(
    signed_bytes: bytes, keys: KeyPairPaths, manifest: ModelManifest
) -> None:
    signed = load_signed_envelope(signed_bytes, keys.public_key)
    assert signed.signature_checked
    assert signed.envelope == Envelope.from_dict(example_envelope())
    assert signed.envelope.digest == Envelope.from_dict(example_envelope()).digest
    assert signed.model_digest == manifest.root_digest
    assert signed.model_ref == "tiny@1"
    assert [f.path for f in signed.model_files] == [f.path for f in manifest.files]
    assert signed.model_files == manifest.files
    assert signed.signed_at == SIGNED_AT
    assert signed.key_id == keys.fingerprint
    payload = base64.b64decode(json.loads(signed_bytes)["payload"])
    assert signed.statement_digest == Digest.of(payload)


def test_the_file_is_dsse_over_an_in_toto_statement(
    signed_bytes: bytes, keys: KeyPairPaths, manifest: ModelManifest
) -> None:
    document = json.loads(signed_bytes)
    assert set(document) == {"payloadType", "payload", "signatures"}
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert document["signatures"][0]["keyid"] == keys.fingerprint
    statement = _statement(signed_bytes)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE
    assert statement["subject"] == [
        {"name": "tiny@1", "digest": {"sha256": manifest.root_digest.hex}}
    ]
    predicate = statement["predicate"]
    assert predicate["envelope"] == json.loads(json.dumps(example_envelope()))
    assert predicate["envelope_digest"] == str(Envelope.from_dict(example_envelope()).digest)
    assert predicate["model"]["files"][0] == {
        "path": "config.json",
        "sha256": manifest.files[0].sha256,
        "size": manifest.files[0].size,
    }
    assert predicate["signed_at"] == "2026-03-01T12:30:15.123456Z"


def test_a_tampered_payload_fails_verification(signed_bytes: bytes, keys: KeyPairPaths) -> None:
    def faster(statement: Statement) -> None:
        statement["predicate"]["envelope"]["speed"]["mode_caps_mps"]["normal"] = 60.0

    forged = _replace_payload(signed_bytes, faster)
    with pytest.raises(VerificationFailed, match="does not verify"):
        load_signed_envelope(forged, keys.public_key)


def test_another_key_is_refused(signed_bytes: bytes, tmp_path: Path) -> None:
    other = generate_key_pair(tmp_path / "other.pem")
    with pytest.raises(VerificationFailed, match="another key"):
        load_signed_envelope(signed_bytes, other.public_key)


def test_another_key_is_refused_even_without_a_keyid(signed_bytes: bytes, tmp_path: Path) -> None:
    document = json.loads(signed_bytes)
    document["signatures"][0]["keyid"] = ""
    other = generate_key_pair(tmp_path / "other.pem")
    with pytest.raises(VerificationFailed, match="does not verify"):
        load_signed_envelope(json.dumps(document).encode(), other.public_key)


def test_an_altered_envelope_digest_is_refused_even_when_signed(
    signed_bytes: bytes, keys: KeyPairPaths
) -> None:
    def alter(statement: Statement) -> None:
        statement["predicate"]["envelope_digest"] = "sha256:" + "0" * 64

    with pytest.raises(VerificationFailed, match="does not verify"):
        load_signed_envelope(_replace_payload(signed_bytes, alter), keys.public_key)
    resigned = _resign(signed_bytes, alter, keys.private_key)
    with pytest.raises(VerificationFailed, match=r"predicate\.envelope_digest"):
        load_signed_envelope(resigned, keys.public_key)


def test_an_envelope_edited_under_its_old_digest_is_refused(
    signed_bytes: bytes, keys: KeyPairPaths
) -> None:
    def slower(statement: Statement) -> None:
        statement["predicate"]["envelope"]["ttc"]["min_s"] = 0.5

    with pytest.raises(VerificationFailed, match="does not match the embedded envelope"):
        load_signed_envelope(_resign(signed_bytes, slower, keys.private_key), keys.public_key)


def test_a_subject_that_is_not_the_signed_model_is_refused(
    signed_bytes: bytes, keys: KeyPairPaths
) -> None:
    def other_subject(statement: Statement) -> None:
        statement["subject"][0]["digest"]["sha256"] = "1" * 64

    with pytest.raises(VerificationFailed, match="subject digest"):
        load_signed_envelope(
            _resign(signed_bytes, other_subject, keys.private_key), keys.public_key
        )


def test_a_file_list_that_does_not_hash_to_the_model_digest_is_refused(
    signed_bytes: bytes, keys: KeyPairPaths
) -> None:
    def drop_a_file(statement: Statement) -> None:
        statement["predicate"]["model"]["files"].pop()

    with pytest.raises(VerificationFailed, match="file list hashes to"):
        load_signed_envelope(_resign(signed_bytes, drop_a_file, keys.private_key), keys.public_key)


def test_unknown_fields_in_the_envelope_document_are_refused_naming_the_field(
    signed_bytes: bytes, keys: KeyPairPaths
) -> None:
    document = example_envelope()
    document["odd"]["speed_limit_mps"] = 40
    with pytest.raises(InvalidInput, match=r"odd\.speed_limit_mps"):
        Envelope.from_dict(document)

    def sneak(statement: Statement) -> None:
        statement["predicate"]["envelope"]["kinematics"]["max_jerk"] = 99

    resigned = _resign(signed_bytes, sneak, keys.private_key)
    with pytest.raises(InvalidInput, match=r"predicate\.envelope.*kinematics\.max_jerk"):
        load_signed_envelope(resigned, keys.public_key)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda s: s["predicate"].pop("signed_at"), "payload.predicate.signed_at"),
        (lambda s: s["predicate"].__setitem__("signed_at", "yesterday"), "signed_at"),
        (lambda s: s["predicate"]["model"].pop("files"), "payload.predicate.model.files"),
        (lambda s: s["predicate"]["model"].__setitem__("digest", "abc"), "model.digest"),
        (lambda s: s["predicate"]["model"].__setitem__("ref", 7), "model.ref"),
        (lambda s: s["predicate"].__setitem__("note", "hi"), "payload.predicate.note"),
        (lambda s: s.__setitem__("predicateType", "https://x/v1"), "payload.predicateType"),
        (lambda s: s.__setitem__("subject", []), "payload.subject"),
        (lambda s: s["predicate"]["model"]["files"][0].pop("sha256"), "files[0].sha256"),
    ],
)
def test_a_signed_but_malformed_statement_is_refused_naming_the_field(
    signed_bytes: bytes,
    keys: KeyPairPaths,
    edit: Callable[[Statement], object],
    named: str,
) -> None:
    resigned = _resign(signed_bytes, edit, keys.private_key)
    with pytest.raises(InvalidInput, match=rf"signed envelope: .*{re.escape(named)}"):
        load_signed_envelope(resigned, keys.public_key)


@pytest.mark.parametrize(
    ("mangle", "named"),
    [
        (lambda d: b"not json", "not JSON"),
        (
            lambda d: json.dumps({**json.loads(d), "payloadType": "text/plain"}).encode(),
            "payloadType",
        ),
        (lambda d: json.dumps({**json.loads(d), "payload": "%%%"}).encode(), "payload"),
        (lambda d: json.dumps({**json.loads(d), "signatures": []}).encode(), "signatures"),
        (lambda d: json.dumps({**json.loads(d), "extra": 1}).encode(), "extra"),
        (lambda d: json.dumps([json.loads(d)]).encode(), "must be a mapping"),
    ],
)
def test_a_malformed_file_is_invalid_input_naming_the_field(
    signed_bytes: bytes, keys: KeyPairPaths, mangle: Callable[[bytes], bytes], named: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(named)):
        load_signed_envelope(mangle(signed_bytes), keys.public_key)
    with pytest.raises(InvalidInput, match=re.escape(named)):
        read_signed_envelope_unverified(mangle(signed_bytes))


def test_the_private_key_is_not_a_public_key(signed_bytes: bytes, keys: KeyPairPaths) -> None:
    with pytest.raises(InvalidInput, match="not a PEM public key"):
        load_signed_envelope(signed_bytes, keys.private_key)


def test_the_unverified_reader_is_for_display_and_attest_refuses_it(
    signed_bytes: bytes, model_dir: Path
) -> None:
    def faster(statement: Statement) -> None:
        statement["predicate"]["signed_at"] = "2030-01-01T00:00:00.000000Z"

    shown = read_signed_envelope_unverified(_replace_payload(signed_bytes, faster))
    assert not shown.signature_checked
    assert shown.signed_at.year == 2030
    result = attest(shown, model_dir)
    assert not result.ok
    assert "without checking its signature" in result.message


# -- attestation ----------------------------------------------------------------------------------


def test_the_signed_files_attest(signed_bytes: bytes, keys: KeyPairPaths, model_dir: Path) -> None:
    signed = load_signed_envelope(signed_bytes, keys.public_key)
    result = attest_or_raise(signed, model_dir)
    assert result.ok
    assert result.found == result.expected == signed.model_digest
    assert (result.changed, result.missing, result.extra) == ((), (), ())


@pytest.mark.parametrize(
    ("damage", "field", "path"),
    [
        (
            lambda d: (d / "config.json").write_text('{"model_type": "huge"}'),
            "changed",
            "config.json",
        ),
        (
            lambda d: (d / "weights" / "model.safetensors").unlink(),
            "missing",
            "weights/model.safetensors",
        ),
        (lambda d: (d / "weights" / "extra.bin").write_bytes(b"x"), "extra", "weights/extra.bin"),
    ],
)
def test_a_changed_missing_or_extra_file_is_named(
    signed_bytes: bytes,
    keys: KeyPairPaths,
    model_dir: Path,
    damage: Callable[[Path], object],
    field: str,
    path: str,
) -> None:
    signed = load_signed_envelope(signed_bytes, keys.public_key)
    damage(model_dir)
    result = attest(signed, model_dir)
    assert not result.ok
    assert getattr(result, field) == (path,)
    assert result.found is not None
    assert result.found != result.expected
    assert path in result.message
    with pytest.raises(VerificationFailed, match=re.escape(path)):
        attest_or_raise(signed, model_dir)


def test_a_missing_or_empty_folder_fails_closed(
    signed_bytes: bytes, keys: KeyPairPaths, tmp_path: Path
) -> None:
    signed = load_signed_envelope(signed_bytes, keys.public_key)
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "nowhere", tmp_path / "empty"):
        result = attest(signed, folder)
        assert not result.ok
        assert result.found is None
        assert "cannot be attested" in result.message
        with pytest.raises(VerificationFailed):
            attest_or_raise(signed, folder)


def test_git_metadata_is_ignored_like_at_intake(
    signed_bytes: bytes, keys: KeyPairPaths, model_dir: Path
) -> None:
    (model_dir / ".git").mkdir()
    (model_dir / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert attest(load_signed_envelope(signed_bytes, keys.public_key), model_dir).ok


def test_signing_needs_an_aware_time(manifest: ModelManifest, keys: KeyPairPaths) -> None:
    envelope = Envelope.from_dict(example_envelope())
    with pytest.raises(InvalidInput, match="timezone-aware"):
        sign_envelope(
            envelope, manifest, keys.private_key, model_ref=None, signed_at=datetime(2026, 1, 1)
        )


def test_without_a_ref_the_subject_is_the_manifest_name(
    manifest: ModelManifest, keys: KeyPairPaths
) -> None:
    envelope = Envelope.from_dict(example_envelope())
    data = sign_envelope(envelope, manifest, keys.private_key, model_ref=None, signed_at=SIGNED_AT)
    signed = load_signed_envelope(data, keys.public_key)
    assert (signed.model_ref, signed.model_name) == (None, "model")
