"""Dataset register use cases: snapshot, profile, PII-scan and record a dataset; list and expiry.

>>> import pathlib, tempfile
>>> from modelsteward.config import Settings
>>> from modelsteward.bootstrap import init_workspace
>>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "frames.csv").write_text("frame,speed\\n1,12.5\\n2,13.0\\n")
>>> snap = app.datasets.add(DatasetRequest(
...     path=folder, name="frames", license="CC-BY-4.0", tier="synthetic",
...     consent="not-personal-data", collected="2026-01-01", geography="DE",
...     retention_days=3650, source="simulator")).snapshot
>>> snap.rows, snap.license
(2, 'CC-BY-4.0')
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from modelsteward.artifacts.manifest import ModelManifest, hash_model
from modelsteward.data.records import (
    ConsentBasis,
    Curation,
    DatasetSnapshot,
    DatasetTier,
    OddTags,
    check_dataset_name,
    expires_on,
    parse_collected,
    parse_geography,
)
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlDatasets, SqlLocations, SqlRuns, canonical_json
from modelsteward.storage.workspace import Workspace
from modelsteward.training.records import TrainingRun
from modelsteward.types import Digest, format_time, utc_now
from modelsteward.yamlfile import read_yaml

__all__ = ["DatasetProgress", "DatasetRequest", "DatasetResult", "DatasetService"]


@dataclass(frozen=True)
class DatasetRequest:
    """What ``steward dataset add`` was asked to register."""

    path: Path
    name: str
    license: str
    tier: str
    consent: str
    collected: str
    geography: str
    retention_days: int
    source: str
    exclusions: Path | None = None
    odd_tags: Path | None = None
    source_column: str | None = None
    pii_patterns: Path | None = None


@dataclass(frozen=True)
class DatasetResult:
    """The registered (or already registered) snapshot."""

    snapshot: DatasetSnapshot
    created: bool
    ignored: tuple[str, ...] = ()  # options that differ from the registered record (not applied)


@dataclass
class DatasetProgress:
    """Callbacks for progress bars (all optional)."""

    on_plan: Callable[[int, int], None] | None = None
    on_bytes: Callable[[int], None] | None = None
    on_phase: Callable[[str], None] | None = None


@dataclass(frozen=True)
class _Checked:
    tier: DatasetTier
    consent: ConsentBasis
    license: str
    collected: tuple[str, str]
    geography: tuple[str, ...]
    curation: Curation
    odd_tags: OddTags
    patterns: Any


def check_request(request: DatasetRequest) -> _Checked:
    """Validate every option before a file is read; raises ``InvalidInput``."""
    from modelsteward.data.pii import PiiPatterns
    from modelsteward.licensing.knowledge import KnowledgeBase, normalize_expression

    check_dataset_name(request.name)
    if Digest.looks_like(request.name):
        raise InvalidInput(f"dataset name {request.name!r} looks like a digest")
    if isinstance(request.retention_days, bool) or request.retention_days < 1:
        raise InvalidInput(
            f"--retention-days {request.retention_days} must be 1 or more",
            hint="how many days after collection the data may be used",
        )
    if not request.source.strip():
        raise InvalidInput("--source is empty", hint="say where the data came from")
    if not request.path.expanduser().exists():
        raise InvalidInput(f"{request.path}: no such file or folder")
    curation = (
        Curation.from_mapping(read_yaml(request.exclusions, "--exclusions file"))
        if request.exclusions
        else Curation()
    )
    odd = (
        OddTags.from_mapping(read_yaml(request.odd_tags, "--odd-tags file"))
        if request.odd_tags
        else OddTags()
    )
    patterns = (
        PiiPatterns.from_mapping(read_yaml(request.pii_patterns, "--pii-patterns file") or {})
        if request.pii_patterns
        else PiiPatterns.default()
    )
    return _Checked(
        tier=DatasetTier.parse(request.tier),
        consent=ConsentBasis.parse(request.consent),
        license=normalize_expression(request.license, KnowledgeBase.default()),
        collected=parse_collected(request.collected),
        geography=parse_geography(request.geography),
        curation=curation,
        odd_tags=odd,
        patterns=patterns,
    )


def _profiles(
    root: Path, manifest: ModelManifest, source_column: str | None
) -> dict[str, dict[str, Any]]:
    from modelsteward.data.tabular import TABULAR_SUFFIXES, profile_table

    out: dict[str, dict[str, Any]] = {}
    for item in manifest.files:
        path = root if item.path == "." else root / item.path
        if path.suffix.lower() not in TABULAR_SUFFIXES:
            continue
        profile = profile_table(path, source_column=source_column)
        if profile is not None:
            out[item.path] = profile.to_dict()
    if source_column and not out:
        raise InvalidInput(
            f"--source-column {source_column!r}: the dataset has no CSV, JSON Lines or "
            "Parquet file",
        )
    return out


def _differences(
    existing: DatasetSnapshot, request: DatasetRequest, checked: _Checked
) -> tuple[str, ...]:
    """Options given now that differ from the registered record: a snapshot never changes."""
    asked = {
        "license": (existing.license, checked.license),
        "tier": (existing.tier.value, checked.tier.value),
        "consent": (existing.consent.value, checked.consent.value),
        "collected": ((existing.collected_from, existing.collected_to), checked.collected),
        "geography": (existing.geography, checked.geography),
        "retention_days": (existing.retention_days, request.retention_days),
        "source": (existing.source, request.source.strip()),
    }
    return tuple(
        f"{key}: registered as {have!r}; {want!r} ignored"
        for key, (have, want) in asked.items()
        if have != want
    )


def _pii_summary(report: Any) -> dict[str, Any]:
    """What the record keeps of a PII scan: totals and, per file, column and type, the count
    and redacted samples (the full report is a blob)."""
    return {
        "scanner": report.scanner,
        "counts": dict(sorted(report.counts.items())),
        "bytes_scanned": report.bytes_scanned,
        "rows_scanned": report.rows_scanned,
        "skipped": [{"file": rel, "reason": why} for rel, why in report.skipped],
        "by_column": [
            {
                "file": file.rel,
                "column": finding.column,
                "type": finding.type.value,
                "count": finding.count,
                "samples": list(finding.samples),
            }
            for file in report.files
            for finding in file.findings
        ],
        # valid-looking values without the context that would confirm them (not counted)
        "unconfirmed": [
            {"file": file.rel, "column": u.column, "kind": u.kind, "count": u.count}
            for file in report.files
            for u in file.unconfirmed
        ],
    }


class DatasetService:
    """The dataset register of one workspace."""

    def __init__(self, db: Database, workspace: Workspace, *, actor: str) -> None:
        self.db = db
        self.workspace = workspace
        self.actor = actor

    def add(
        self, request: DatasetRequest, progress: DatasetProgress | None = None
    ) -> DatasetResult:
        """Register a dataset snapshot (idempotent for the same name and content).

        Raises:
            InvalidInput: a bad option or unreadable file; nothing is recorded.
            Conflict: the name is registered for other content, or the content under another name.
        """
        from modelsteward.data.pii import scan_files

        progress = progress or DatasetProgress()
        checked = check_request(request)
        root = request.path.expanduser().resolve()
        manifest = hash_model(root, on_plan=progress.on_plan, on_bytes=progress.on_bytes)
        existing = self._existing(request.name, manifest.root_digest)
        if existing is not None:
            with self.db.write() as conn:  # a copy elsewhere: remember it (not a ledger event)
                SqlLocations(conn).note_location(
                    existing.digest, str(root), "dataset", format_time(utc_now())
                )
            return DatasetResult(existing, False, _differences(existing, request, checked))
        if progress.on_phase:
            progress.on_phase("tables")
        tables = _profiles(root, manifest, request.source_column)
        if progress.on_phase:
            progress.on_phase("for PII")
        items = [(f.path, root if f.path == "." else root / f.path) for f in manifest.files]
        report = scan_files(items, checked.patterns)
        blobs = self.workspace.blobs
        manifest_blob = blobs.put(canonical_json(manifest.to_dict()).encode())
        pii_blob = blobs.put(canonical_json(report.to_dict()).encode())
        now = format_time(utc_now())
        snapshot = DatasetSnapshot(
            name=request.name,
            digest=manifest.root_digest,
            tier=checked.tier,
            license=checked.license,
            consent=checked.consent,
            collected_from=checked.collected[0],
            collected_to=checked.collected[1],
            geography=checked.geography,
            retention_days=request.retention_days,
            expires_on=expires_on(checked.collected[1], request.retention_days),
            source=request.source.strip(),
            file_count=len(manifest.files),
            size=manifest.total_size,
            rows=sum(t["rows"] for t in tables.values()) if tables else None,
            tables=tables,
            curation=checked.curation,
            odd_tags=checked.odd_tags,
            pii=_pii_summary(report),
            manifest_blob=str(manifest_blob),
            pii_blob=str(pii_blob),
            registered_at=now,
            registered_by=self.actor,
            location=str(root),
        )
        with self.db.write() as conn:
            store = SqlDatasets(conn)
            raced = self._existing(request.name, manifest.root_digest, store)
            if raced is not None:
                return DatasetResult(raced, False)
            store.insert(snapshot)
            SqlLocations(conn).note_location(snapshot.digest, snapshot.location, "dataset", now)
            append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "dataset.registered",
                        self.actor,
                        f"dataset:{snapshot.digest}",
                        snapshot.to_dict(),
                    )
                ],
            )
        return DatasetResult(snapshot, True)

    def _existing(
        self, name: str, digest: Digest, store: SqlDatasets | None = None
    ) -> DatasetSnapshot | None:
        if store is None:
            with self.db.read() as conn:
                return self._existing(name, digest, SqlDatasets(conn))
        by_digest = store.by_digest(digest)
        if by_digest is not None and by_digest.name != name:
            raise Conflict(
                f"this content is already registered as dataset {by_digest.name!r}",
                hint=f"identity is content: refer to it as {by_digest.name}",
            )
        by_name = store.by_name(name)
        if by_name is not None and by_name.digest != digest:
            raise Conflict(
                f"dataset name {name!r} is already used for other content ({by_name.digest})",
                hint="a snapshot never changes: register the new content under a new name, "
                f"e.g. {name}-v2",
            )
        return by_name

    def get(self, ref: str) -> DatasetSnapshot:
        """A snapshot by name or digest (``NotFound``)."""
        with self.db.read() as conn:
            store = SqlDatasets(conn)
            found = (
                store.by_digest(Digest.parse(ref)) if Digest.looks_like(ref) else store.by_name(ref)
            )
        if found is None:
            raise NotFound(f"no dataset {ref!r}", hint="run `steward dataset list`")
        return found

    def list(self, *, expiring_days: int | None = None) -> builtins.list[DatasetSnapshot]:
        """Every snapshot, or those expired or expiring within ``expiring_days``."""
        before = None
        if expiring_days is not None:
            before = (date.today() + timedelta(days=expiring_days)).isoformat()
        with self.db.read() as conn:
            return SqlDatasets(conn).all(expiring_before=before)

    def trained_on(self, snapshot: DatasetSnapshot) -> builtins.list[TrainingRun]:
        """Runs (and so model versions) that used this snapshot."""
        with self.db.read() as conn:
            return SqlRuns(conn).using(str(snapshot.digest))

    def pii_report(self, snapshot: DatasetSnapshot) -> dict[str, Any]:
        """The full PII report stored with the snapshot."""
        data: dict[str, Any] = json.loads(self.workspace.blobs.get(Digest.parse(snapshot.pii_blob)))
        return data
