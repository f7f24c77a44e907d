"""Signing runtime envelopes against registered model versions, and finding them again.

``sign`` validates the envelope file, resolves the model in the registry (blocked versions are
refused), binds the envelope to the *registered* manifest — so the signed file list is the one
intake hashed and scanned — writes the signed file, stores its bytes as a blob and records one
``envelope.signed`` ledger entry. Everything is checked before anything is written.

>>> import json, pathlib, tempfile
>>> from modelsteward.artifacts.signing import generate_key_pair
>>> from modelsteward.bootstrap import init_workspace
>>> from modelsteward.config import Settings
>>> from modelsteward.runtime.envelope import example_envelope
>>> from modelsteward.services.intake import IntakeRequest
>>> work = pathlib.Path(tempfile.mkdtemp())
>>> app = init_workspace(Settings(home=work / "ws"))
>>> _ = (work / "m").mkdir(), (work / "m" / "config.json").write_text('{"model_type": "tiny"}')
>>> _ = app.models.add(IntakeRequest(path=work / "m", name="tiny"))
>>> _ = (work / "envelope.json").write_text(json.dumps(example_envelope()))
>>> keys = generate_key_pair(work / "signer.pem")
>>> record = app.envelopes.sign(work / "envelope.json", keys.private_key, "tiny", work / "s.json")
>>> [(r.model, r.envelope) for r in app.envelopes.envelopes_for(record.model_digest)]
[('tiny@1', 'highway-pilot')]
>>> app.close()
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput, PolicyDenied, VerificationFailed
from modelsteward.ledger.entry import Entry, EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import ModelStatus, ModelVersion
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.signed import (
    PREDICATE_TYPE,
    SignedEnvelope,
    load_signed_envelope,
    read_signed_envelope_unverified,
    sign_envelope,
)
from modelsteward.services._ledger_query import entries
from modelsteward.services.models import ModelService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.types import Digest, format_time, utc_now
from modelsteward.yamlfile import read_yaml

__all__ = ["ENVELOPE_SIGNED", "EnvelopeRecord", "EnvelopeService"]

ENVELOPE_SIGNED = "envelope.signed"
"""Ledger kind written by :meth:`EnvelopeService.sign`."""


@dataclass(frozen=True)
class EnvelopeRecord:
    """One signed envelope, as its ``envelope.signed`` ledger entry records it.

    Attributes:
        seq: The ledger entry.
        model: ``NAME@VERSION`` the envelope is bound to.
        model_digest: That version's digest.
        envelope: The envelope's ``name``.
        envelope_digest: SHA-256 of the envelope document's canonical JSON.
        statement_digest: SHA-256 of the signed payload (the signed envelope's identity).
        blob: Blob digest of the signed envelope file.
        key_id: Fingerprint of the signing key.
        signed_at: The signing time inside the statement.
        signed_by: The actor who signed.
    """

    seq: int
    model: str
    model_digest: Digest
    envelope: str
    envelope_digest: Digest
    statement_digest: Digest
    blob: Digest
    key_id: str
    signed_at: str
    signed_by: str

    @classmethod
    def from_entry(cls, entry: Entry) -> EnvelopeRecord:
        """Read an ``envelope.signed`` entry."""
        p = entry.payload
        return cls(
            seq=entry.seq,
            model=str(p["model"]),
            model_digest=Digest.parse(p["model_digest"]),
            envelope=str(p["envelope"]),
            envelope_digest=Digest.parse(p["envelope_digest"]),
            statement_digest=Digest.parse(p["statement_digest"]),
            blob=Digest.parse(p["blob"]),
            key_id=str(p["key_id"]),
            signed_at=str(p["signed_at"]),
            signed_by=entry.actor,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: str(v) if isinstance(v, Digest) else v for k, v in values.items()}


class EnvelopeService:
    """Signed runtime envelopes of one workspace."""

    def __init__(self, models: ModelService, *, actor: str) -> None:
        self.models = models
        self.actor = actor

    def sign(self, envelope_file: Path, key: Path, model_ref: str, out: Path) -> EnvelopeRecord:
        """Sign the envelope in ``envelope_file`` (YAML or JSON) for ``model_ref`` into ``out``.

        Raises:
            InvalidInput: A malformed envelope, an unusable key, or ``out`` exists already.
            NotFound: No such model version.
            PolicyDenied: The version is blocked.
        """
        out = _fresh(out)
        envelope = Envelope.from_dict(read_yaml(envelope_file, "envelope file"))
        version = self._signable(model_ref)
        data = sign_envelope(
            envelope,
            self.models.manifest(version),
            key,
            model_ref=version.ref,
            signed_at=utc_now(),
        )
        signed = read_signed_envelope_unverified(data)
        _write_new(out, data)
        try:
            entry = self._record(version, signed, self.models.workspace.blobs.put(data))
        except BaseException:
            out.unlink(missing_ok=True)  # no signed file without its ledger entry
            raise
        return EnvelopeRecord.from_entry(entry)

    def envelopes_for(self, model_digest: Digest | str) -> list[EnvelopeRecord]:
        """Every envelope signed for a model version, oldest first."""
        digest = model_digest if isinstance(model_digest, Digest) else Digest.parse(model_digest)
        with self.models.db.read() as conn:
            found = entries(conn, [ENVELOPE_SIGNED], f"model:{digest}")
        return [EnvelopeRecord.from_entry(entry) for entry in found]

    def signed_file(self, record: EnvelopeRecord) -> bytes:
        """The signed envelope file's bytes, from the blob store (re-hashed on read)."""
        return self.models.workspace.blobs.get(record.blob)

    def load_verified(self, record: EnvelopeRecord, public_key: Path) -> SignedEnvelope:
        """The stored signed envelope, its signature checked with ``public_key``.

        Raises:
            VerificationFailed: The signature does not verify, or the file is not the one the
                ledger entry describes.
        """
        signed = load_signed_envelope(self.signed_file(record), public_key)
        if (signed.statement_digest, signed.model_digest) != (
            record.statement_digest,
            record.model_digest,
        ):
            raise VerificationFailed(
                f"blob {record.blob} is not the signed envelope of ledger entry {record.seq}",
                hint="the blob store and the ledger disagree; run `steward ledger verify`",
            )
        return signed

    def _signable(self, model_ref: str) -> ModelVersion:
        version = self.models.get(model_ref)
        if version.status == ModelStatus.BLOCKED:
            raise PolicyDenied(
                f"{version.ref} is blocked ({', '.join(version.scan['blocking'])}); "
                "not signing an envelope for it",
                hint="a blocked version can be inspected, never signed or deployed",
            )
        return version

    def _record(self, version: ModelVersion, signed: SignedEnvelope, blob: Digest) -> Entry:
        payload = {
            "model": version.ref,
            "model_digest": str(version.digest),
            "envelope": signed.envelope.name,
            "envelope_digest": str(signed.envelope.digest),
            "statement_digest": str(signed.statement_digest),
            "blob": str(blob),
            "key_id": signed.key_id,
            "signed_at": format_time(signed.signed_at),
            "predicate_type": PREDICATE_TYPE,
        }
        draft = EntryDraft(ENVELOPE_SIGNED, self.actor, f"model:{version.digest}", payload)
        with self.models.db.write() as conn:
            (entry,) = append_entries(SqlLedgerTxn(conn), [draft])
        return entry


def _fresh(out: Path) -> Path:
    out = out.expanduser()
    if out.exists() or out.is_symlink():
        raise InvalidInput(
            f"--out {out} exists already; refusing to overwrite a signed envelope",
            hint="choose a new file name (signed envelopes are never replaced in place)",
        )
    return out


def _write_new(out: Path, data: bytes) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("xb")
    except FileExistsError as exc:
        raise InvalidInput(f"--out {out} exists already; refusing to overwrite it") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}", hint="check --out") from exc
    try:
        with handle:
            handle.write(data)
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror}", hint="check --out") from exc
