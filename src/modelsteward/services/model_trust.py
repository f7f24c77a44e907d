"""Signing, verification and the AI bill of materials of registered model versions.

>>> import pathlib, tempfile
>>> from modelsteward.config import Settings
>>> from modelsteward.bootstrap import init_workspace
>>> from modelsteward.services.intake import IntakeRequest
>>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "config.json").write_text('{"model_type": "tiny"}')
>>> _ = app.models.add(IntakeRequest(path=folder, name="tiny"))
>>> app.trust.verify("tiny", folder).ok
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelsteward import __version__
from modelsteward.artifacts.manifest import ManifestDiff, ModelManifest, hash_model
from modelsteward.artifacts.signing import (
    SignatureCheck,
    key_fingerprint,
    load_private_key,
    sign_manifest,
    verify_bundle,
)
from modelsteward.errors import InvalidInput, PolicyDenied, VerificationFailed
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import ModelStatus, ModelVersion
from modelsteward.services.models import ModelService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlRuns
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.types import Digest

__all__ = ["ModelTrustService", "Verification"]


@dataclass(frozen=True)
class Verification:
    """The outcome of ``steward model verify``."""

    version: ModelVersion
    path: Path
    diff: ManifestDiff
    actual_digest: str
    signature: SignatureCheck | None = None
    signature_problem: str | None = None

    @property
    def ok(self) -> bool:
        """Files match the registered manifest and, when given, the signature covers them."""
        return self.diff.clean and self.signature_problem is None

    def problems(self) -> list[str]:
        """Each reason verification failed, one line each."""
        out = self.diff.describe()
        if self.signature_problem:
            out.append(f"signature: {self.signature_problem}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (also the ledger payload, minus the local path)."""
        return {
            "ok": self.ok,
            "model": self.version.ref,
            "expected_digest": str(self.version.digest),
            "actual_digest": self.actual_digest,
            "changed": list(self.diff.changed),
            "missing": list(self.diff.missing),
            "extra": list(self.diff.extra),
            "signature_checked": self.signature is not None or self.signature_problem is not None,
            "signature_key": self.signature.key_hint if self.signature else None,
            "signature_problem": self.signature_problem,
        }


class ModelTrustService:
    """Sign, verify and describe registered versions."""

    def __init__(self, models: ModelService) -> None:
        self.models = models

    def sign(self, ref: str, key: Path, out: Path) -> tuple[ModelVersion, str]:
        """Write an OMS signature bundle over the registered manifest; recorded in the ledger.

        Returns the version and the key fingerprint. Blocked versions are not signed.
        """
        version = self.models.get(ref)
        if version.status == ModelStatus.BLOCKED:
            raise PolicyDenied(
                f"{version.ref} is blocked ({', '.join(version.scan['blocking'])}); not signing",
                hint="a blocked version can be inspected, never signed or promoted",
            )
        fingerprint = key_fingerprint(load_private_key(key).public_key())
        bundle = sign_manifest(self.models.manifest(version), key)
        out = out.expanduser()
        if out.is_dir():
            raise InvalidInput(f"--out {out} is a folder", hint="give a file name, e.g. model.sig")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(bundle)
        except OSError as exc:
            raise InvalidInput(f"cannot write {out}: {exc.strerror}", hint="check --out") from exc
        stored = self.models.workspace.blobs.put(bundle)
        with self.models.db.write() as conn:
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "model.signed",
                        self.models.actor,
                        f"model:{version.digest}",
                        {
                            "model": version.ref,
                            "digest": str(version.digest),
                            "key_fingerprint": fingerprint,
                            "bundle": str(stored),
                            "format": "oms-v1.0",
                        },
                    )
                ],
            )
            SqlRegistry(conn).add_signature(
                entry.seq, version.digest, fingerprint, stored, entry.time, self.models.actor
            )
        return version, fingerprint

    def verify(
        self,
        ref: str,
        path: Path,
        *,
        signature: Path | None = None,
        public_key: Path | None = None,
        record: bool = True,
    ) -> Verification:
        """Re-hash ``path`` and compare with the registered manifest (and the signature).

        Bad input (missing path, only one of signature/public key, malformed bundle) raises
        ``InvalidInput`` and records nothing; a mismatch is a result, recorded in the ledger.
        """
        if (signature is None) != (public_key is None):
            raise InvalidInput(
                "--signature and --public-key go together",
                hint="give both to check the signature, or neither to check the files only",
            )
        version = self.models.get(ref)
        bundle = _read(signature) if signature else None
        actual = hash_model(path)
        diff = self.models.manifest(version).diff(actual)
        check: SignatureCheck | None = None
        problem: str | None = None
        if bundle is not None and public_key is not None:
            check, problem = _check_signature(bundle, public_key, version, actual)
        result = Verification(version, path, diff, str(actual.root_digest), check, problem)
        if record:
            with self.models.db.write() as conn:
                append_entries(
                    SqlLedgerTxn(conn),
                    [
                        EntryDraft(
                            "model.verified",
                            self.models.actor,
                            f"model:{version.digest}",
                            result.to_dict(),
                        )
                    ],
                )
        return result

    def bom(self, ref: str) -> str:
        """The CycloneDX 1.6 AI-BOM of a version, validated against the official schema."""
        # imported here: the schema validator takes over a second to import
        from modelsteward.bom.cyclonedx import Ancestor, TrainingData, render_cyclonedx

        version = self.models.get(ref)
        lineage = self.models.lineage(version, depth=0)
        ancestors = [Ancestor(a.declared, a.relation, a.version) for a in lineage.ancestors]
        with self.models.db.read() as conn:
            runs = SqlRuns(conn).producing([str(version.digest)]).get(str(version.digest), [])
        training = [
            TrainingData(item.name, Digest.parse(item.digest), item.license, run.id)
            for run in runs
            for item in run.datasets
        ]
        return render_cyclonedx(
            version,
            self.models.manifest(version),
            ancestors,
            tool_version=__version__,
            training_data=training,
        )


def _read(path: Path) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except FileNotFoundError as exc:
        raise InvalidInput(f"signature file {path} does not exist") from exc
    except OSError as exc:
        raise InvalidInput(f"cannot read signature file {path}: {exc.strerror}") from exc


def _check_signature(
    bundle: bytes, public_key: Path, version: ModelVersion, actual: ModelManifest
) -> tuple[SignatureCheck | None, str | None]:
    try:
        check = verify_bundle(bundle, public_key)
    except VerificationFailed as exc:
        return None, exc.message
    if check.root_digest != version.digest:
        signed = check.manifest.diff(actual)
        return check, (
            f"the signature covers {check.root_digest}, not {version.ref} ({version.digest})"
            + (f"; vs the files: {'; '.join(signed.describe())}" if not signed.clean else "")
        )
    return check, None
