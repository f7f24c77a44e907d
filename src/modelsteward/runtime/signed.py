"""Signed runtime envelopes: an envelope bound to one model's files, and attestation of a folder.

A signed envelope is a DSSE envelope whose payload is an in-toto Statement v1: the subject is the
model (its OMS root digest), the predicate (``https://steward.dev/runtime-envelope/v1``) carries
the whole envelope document, its digest, the model's file list and the signing time. The
signature is ECDSA over the DSSE pre-authentication encoding, made with the same EC keys as OMS
model signatures (``steward keys new``). Because the file list is signed, attestation names
exactly which deployed files were changed, are missing or are extra. Format: ``docs/envelope.md``.

    >>> import datetime, pathlib, tempfile
    >>> from modelsteward.artifacts.manifest import hash_model
    >>> from modelsteward.artifacts.signing import generate_key_pair
    >>> from modelsteward.runtime.envelope import Envelope, example_envelope
    >>> work = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (work / "model").mkdir(), (work / "model" / "weights.bin").write_bytes(b"abc")
    >>> keys = generate_key_pair(work / "key.pem")
    >>> now = datetime.datetime.now(datetime.UTC)
    >>> data = sign_envelope(Envelope.from_dict(example_envelope()), hash_model(work / "model"),
    ...                      keys.private_key, model_ref="tiny@1", signed_at=now)
    >>> signed = load_signed_envelope(data, keys.public_key)
    >>> signed.model_ref, attest(signed, work / "model").ok
    ('tiny@1', True)
    >>> _ = (work / "model" / "weights.bin").write_bytes(b"abd")
    >>> attest(signed, work / "model").changed
    ('weights.bin',)

Only the standard library, ``cryptography`` and Steward's stdlib-only modules: a vehicle process
imports this to refuse to start on files or limits nobody approved.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from modelsteward.artifacts.manifest import (
    STATEMENT_TYPE,
    FileDigest,
    ModelManifest,
    hash_model,
)
from modelsteward.artifacts.signing import (
    PAYLOAD_TYPE,
    SUPPORTED_CURVES,
    key_fingerprint,
    load_private_key,
    load_public_key,
    pae,
)
from modelsteward.errors import InvalidInput, MalformedEvidence, VerificationFailed
from modelsteward.runtime._fields import FieldReader
from modelsteward.runtime.envelope import Envelope, canonical_json
from modelsteward.types import Digest, format_time, parse_time

__all__ = [
    "PREDICATE_TYPE",
    "Attestation",
    "SignedEnvelope",
    "attest",
    "attest_or_raise",
    "load_signed_envelope",
    "read_signed_envelope_unverified",
    "sign_envelope",
]

PREDICATE_TYPE = "https://steward.dev/runtime-envelope/v1"
_SOURCE = "signed envelope"
_RESIGN = "sign the envelope again with `steward envelope sign`"


@dataclass(frozen=True)
class SignedEnvelope:
    """The contents of a signed envelope file.

    Attributes:
        envelope: The validated envelope.
        model_digest: OMS root digest of the model it is bound to.
        model_ref: ``NAME@VERSION`` when signed from the registry, else ``None``.
        model_name: The statement's subject name.
        model_files: Every file of the model (path, SHA-256, size; size ``-1`` when unknown).
        ignore_paths: Paths the model's manifest leaves out (attestation leaves them out too).
        signed_at: When it was signed (UTC).
        key_id: Fingerprint of the signing key (SHA-256 of its public key PEM).
        statement_digest: SHA-256 of the signed payload bytes: the signed envelope's identity.
        signature_checked: False when read with :func:`read_signed_envelope_unverified`.
    """

    envelope: Envelope
    model_digest: Digest
    model_ref: str | None
    model_name: str
    model_files: tuple[FileDigest, ...]
    ignore_paths: tuple[str, ...]
    signed_at: datetime
    key_id: str
    statement_digest: Digest
    signature_checked: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the envelope document itself under ``envelope``)."""
        return {
            "signature_checked": self.signature_checked,
            "key_id": self.key_id,
            "statement_digest": str(self.statement_digest),
            "signed_at": format_time(self.signed_at),
            "envelope_name": self.envelope.name,
            "envelope_digest": str(self.envelope.digest),
            "model": {
                "name": self.model_name,
                "ref": self.model_ref,
                "digest": str(self.model_digest),
                "files": len(self.model_files),
            },
            "envelope": self.envelope.to_dict(),
        }


@dataclass(frozen=True)
class Attestation:
    """Whether a folder holds exactly the model a signed envelope is bound to.

    Attributes:
        ok: True only when every signed file is present, unchanged, and nothing is extra.
        expected: The signed model digest.
        found: The folder's digest, or ``None`` when it could not be hashed.
        message: One line for humans, naming the first differences.
        changed: Signed files whose content differs.
        missing: Signed files that are absent.
        extra: Files present that were not signed.
    """

    ok: bool
    expected: Digest
    found: Digest | None
    message: str
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ok": self.ok,
            "expected": str(self.expected),
            "found": str(self.found) if self.found else None,
            "changed": list(self.changed),
            "missing": list(self.missing),
            "extra": list(self.extra),
            "message": self.message,
        }


def sign_envelope(
    envelope: Envelope,
    manifest: ModelManifest,
    private_key: Path,
    *,
    model_ref: str | None,
    signed_at: datetime,
    password: bytes | None = None,
) -> bytes:
    """Bind ``envelope`` to the model ``manifest`` describes and sign it.

    Args:
        envelope: A validated envelope.
        manifest: The model's manifest (the registered one, so the files are the approved ones).
        private_key: PEM EC private key (P-256, P-384 or P-521).
        model_ref: ``NAME@VERSION`` of the model, recorded in the statement (or ``None``).
        signed_at: Timezone-aware signing time.
        password: Passphrase of an encrypted key.

    Returns:
        The signed envelope file: DSSE JSON, UTF-8.

    Raises:
        InvalidInput: The key cannot be used, or ``signed_at`` is naive.
    """
    key = load_private_key(private_key, password)
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": model_ref or manifest.name, "digest": {"sha256": manifest.root_digest.hex}}
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "envelope": envelope.to_dict(),
            "envelope_digest": str(envelope.digest),
            "model": {
                "digest": str(manifest.root_digest),
                "ref": model_ref,
                "files": [asdict(f) for f in manifest.files],
                "ignore_paths": list(manifest.ignore_paths),
            },
            "signed_at": format_time(signed_at),
        },
    }
    payload = canonical_json(statement)
    signature = key.sign(pae(payload), ec.ECDSA(SUPPORTED_CURVES[key.curve.name]))
    keyid, sig = key_fingerprint(key.public_key()), base64.b64encode(signature).decode()
    document = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": keyid, "sig": sig}],
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def load_signed_envelope(data: bytes, public_key: Path) -> SignedEnvelope:
    """Verify a signed envelope with ``public_key``, then parse and cross-check its statement.

    Raises:
        InvalidInput: The file or key is malformed; the message names the field.
        VerificationFailed: The signature does not verify with this key (another key signed it,
            or the payload was changed), or the signed digests disagree with what they cover.
    """
    key = load_public_key(public_key)
    payload, signatures = _parse_dsse(data)
    fingerprint = key_fingerprint(key)
    candidates = [sig for keyid, sig in signatures if keyid in ("", fingerprint)]
    if not candidates:
        raise VerificationFailed(
            f"{_SOURCE}: signed by another key (keyid {signatures[0][0][:16]}…; "
            f"{public_key} is {fingerprint[:16]}…)",
            hint="verify with the public key of whoever signed the envelope",
        )
    algorithm = ec.ECDSA(SUPPORTED_CURVES[key.curve.name])
    for signature in candidates:
        try:
            key.verify(signature, pae(payload), algorithm)
            break
        except InvalidSignature:
            continue
    else:
        raise VerificationFailed(
            f"{_SOURCE}: the signature does not verify with {public_key}: "
            "the payload was changed after signing, or another key signed it",
            hint="obtain the signed envelope again from its signer; never run with this one",
        )
    return _parse_statement(payload, fingerprint, checked=True)


def read_signed_envelope_unverified(data: bytes) -> SignedEnvelope:
    """Parse a signed envelope WITHOUT checking its signature: for display only.

    The result has ``signature_checked=False`` and :func:`attest` refuses it.

    Raises:
        InvalidInput: The file is malformed; the message names the field.
        VerificationFailed: The signed digests disagree with what they cover.
    """
    payload, signatures = _parse_dsse(data)
    return _parse_statement(payload, signatures[0][0], checked=False)


def attest(signed: SignedEnvelope, model_dir: Path) -> Attestation:
    """Re-hash ``model_dir`` and compare it file by file with the model ``signed`` is bound to.

    Fails closed: a missing, empty or unreadable folder, or an envelope whose signature was not
    checked, is a failed attestation (``ok`` false), never an exception.
    """
    expected = signed.model_digest
    model = signed.model_ref or signed.model_name
    if not signed.signature_checked:
        reason = "the signed envelope was read without checking its signature; load it with a key"
        return Attestation(False, expected, None, reason)
    try:
        actual = hash_model(model_dir, ignore=signed.ignore_paths)
    except (InvalidInput, OSError) as exc:
        reason = exc.message if isinstance(exc, InvalidInput) else str(exc)
        return Attestation(False, expected, None, f"{model_dir} cannot be attested: {reason}")
    diff = ModelManifest(signed.model_name, signed.model_files).diff(actual)
    found = actual.root_digest
    if diff.clean and found == expected:
        return Attestation(True, expected, found, f"{model_dir} is {model} ({expected})")
    lines = diff.describe() or [f"digest {found} differs"]
    shown = "; ".join(" ".join(line.split()) for line in lines[:5])
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    message = f"{model_dir} is not {model} ({expected}): {len(lines)} difference(s): {shown}{more}"
    return Attestation(False, expected, found, message, diff.changed, diff.missing, diff.extra)


def attest_or_raise(signed: SignedEnvelope, model_dir: Path) -> Attestation:
    """:func:`attest`, raising :class:`VerificationFailed` (naming the differences) unless ok."""
    result = attest(signed, model_dir)
    if not result.ok:
        raise VerificationFailed(
            result.message,
            hint="the deployed files are not the model this envelope was signed for; do not start",
        )
    return result


def _parse_dsse(data: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"{_SOURCE}: not JSON ({exc})",
            hint="give the file written by `steward envelope sign`",
        ) from exc
    reader = FieldReader(document, "", source=_SOURCE)
    payload_type = reader.text("payloadType")
    if payload_type != PAYLOAD_TYPE:
        raise reader.error("payloadType", f"must be {PAYLOAD_TYPE!r}, found {payload_type!r}")
    payload = _base64(reader, "payload", reader.raw("payload"))
    entries = reader.raw("signatures")
    reader.done()
    if not isinstance(entries, list) or not entries:
        raise reader.error("signatures", "must be a non-empty list of {keyid, sig}")
    signatures: list[tuple[str, bytes]] = []
    for index, entry in enumerate(entries):
        item = FieldReader(entry, f"signatures[{index}]", source=_SOURCE)
        keyid = item.raw("keyid", "")
        if not isinstance(keyid, str):
            raise item.error("keyid", "must be a string")
        signatures.append((keyid, _base64(item, "sig", item.raw("sig"))))
        item.done()
    return payload, signatures


def _base64(reader: FieldReader, key: str, value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise reader.error(key, "must be a non-empty base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise reader.error(key, "is not valid base64") from exc


def _parse_statement(payload: bytes, key_id: str, *, checked: bool) -> SignedEnvelope:
    try:
        statement = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{_SOURCE}: payload is not JSON ({exc})", hint=_RESIGN) from exc
    top = FieldReader(statement, "payload", source=_SOURCE)
    for key, expected in (("_type", STATEMENT_TYPE), ("predicateType", PREDICATE_TYPE)):
        found = top.text(key)
        if found != expected:
            raise top.error(key, f"must be {expected!r}, found {found!r}")
    subjects = top.raw("subject")
    if not isinstance(subjects, list) or len(subjects) != 1:
        raise top.error("subject", "must list exactly one subject (the model)")
    subject = FieldReader(subjects[0], "payload.subject[0]", source=_SOURCE)
    name = subject.text("name")
    digests = subject.sub("digest")
    subject_digest = _digest(digests, "sha256", bare=True)
    digests.done()
    subject.done()
    predicate = top.sub("predicate")
    top.done()
    signed = _parse_predicate(predicate, name, key_id, Digest.of(payload), checked)
    if subject_digest != signed.model_digest:
        raise VerificationFailed(
            f"{_SOURCE}: subject digest {subject_digest} is not the predicate's model digest "
            f"{signed.model_digest}",
            hint=_RESIGN,
        )
    return signed


def _parse_predicate(
    reader: FieldReader, name: str, key_id: str, statement_digest: Digest, checked: bool
) -> SignedEnvelope:
    try:
        envelope = Envelope.from_dict(reader.raw("envelope"))
    except InvalidInput as exc:
        raise reader.error("envelope", f"is not a valid envelope ({exc.message})") from exc
    claimed = _digest(reader, "envelope_digest")
    if claimed != envelope.digest:
        raise VerificationFailed(
            f"{_SOURCE}: payload.predicate.envelope_digest {claimed} does not match the "
            f"embedded envelope ({envelope.digest})",
            hint=_RESIGN,
        )
    model_digest, ref, files, ignore = _parse_model(reader.sub("model"), name)
    moment = reader.text("signed_at")
    try:
        signed_at = parse_time(moment)
    except InvalidInput as exc:
        raise reader.error("signed_at", f"{exc.message} ({exc.hint})") from exc
    reader.done()
    return SignedEnvelope(
        envelope=envelope,
        model_digest=model_digest,
        model_ref=ref,
        model_name=name,
        model_files=files,
        ignore_paths=ignore,
        signed_at=signed_at,
        key_id=key_id,
        statement_digest=statement_digest,
        signature_checked=checked,
    )


def _parse_model(
    model: FieldReader, name: str
) -> tuple[Digest, str | None, tuple[FileDigest, ...], tuple[str, ...]]:
    digest = _digest(model, "digest")
    ref = model.raw("ref", None)
    if ref is not None and (not isinstance(ref, str) or not ref.strip()):
        raise model.error("ref", "must be NAME@VERSION or null")
    files = _files(model, name)
    ignore = model.raw("ignore_paths", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) and p for p in ignore):
        raise model.error("ignore_paths", "must be a list of relative paths")
    model.done()
    if files.root_digest != digest:
        raise VerificationFailed(
            f"{_SOURCE}: the signed file list hashes to {files.root_digest}, "
            f"not to the model digest {digest}",
            hint=_RESIGN,
        )
    return digest, ref, files.files, tuple(ignore)


def _files(model: FieldReader, name: str) -> ModelManifest:
    entries = model.raw("files")
    if not isinstance(entries, list) or not entries:
        raise model.error("files", "must be a non-empty list of {path, sha256, size}")
    files: list[FileDigest] = []
    for index, entry in enumerate(entries):
        item = FieldReader(entry, model.path(f"files[{index}]"), source=_SOURCE)
        path = item.text("path")
        sha = _digest(item, "sha256", bare=True).hex
        files.append(FileDigest(path, sha, item.integer("size", minimum=-1)))
        item.done()
    try:
        return ModelManifest(name, tuple(files))
    except MalformedEvidence as exc:
        raise model.error("files", f"is malformed: {exc.message}") from exc


def _digest(reader: FieldReader, key: str, *, bare: bool = False) -> Digest:
    text = reader.text(key)
    value = text if bare else text.removeprefix("sha256:")
    try:
        if bare or value != text:
            return Digest(value)
    except InvalidInput:
        pass
    form = "64 lowercase hex digits" if bare else "sha256:<64 lowercase hex digits>"
    raise reader.error(key, f"must be {form}, found {text!r}")
