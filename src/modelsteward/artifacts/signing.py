"""OMS v1.0 signature bundles signed with elliptic-curve keys, interoperable with ``model_signing``.

A bundle is the JSON file ``model_signing sign key`` writes: a Sigstore bundle (v0.3 media type)
whose ``verificationMaterial.publicKey.hint`` is the SHA-256 of the signer's public key PEM and
whose ``dsseEnvelope`` carries the manifest's in-toto statement, signed with ECDSA over the DSSE
pre-authentication encoding. Bundles signed here verify with ``model_signing verify key`` and
bundles it signs verify here; only ``cryptography`` is needed.

    >>> import pathlib, tempfile
    >>> from modelsteward.artifacts.manifest import hash_model
    >>> work = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (work / "model").mkdir(), (work / "model" / "weights.bin").write_bytes(b"abc")
    >>> keys = generate_key_pair(work / "key.pem")
    >>> bundle = sign_manifest(hash_model(work / "model"), keys.private_key)
    >>> check = verify_bundle(bundle, keys.public_key)
    >>> [f.path for f in check.manifest.files], check.key_hint == keys.fingerprint
    (['weights.bin'], True)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from modelsteward.artifacts.manifest import ModelManifest
from modelsteward.errors import InvalidInput, MalformedEvidence, VerificationFailed
from modelsteward.types import Digest

__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "PAYLOAD_TYPE",
    "SUPPORTED_CURVES",
    "KeyPairPaths",
    "SignatureCheck",
    "generate_key_pair",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "pae",
    "sign_manifest",
    "verify_bundle",
]

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
SUPPORTED_CURVES: dict[str, hashes.HashAlgorithm] = {
    "secp256r1": hashes.SHA256(),
    "secp384r1": hashes.SHA384(),
    "secp521r1": hashes.SHA512(),
}
"""Curves ``model_signing`` accepts, each with the hash its ECDSA signatures use."""

_KEY_HINT = "create one with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`"


@dataclass(frozen=True)
class KeyPairPaths:
    """Where :func:`generate_key_pair` wrote a key pair.

    Attributes:
        private_key: PKCS#8 PEM private key (mode 0600).
        public_key: SubjectPublicKeyInfo PEM public key (the private key's path + ``.pub``).
        fingerprint: SHA-256 hex of the public key PEM, the bundle's ``publicKey.hint``.
    """

    private_key: Path
    public_key: Path
    fingerprint: str


@dataclass(frozen=True)
class SignatureCheck:
    """A bundle whose signature verified.

    Attributes:
        manifest: The manifest as signed (file sizes are not signed, so each is ``-1``).
        key_hint: The bundle's ``publicKey.hint`` (empty for bundles older than the hint).
        curve: Curve of the verifying key, e.g. ``secp256r1``.
    """

    manifest: ModelManifest
    key_hint: str
    curve: str

    @property
    def root_digest(self) -> Digest:
        """The signed model version's identity."""
        return self.manifest.root_digest


def pae(payload: bytes, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """DSSE v1 pre-authentication encoding, the bytes a DSSE signature covers.

    Args:
        payload: The raw (not base64) payload.
        payload_type: The envelope's payload type.

    Returns:
        ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, lengths in bytes.
    """
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def key_fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 hex of the key's SubjectPublicKeyInfo PEM, as ``model_signing`` hints it."""
    return hashlib.sha256(_public_pem(public_key)).hexdigest()


def generate_key_pair(out: Path, *, overwrite: bool = False) -> KeyPairPaths:
    """Create a P-256 key pair: the private key at ``out``, the public key at ``out`` + ``.pub``.

    Args:
        out: Path of the private key file (written with mode 0600).
        overwrite: Replace existing files instead of refusing.

    Returns:
        The two paths and the public key fingerprint.

    Raises:
        InvalidInput: A key file exists already (and ``overwrite`` is false), or cannot be written.
    """
    public_path = out.with_name(out.name + ".pub")
    existing = [p for p in (out, public_path) if p.exists() or p.is_symlink()]
    if existing and not overwrite:
        raise InvalidInput(
            f"{existing[0]} exists already; refusing to overwrite a key",
            hint="choose another path, or pass overwrite=True to replace the pair",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = _public_pem(key.public_key())
    try:
        for path in existing:
            path.unlink()
        # O_EXCL so the secret is never briefly readable under a looser, pre-existing mode
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write key pair at {out}: {exc.strerror}",
            hint="check that the folder exists and is writable",
        ) from exc
    return KeyPairPaths(out, public_path, hashlib.sha256(public_pem).hexdigest())


def load_private_key(path: Path, password: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """Read a PEM private key on a supported curve (P-256, P-384 or P-521).

    Args:
        path: PEM file (PKCS#8 or SEC1).
        password: Passphrase of an encrypted key.

    Raises:
        InvalidInput: Unreadable, not PEM, wrongly encrypted, or not a supported EC key.
    """
    data = _read_key_file(path, "private")
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError as exc:
        if password is None:
            raise InvalidInput(f"{path} is encrypted", hint="pass its password") from exc
        raise InvalidInput(f"{path} is not encrypted", hint="pass no password") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(
            f"{path} is not a readable PEM private key (or the password is wrong)",
            hint=_KEY_HINT,
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise _unsupported_key(path, type(key).__name__)
    _check_curve(path, key.curve)
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """Read a SubjectPublicKeyInfo PEM public key on a supported curve.

    Raises:
        InvalidInput: Unreadable, not a PEM public key, or not a supported EC key.
    """
    data = _read_key_file(path, "public")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(
            f"{path} is not a PEM public key",
            hint="give the `BEGIN PUBLIC KEY` PEM file (e.g. key.pem.pub), not the private key",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _unsupported_key(path, type(key).__name__)
    _check_curve(path, key.curve)
    return key


def sign_manifest(
    manifest: ModelManifest, private_key: Path, password: bytes | None = None
) -> bytes:
    """Sign a manifest into an OMS bundle, the JSON ``model_signing sign key`` would write.

    Args:
        manifest: The hashed model.
        private_key: PEM private key on a supported curve.
        password: Passphrase of an encrypted key.

    Returns:
        The bundle as compact UTF-8 JSON.

    Raises:
        InvalidInput: The key cannot be used.
    """
    key = load_private_key(private_key, password)
    # indent=2 mirrors the reference's protobuf MessageToJson; any JSON verifies
    payload = json.dumps(manifest.statement(), indent=2, ensure_ascii=False).encode()
    signature = key.sign(pae(payload), ec.ECDSA(SUPPORTED_CURVES[key.curve.name]))
    bundle = {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_fingerprint(key.public_key())},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
        },
    }
    return json.dumps(bundle, separators=(",", ":")).encode()


def verify_bundle(bundle: bytes, public_key: Path) -> SignatureCheck:
    """Check an OMS bundle's signature with a public key and return the manifest it signs.

    This checks who signed *what*; compare :attr:`SignatureCheck.manifest` with a fresh
    :func:`~modelsteward.artifacts.manifest.hash_model` (``diff``) to check the files themselves.

    Args:
        bundle: The bundle file's bytes.
        public_key: PEM public key of the expected signer.

    Raises:
        InvalidInput: The bundle or key is malformed (the message names the field).
        VerificationFailed: The signature does not verify with this key, or the bundle names
            another key.
    """
    key = load_public_key(public_key)
    document = _parse_json(bundle, "signature bundle")
    if document.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise _bad_field("mediaType", document.get("mediaType"), BUNDLE_MEDIA_TYPE)
    material = _object(document, "verificationMaterial", "")
    hint = _object(material, "publicKey", "verificationMaterial.").get("hint") or ""
    envelope = _object(document, "dsseEnvelope", "")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise _bad_field("dsseEnvelope.payloadType", envelope.get("payloadType"), PAYLOAD_TYPE)
    payload = _base64(envelope.get("payload"), "dsseEnvelope.payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or len(signatures) != 1:
        raise InvalidInput(
            "dsseEnvelope.signatures must hold exactly one signature",
            hint="OMS key-signed bundles carry one signature; re-sign the model",
        )
    entry = signatures[0] if isinstance(signatures[0], dict) else {}
    signature = _base64(entry.get("sig"), "dsseEnvelope.signatures[0].sig")

    fingerprint = key_fingerprint(key)
    if hint and hint != fingerprint:
        raise VerificationFailed(
            f"the bundle was signed by another key (hint {hint[:16]}…, "
            f"{public_key} is {fingerprint[:16]}…)",
            hint="verify with the signer's public key",
        )
    try:
        key.verify(signature, pae(payload), ec.ECDSA(SUPPORTED_CURVES[key.curve.name]))
    except InvalidSignature as exc:
        raise VerificationFailed(
            f"the bundle's signature does not verify with {public_key}: "
            "the signed statement was changed, or another key signed it",
            hint="obtain the bundle again from the signer, or use the signer's public key",
        ) from exc
    statement = _parse_json(payload, "dsseEnvelope.payload")
    try:
        manifest = ModelManifest.from_statement(statement)
    except MalformedEvidence as exc:
        raise InvalidInput(
            f"dsseEnvelope.payload is signed but is not an OMS v1.0 manifest: {exc.message}",
            hint=exc.hint or "sign the model with OMS v1.0 (model_signing >= 1.0 or Steward)",
        ) from exc
    return SignatureCheck(manifest, hint, key.curve.name)


def _public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read_key_file(path: Path, kind: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {kind} key {path}: {exc.strerror}", hint=_KEY_HINT
        ) from exc


def _unsupported_key(path: Path, kind: str) -> InvalidInput:
    return InvalidInput(
        f"{path} holds a {kind.removeprefix('_')}, not an elliptic-curve key",
        hint=f"OMS key signing uses ECDSA on P-256, P-384 or P-521; {_KEY_HINT}",
    )


def _check_curve(path: Path, curve: ec.EllipticCurve) -> None:
    if curve.name not in SUPPORTED_CURVES:
        raise InvalidInput(
            f"{path} is an EC key on unsupported curve {curve.name}",
            hint=f"use P-256, P-384 or P-521; {_KEY_HINT}",
        )


def _parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"{what} is not JSON ({exc})",
            hint="give the .sig file written by `steward sign` or `model_signing sign key`",
        ) from exc
    if not isinstance(document, dict):
        raise InvalidInput(f"{what} is JSON but not an object")
    return document


def _object(parent: dict[str, Any], field: str, prefix: str) -> dict[str, Any]:
    value = parent.get(field)
    if not isinstance(value, dict):
        raise InvalidInput(
            f"signature bundle has no {prefix}{field} object",
            hint="not an OMS bundle signed with a key; re-sign with `model_signing sign key`",
        )
    return value


def _bad_field(field: str, found: object, expected: str) -> InvalidInput:
    return InvalidInput(
        f"signature bundle {field} is {found!r}, expected {expected!r}",
        hint="only OMS bundles signed with an EC key are supported",
    )


def _base64(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"signature bundle {field} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise InvalidInput(f"signature bundle {field} is not valid base64") from exc
