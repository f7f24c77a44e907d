"""Model intake: hash, scan, read the card, and register a version — one transaction, one ledger
entry per state change.

    >>> import pathlib, tempfile
    >>> from modelsteward.config import Settings
    >>> from modelsteward.bootstrap import init_workspace
    >>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.json").write_text('{"model_type": "tiny"}')
    >>> result = app.models.add(IntakeRequest(path=folder, name="tiny"))
    >>> result.version.ref, result.created
    ('tiny@1', True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from modelsteward.artifacts.manifest import ModelManifest, hash_model
from modelsteward.artifacts.modelcard import ModelCard, ModelConfig, read_card, read_config
from modelsteward.errors import Conflict, InvalidInput
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import (
    ModelStatus,
    ModelVersion,
    RiskTier,
    check_name,
    hub_id_from_source,
    supplier_id_from_source,
)
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.types import format_time, utc_now

if TYPE_CHECKING:  # the scanners (onnx, gguf, fickling) are imported only when a model is added
    from modelsteward.artifacts.scanning import ScanReport

__all__ = [
    "IntakeProgress",
    "IntakeRequest",
    "IntakeResult",
    "build_record",
    "check_acceptances",
    "conflict_for_other_name",
    "existing_differences",
    "observation_for",
    "register_version",
    "scan_and_hash",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LICENSE_FILES = re.compile(r"^(licen[cs]e|copying|notice)", re.IGNORECASE)
_RELEASE_NOTES = re.compile(r"^(changelog|changes|release|news|history)", re.IGNORECASE)
_INERT = {"json", "text"}


@dataclass(frozen=True)
class IntakeRequest:
    """What ``steward model add`` was asked to register (validated by :meth:`checked`)."""

    path: Path
    name: str
    source: str | None = None
    revision: str | None = None
    steward: str | None = None
    tier: str | None = None  # default: exploratory
    intended_use: str | None = None
    prohibited_use: str | None = None
    #: unscanned files the user accepts explicitly, with the reason (recorded in the ledger)
    unsafe_accept_unscanned: Mapping[str, str] = field(default_factory=dict)

    def checked(self) -> IntakeRequest:
        """Validate every field before any file is read; raises ``InvalidInput``."""
        check_name(self.name)
        if self.tier is not None:
            RiskTier.parse(self.tier)
        if self.steward is not None and not _EMAIL.match(self.steward):
            raise InvalidInput(
                f"--steward {self.steward!r} is not an e-mail address",
                hint="name the owner by e-mail, e.g. --steward ada@example.com",
            )
        if self.source is not None:
            parsed = urlparse(self.source)
            if parsed.scheme not in {"http", "https"} or not parsed.hostname:
                raise InvalidInput(
                    f"--source {self.source!r} is not an http(s) URL",
                    hint="e.g. --source https://huggingface.co/nvidia/Alpamayo-R1-10B",
                )
        if self.revision is not None and not re.fullmatch(r"[\w.\-/+]{1,128}", self.revision):
            raise InvalidInput(
                f"--revision {self.revision!r} is not a revision",
                hint="give the commit hash or tag of the snapshot",
            )
        for rel, reason in self.unsafe_accept_unscanned.items():
            if not reason.strip():
                raise InvalidInput(
                    f"accepting unscanned file {rel!r} needs a reason",
                    hint="--reason 'reviewed by …'",
                )
        return self


@dataclass(frozen=True)
class IntakeResult:
    """The registered (or already registered) version and what intake found."""

    version: ModelVersion
    created: bool
    manifest: ModelManifest
    scan: ScanReport
    ignored: tuple[str, ...] = ()  # options that differ from the existing record and were ignored


@dataclass
class IntakeProgress:
    """Callbacks for progress bars (all optional)."""

    on_plan: Callable[[int, int], None] | None = None
    on_bytes: Callable[[int], None] | None = None
    on_scan: Callable[[str], None] | None = None


def _scan_summary(report: ScanReport, accepted: Mapping[str, str]) -> dict[str, Any]:
    from modelsteward.artifacts.scanning import Verdict

    blocking = report.blocking(accepted.keys())
    return {
        "safe": sum(1 for f in report.files if f.verdict == Verdict.SAFE),
        "unsafe": [f.path for f in report.unsafe],
        "unscanned": [f.path for f in report.unscanned],
        "accepted": dict(sorted(accepted.items())),
        "blocking": [f.path for f in blocking],
        "findings": {f.path: list(f.findings) for f in report.files if f.findings},
        "scanners": dict(sorted(report.scanners.items())),
    }


def _supplier_observation(manifest: ModelManifest, card: ModelCard) -> dict[str, Any]:
    tops = [f.path for f in manifest.files if "/" not in f.path]
    have, of = card.completeness
    return {
        "license_file": any(_LICENSE_FILES.match(p) for p in tops),
        "release_notes": any(_RELEASE_NOTES.match(p) for p in tops),
        "card_present": card.present,
        "card_completeness": f"{have}/{of}",
        "declared_license": card.license_name if card.license == "other" else card.license,
        "declared_datasets": list(card.datasets),
    }


def _gaps(request: IntakeRequest, card: ModelCard, config: ModelConfig) -> tuple[str, ...]:
    gaps = [f"card: {g}" for g in card.gaps] + [f"config: {g}" for g in config.gaps]
    if not request.source:
        gaps.append("no --source: the upstream repository and supplier are unknown")
    if not request.revision:
        gaps.append("no --revision: the exact upstream revision is unknown")
    if not request.steward:
        gaps.append("no --steward: nobody owns this model")
    if not request.intended_use and not card.intended_use:
        gaps.append("no intended use given or declared")
    return tuple(gaps)


def _framework(card: ModelCard, config: ModelConfig, report: ScanReport) -> dict[str, str]:
    framework = dict(sorted(config.framework_versions.items()))
    if card.library_name:
        framework["library"] = card.library_name
    for verdict in report.files:
        for key in ("opsets", "producer"):
            if key in verdict.details and f"{verdict.format}.{key}" not in framework:
                framework[f"{verdict.format}.{key}"] = str(verdict.details[key])
    return framework


def build_record(
    request: IntakeRequest,
    manifest: ModelManifest,
    report: ScanReport,
    *,
    version: int,
    actor: str,
    blobs: tuple[Any, Any],
) -> ModelVersion:
    """The inventory record for a new version (pure; the caller stores it)."""
    root = request.path
    card = read_card(root) if root.is_dir() else ModelCard.missing("single-file model: no card")
    config = read_config(root) if root.is_dir() else ModelConfig(gaps=("single-file model",))
    summary = _scan_summary(report, request.unsafe_accept_unscanned)
    formats = sorted({f.format for f in report.files if f.format not in _INERT})
    return ModelVersion(
        name=request.name,
        version=version,
        digest=manifest.root_digest,
        status=ModelStatus.BLOCKED if summary["blocking"] else ModelStatus.REGISTERED,
        tier=RiskTier.parse(request.tier or RiskTier.EXPLORATORY.value),
        source=request.source,
        revision=request.revision,
        steward=request.steward,
        intended_use=request.intended_use or card.intended_use,
        prohibited_use=request.prohibited_use,
        formats=tuple(formats),
        size=manifest.total_size,
        file_count=len(manifest.files),
        license=card.license,
        license_name=card.license_name,
        license_link=card.license_link,
        base_models=card.base_models,
        base_model_relation=card.base_model_relation,
        datasets=card.datasets,
        framework=_framework(card, config, report),
        supplier=supplier_id_from_source(request.source),
        card=card.to_dict(),
        config=config.to_dict(),
        scan=summary,
        manifest_blob=blobs[0],
        scan_blob=blobs[1],
        registered_at=format_time(utc_now()),
        registered_by=actor,
        gaps=_gaps(request, card, config),
    )


def check_acceptances(request: IntakeRequest, report: ScanReport) -> None:
    """Only files the scanner left unscanned can be accepted."""
    unscanned = {f.path for f in report.unscanned}
    for rel in request.unsafe_accept_unscanned:
        if rel not in unscanned:
            raise InvalidInput(
                f"--unsafe-accept-unscanned {rel!r}: no unscanned file has that path",
                hint="unscanned files: " + (", ".join(sorted(unscanned)) or "none"),
            )


def existing_differences(existing: ModelVersion, request: IntakeRequest) -> tuple[str, ...]:
    """Options given now that differ from the record already registered."""
    asked = {
        "tier": request.tier.strip().lower() if request.tier else None,
        "source": request.source,
        "revision": request.revision,
        "steward": request.steward,
        "intended_use": request.intended_use,
        "prohibited_use": request.prohibited_use,
    }
    have = existing.to_dict()
    return tuple(
        f"{key}: registered as {have[key]!r}; {value!r} ignored"
        for key, value in asked.items()
        if value is not None and value != have[key]
    )


def register_version(
    registry: SqlRegistry,
    ledger: SqlLedgerTxn,
    record: ModelVersion,
    observation: dict[str, Any],
) -> None:
    """Store a new version, its lineage and supplier observation, and write the ledger entries
    (all on the caller's transaction)."""
    drafts = []
    supplier = record.supplier
    if supplier and registry.supplier(supplier) is None:
        registry.add_supplier(supplier, record.registered_at)
        drafts.append(
            EntryDraft(
                "supplier.registered",
                record.registered_by,
                f"supplier:{supplier}",
                {"supplier": supplier, "first_model": str(record.digest)},
            )
        )
    if supplier:
        registry.observe_supplier(supplier, record.digest, record.registered_at, observation)
    registry.insert_version(record, hub_id_from_source(record.source))
    payload = record.to_dict()
    payload["supplier_observation"] = observation
    drafts.append(
        EntryDraft("model.registered", record.registered_by, f"model:{record.digest}", payload)
    )
    append_entries(ledger, drafts)


def observation_for(manifest: ModelManifest, record: ModelVersion) -> dict[str, Any]:
    """The supplier observation stored with a registration."""
    card = ModelCard.from_dict(record.card)
    data = _supplier_observation(manifest, card)
    data.update(model=record.ref, digest=str(record.digest), revision=record.revision)
    safe: dict[str, Any] = json.loads(json.dumps(data))
    return safe


def scan_and_hash(
    request: IntakeRequest, progress: IntakeProgress
) -> tuple[ModelManifest, ScanReport]:
    """Hash then scan the files (raises ``InvalidInput`` for an unacceptable folder)."""
    from modelsteward.artifacts.scanning import scan_model

    manifest = hash_model(request.path, on_plan=progress.on_plan, on_bytes=progress.on_bytes)
    report = scan_model(request.path, on_file=progress.on_scan)
    return manifest, report


def conflict_for_other_name(existing: ModelVersion, name: str) -> Conflict:
    """The same content already registered under another name."""
    return Conflict(
        f"this content is already registered as {existing.ref} ({existing.digest})",
        hint=f"identity is content: use an alias, e.g. steward model alias {existing.name}@"
        f"… {existing.ref}",
    )
