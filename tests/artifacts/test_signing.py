"""OMS signature bundles: Steward and the OpenSSF reference (``model_signing``) accept each other's.

The reference is driven through its CLI in a subprocess (about a second per call), so only the
interoperability rules use it; every other rule runs in-process.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import factories
from modelsteward.artifacts.manifest import hash_model
from modelsteward.artifacts.signing import (
    BUNDLE_MEDIA_TYPE,
    PAYLOAD_TYPE,
    KeyPairPaths,
    generate_key_pair,
    load_private_key,
    load_public_key,
    pae,
    sign_manifest,
    verify_bundle,
)
from modelsteward.errors import InvalidInput, VerificationFailed


def reference(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the OpenSSF reference CLI (``python -m model_signing``)."""
    return subprocess.run(
        [sys.executable, "-m", "model_signing", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def reference_verify(model: Path, signature: Path, public_key: Path) -> tuple[int, str]:
    """``model_signing verify key``: its exit code and what it printed."""
    result = reference("verify", "key", "--signature", signature, "--public_key", public_key, model)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def keys(tmp_path: Path) -> KeyPairPaths:
    (tmp_path / "keys").mkdir()
    return generate_key_pair(tmp_path / "keys" / "signer.pem")


@pytest.fixture
def other_keys(tmp_path: Path) -> KeyPairPaths:
    (tmp_path / "other").mkdir()
    return generate_key_pair(tmp_path / "other" / "other.pem")


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return factories.make_hf_snapshot(tmp_path / "drive-vla-mini")


@pytest.fixture
def signed(snapshot: Path, keys: KeyPairPaths, tmp_path: Path) -> Path:
    """The snapshot's bundle, signed by Steward, stored outside the model folder."""
    signature = tmp_path / "drive-vla-mini.sig"
    signature.write_bytes(sign_manifest(hash_model(snapshot), keys.private_key))
    return signature


def edit_bundle(bundle: bytes, change: Any) -> bytes:
    document = json.loads(bundle)
    change(document)
    return json.dumps(document).encode()


def write_pem(path: Path, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_name(path.name + ".pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


# --- interoperability with the reference CLI (the only subprocess calls) ---------------------


def test_reference_cli_accepts_a_bundle_steward_signed(
    snapshot: Path, signed: Path, keys: KeyPairPaths
) -> None:
    code, output = reference_verify(snapshot, signed, keys.public_key)
    assert (code, "Verification succeeded" in output) == (0, True), output


def test_reference_cli_rejects_steward_bundle_after_one_shard_byte_changes(
    snapshot: Path, signed: Path, keys: KeyPairPaths
) -> None:
    shard = snapshot / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    code, output = reference_verify(snapshot, signed, keys.public_key)
    assert code != 0
    assert "Hash mismatch for 'model-00002-of-00002.safetensors'" in output


def test_reference_cli_rejects_steward_bundle_after_a_file_is_added(
    snapshot: Path, signed: Path, keys: KeyPairPaths
) -> None:
    (snapshot / "extra.py").write_text("import os\n")
    code, output = reference_verify(snapshot, signed, keys.public_key)
    assert code != 0
    assert "Extra files found" in output


def test_reference_cli_rejects_steward_bundle_with_another_key(
    snapshot: Path, signed: Path, other_keys: KeyPairPaths
) -> None:
    code, output = reference_verify(snapshot, signed, other_keys.public_key)
    assert code != 0
    assert "Key mismatch" in output


def test_single_file_model_signs_and_reference_cli_verifies_it(
    tmp_path: Path, keys: KeyPairPaths
) -> None:
    model = tmp_path / "policy.onnx"
    model.write_bytes(b"\x08\x07onnx-ish bytes")
    manifest = hash_model(model)
    assert [f.path for f in manifest.files] == ["."]
    signature = tmp_path / "policy.sig"
    signature.write_bytes(sign_manifest(manifest, keys.private_key))
    assert verify_bundle(signature.read_bytes(), keys.public_key).manifest.files[0].path == "."
    assert reference_verify(model, signature, keys.public_key)[0] == 0


def test_bundle_the_reference_cli_signed_verifies_and_matches_hash_model(
    snapshot: Path, keys: KeyPairPaths, signed: Path, tmp_path: Path
) -> None:
    theirs = tmp_path / "reference.sig"
    result = reference(
        "sign", "key", "--private_key", keys.private_key, "--signature", theirs, snapshot
    )
    assert result.returncode == 0, result.stderr
    check = verify_bundle(theirs.read_bytes(), keys.public_key)
    assert check.root_digest == hash_model(snapshot).root_digest
    assert check.key_hint == keys.fingerprint
    assert check.manifest.diff(hash_model(snapshot)).clean
    # same bundle layout as ours, field for field
    assert _shape(json.loads(theirs.read_bytes())) == _shape(json.loads(signed.read_bytes()))


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


# --- signing and verifying in-process ----------------------------------------------------------


def test_signed_manifest_round_trips_files_and_root_digest(
    snapshot: Path, keys: KeyPairPaths
) -> None:
    original = hash_model(snapshot)
    check = verify_bundle(sign_manifest(original, keys.private_key), keys.public_key)
    assert check.manifest.name == original.name
    assert [(f.path, f.sha256) for f in check.manifest.files] == [
        (f.path, f.sha256) for f in original.files
    ]
    assert check.root_digest == original.root_digest
    assert check.manifest.allow_symlinks == original.allow_symlinks
    assert check.curve == "secp256r1"


def test_bundle_has_the_oms_key_bundle_layout(snapshot: Path, keys: KeyPairPaths) -> None:
    manifest = hash_model(snapshot)
    bundle = json.loads(sign_manifest(manifest, keys.private_key))
    assert bundle["mediaType"] == BUNDLE_MEDIA_TYPE
    assert bundle["verificationMaterial"] == {
        "publicKey": {"hint": keys.fingerprint},
        "tlogEntries": [],
    }
    envelope = bundle["dsseEnvelope"]
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert json.loads(base64.b64decode(envelope["payload"])) == manifest.statement()
    assert [sorted(s) for s in envelope["signatures"]] == [["keyid", "sig"]]
    assert envelope["signatures"][0]["keyid"] == ""


def test_pae_matches_the_dsse_specification_example() -> None:
    assert (
        pae(b"hello world", "http://example.com/HelloWorld")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize("curve", [ec.SECP384R1(), ec.SECP521R1()])
def test_larger_nist_curves_sign_and_verify(
    tmp_path: Path, snapshot: Path, curve: ec.EllipticCurve
) -> None:
    key = write_pem(tmp_path / "big.pem", ec.generate_private_key(curve))
    check = verify_bundle(sign_manifest(hash_model(snapshot), key), tmp_path / "big.pem.pub")
    assert check.curve == curve.name


def test_tampered_payload_fails_verification(signed: Path, keys: KeyPairPaths) -> None:
    def swap_first_digest(document: dict[str, Any]) -> None:
        envelope = document["dsseEnvelope"]
        statement = json.loads(base64.b64decode(envelope["payload"]))
        resource = statement["predicate"]["resources"][0]
        resource["digest"] = "0" * 64
        envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    bundle = edit_bundle(signed.read_bytes(), swap_first_digest)
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_bundle(bundle, keys.public_key)


def test_tampered_signature_fails_verification(signed: Path, keys: KeyPairPaths) -> None:
    def flip_last_byte(document: dict[str, Any]) -> None:
        entry = document["dsseEnvelope"]["signatures"][0]
        raw = bytearray(base64.b64decode(entry["sig"]))
        raw[-1] ^= 0x01
        entry["sig"] = base64.b64encode(bytes(raw)).decode()

    bundle = edit_bundle(signed.read_bytes(), flip_last_byte)
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_bundle(bundle, keys.public_key)


def test_bundle_naming_another_key_fails_verification(
    signed: Path, other_keys: KeyPairPaths
) -> None:
    with pytest.raises(VerificationFailed, match="signed by another key"):
        verify_bundle(signed.read_bytes(), other_keys.public_key)


def test_wrong_key_fails_verification_even_without_a_key_hint(
    signed: Path, other_keys: KeyPairPaths
) -> None:
    def drop_hint(document: dict[str, Any]) -> None:
        del document["verificationMaterial"]["publicKey"]["hint"]

    bundle = edit_bundle(signed.read_bytes(), drop_hint)
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_bundle(bundle, other_keys.public_key)


def test_garbage_bytes_are_invalid_input(keys: KeyPairPaths) -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        verify_bundle(b"\x89PNG\r\n\x1a\n not a bundle", keys.public_key)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.pop("dsseEnvelope"), "dsseEnvelope"),
        (lambda d: d.update(mediaType="application/json"), "mediaType"),
        (lambda d: d.pop("verificationMaterial"), "verificationMaterial"),
        (lambda d: d["dsseEnvelope"].update(payloadType="text/plain"), "payloadType"),
        (lambda d: d["dsseEnvelope"].update(payload="%%%"), "dsseEnvelope.payload"),
        (lambda d: d["dsseEnvelope"].update(signatures=[]), "dsseEnvelope.signatures"),
        (lambda d: d["dsseEnvelope"]["signatures"][0].pop("sig"), "signatures\\[0\\].sig"),
    ],
)
def test_malformed_bundle_fields_are_invalid_input_naming_the_field(
    signed: Path, keys: KeyPairPaths, change: Any, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        verify_bundle(edit_bundle(signed.read_bytes(), change), keys.public_key)


def test_validly_signed_statement_that_is_not_an_oms_manifest_is_invalid_input(
    keys: KeyPairPaths,
) -> None:
    payload = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": []}).encode()
    key = load_private_key(keys.private_key)
    sig = key.sign(pae(payload), ec.ECDSA(hashes.SHA256()))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": keys.fingerprint}},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(sig).decode(), "keyid": ""}],
        },
    }
    with pytest.raises(InvalidInput, match="not an OMS v1.0 manifest"):
        verify_bundle(json.dumps(bundle).encode(), keys.public_key)


# --- keys ---------------------------------------------------------------------------------------


def test_ed25519_keys_are_invalid_input(tmp_path: Path, snapshot: Path) -> None:
    key = write_pem(tmp_path / "ed.pem", ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(InvalidInput, match="not an elliptic-curve key"):
        sign_manifest(hash_model(snapshot), key)
    with pytest.raises(InvalidInput, match="not an elliptic-curve key"):
        load_public_key(tmp_path / "ed.pem.pub")


def test_ec_keys_on_other_curves_are_invalid_input(tmp_path: Path) -> None:
    key = write_pem(tmp_path / "k1.pem", ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(InvalidInput, match="unsupported curve secp256k1"):
        load_private_key(key)
    with pytest.raises(InvalidInput, match="unsupported curve secp256k1"):
        load_public_key(tmp_path / "k1.pem.pub")


def test_non_pem_and_swapped_key_files_are_invalid_input(keys: KeyPairPaths) -> None:
    with pytest.raises(InvalidInput, match="not a PEM public key"):
        load_public_key(keys.private_key)
    with pytest.raises(InvalidInput, match="not a readable PEM private key"):
        load_private_key(keys.public_key)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_private_key(keys.private_key.with_name("missing.pem"))


def test_encrypted_private_key_needs_its_password(tmp_path: Path) -> None:
    path = tmp_path / "locked.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter2"),
        )
    )
    with pytest.raises(InvalidInput, match="is encrypted"):
        load_private_key(path)
    assert load_private_key(path, b"hunter2").curve.name == "secp256r1"


def test_generated_private_key_is_readable_by_its_owner_only(keys: KeyPairPaths) -> None:
    assert keys.private_key.stat().st_mode & 0o777 == 0o600
    assert keys.public_key == keys.private_key.with_name("signer.pem.pub")
    assert load_private_key(keys.private_key).curve.name == "secp256r1"
    assert load_public_key(keys.public_key).curve.name == "secp256r1"


def test_generate_key_pair_refuses_to_overwrite_a_key(keys: KeyPairPaths) -> None:
    before = keys.private_key.read_bytes()
    with pytest.raises(InvalidInput, match="exists already"):
        generate_key_pair(keys.private_key)
    assert keys.private_key.read_bytes() == before


def test_generate_key_pair_refuses_when_only_the_public_key_exists(tmp_path: Path) -> None:
    (tmp_path / "k.pem.pub").write_text("keep me")
    with pytest.raises(InvalidInput, match="exists already"):
        generate_key_pair(tmp_path / "k.pem")
    assert not (tmp_path / "k.pem").exists()


def test_generate_key_pair_overwrites_when_asked(keys: KeyPairPaths) -> None:
    keys.private_key.chmod(0o644)
    fresh = generate_key_pair(keys.private_key, overwrite=True)
    assert fresh.fingerprint != keys.fingerprint
    assert fresh.private_key.stat().st_mode & 0o777 == 0o600
