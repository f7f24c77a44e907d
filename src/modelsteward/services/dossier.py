"""The approval dossier use case: collect the evidence, write JSON and HTML, store and record them.

``write`` checks its input first (the ``--out`` folder, the model reference, the licence-review
options), then collects the facts from the registry, the runs, the dataset register, the legal
register, the signed envelopes and the ledger (every entry it cites gets an inclusion proof against
the earliest signed checkpoint covering them all), builds the document
(:mod:`modelsteward.dossier`), writes ``dossier.json`` (exactly the canonical bytes the dossier
digest covers) and ``dossier.html``, stores both as blobs and records one ``dossier.written``
ledger entry. Bad input writes nothing.

>>> import pathlib, tempfile
>>> from modelsteward.bootstrap import init_workspace
>>> from modelsteward.config import Settings
>>> from modelsteward.services.intake import IntakeRequest
>>> work = pathlib.Path(tempfile.mkdtemp())
>>> app = init_workspace(Settings(home=work / "ws"))
>>> _ = (work / "m").mkdir(), (work / "m" / "config.json").write_text('{"model_type": "tiny"}')
>>> _ = app.models.add(IntakeRequest(path=work / "m", name="tiny"))
>>> service = DossierService(app.models, app.runs, app.datasets, app.licenses, app.evaluations,
...                          app.envelopes, app.ledger, app.workspace)
>>> result = service.write("tiny", work / "out")
>>> sorted(p.name for p in (work / "out").iterdir()), app.ledger.tail(1)[0].kind
(['dossier.html', 'dossier.json'], 'dossier.written')
>>> app.close()
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from modelsteward.dossier import (
    CheckpointFacts,
    DatasetFacts,
    DossierFacts,
    EnvelopeFacts,
    build_document,
    canonical_bytes,
    deployments_running,
    dossier_digest,
    names_digest,
    render_html,
)
from modelsteward.dossier.files import check_out_folder, write_files
from modelsteward.errors import InvalidInput, NotFound, VerificationFailed
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.merkle import inclusion_proof
from modelsteward.registry.records import ModelVersion
from modelsteward.runtime.signed import read_signed_envelope_unverified
from modelsteward.services.datasets import DatasetService
from modelsteward.services.envelopes import EnvelopeService
from modelsteward.services.evaluations import EvaluationService
from modelsteward.services.ledger import LedgerService
from modelsteward.services.licenses import LicenseService
from modelsteward.services.models import ModelService
from modelsteward.services.runs import RunService
from modelsteward.storage.blobs import BlobStore
from modelsteward.storage.ledger_store import LedgerReader, StoredCheckpoint
from modelsteward.storage.provenance_store import SqlLegalRegister, SqlRuns
from modelsteward.storage.tables import ledger_checkpoints, ledger_entries
from modelsteward.storage.workspace import Workspace
from modelsteward.training.records import TrainingRun
from modelsteward.types import Digest

__all__ = [
    "DOSSIER_WRITTEN",
    "HTML_NAME",
    "JSON_NAME",
    "Dossier",
    "DossierResult",
    "DossierService",
]

DOSSIER_WRITTEN = "dossier.written"
"""Ledger kind recorded by :meth:`DossierService.write`."""

JSON_NAME = "dossier.json"
HTML_NAME = "dossier.html"


@dataclass(frozen=True)
class Dossier:
    """A built dossier, not yet written.

    Attributes:
        model: ``NAME@VERSION``.
        model_digest: The model version's digest.
        document: The JSON document.
        digest: ``sha256:`` of :attr:`json`.
        json: The canonical JSON bytes (the file written).
        html: The HTML page.
        checkpoint_size: Size of the checkpoint the inclusion proofs lead to.
    """

    model: str
    model_digest: str
    document: dict[str, Any]
    digest: str
    json: bytes
    html: str
    checkpoint_size: int


@dataclass(frozen=True)
class DossierResult:
    """A written and recorded dossier."""

    model: str
    model_digest: str
    digest: str
    json_path: Path
    html_path: Path
    json_blob: str
    html_blob: str
    seq: int
    checkpoint_size: int
    summary: dict[str, dict[str, int]]
    gaps: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


class _StoreBlobs:
    """The dossier's :class:`~modelsteward.dossier.BlobSource` over the workspace blob store.

    A corrupted blob raises ``BlobCorrupted``: a dossier is never written over tampered evidence.
    """

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self._cache: dict[str, bytes | None] = {}

    def exists(self, digest: str) -> bool:
        return Digest.looks_like(digest) and self.store.exists(Digest.parse(digest))

    def read(self, digest: str) -> bytes | None:
        if digest not in self._cache:
            try:
                data = self.store.get(Digest.parse(digest)) if self.exists(digest) else None
            except NotFound:
                data = None
            self._cache[digest] = data
        return self._cache[digest]


class DossierService:
    """Approval dossiers of one workspace."""

    def __init__(
        self,
        models: ModelService,
        runs: RunService,
        datasets: DatasetService,
        licenses: LicenseService,
        evaluations: EvaluationService,
        envelopes: EnvelopeService,
        ledger: LedgerService,
        workspace: Workspace,
    ) -> None:
        self.models = models
        self.runs = runs
        self.datasets = datasets
        self.licenses = licenses
        self.evaluations = evaluations
        self.envelopes = envelopes
        self.ledger = ledger
        self.workspace = workspace
        self.db = models.db

    # -- use cases -----------------------------------------------------------------------------

    def build(self, ref: str, *, use: str = "commercial", distribution: str = "product") -> Dossier:
        """Collect the facts about ``ref`` and build its dossier (signs a checkpoint if needed).

        Raises:
            NotFound: No such model version.
            InvalidInput: An unknown ``use`` or ``distribution``.
        """
        version = self.models.get(ref)
        facts = self._facts(version, use, distribution)
        document = build_document(facts, _StoreBlobs(self.workspace.blobs))
        digest = dossier_digest(document)
        return Dossier(
            version.ref,
            str(version.digest),
            document,
            digest,
            canonical_bytes(document),
            render_html(document, digest),
            facts.checkpoint.size,
        )

    def write(
        self, ref: str, out: Path, *, use: str = "commercial", distribution: str = "product"
    ) -> DossierResult:
        """Write ``dossier.json`` and ``dossier.html`` into the folder ``out`` and record them.

        Raises:
            InvalidInput: ``out`` is a file or cannot be written; a bad ``use``/``distribution``.
            NotFound: No such model version.
        """
        out = check_out_folder(out, (JSON_NAME, HTML_NAME))
        dossier = self.build(ref, use=use, distribution=distribution)
        paths = write_files(out, {JSON_NAME: dossier.json, HTML_NAME: dossier.html.encode()})
        try:
            blobs = [
                str(self.workspace.blobs.put(data))
                for data in (dossier.json, dossier.html.encode())
            ]
            payload = {
                "model": dossier.model,
                "model_digest": dossier.model_digest,
                "dossier_digest": dossier.digest,
                "json": blobs[0],
                "html": blobs[1],
                "checkpoint_size": dossier.checkpoint_size,
            }
            entry = self.ledger.append(DOSSIER_WRITTEN, f"model:{dossier.model_digest}", payload)
        except BaseException:
            for path in paths:  # no dossier on disk without its ledger entry
                path.unlink(missing_ok=True)
            raise
        return DossierResult(
            dossier.model,
            dossier.model_digest,
            dossier.digest,
            paths[0],
            paths[1],
            blobs[0],
            blobs[1],
            entry.seq,
            dossier.checkpoint_size,
            dossier.document["summary"],
            len(dossier.document["gaps"]),
        )

    # -- collecting facts ----------------------------------------------------------------------

    def _facts(self, version: ModelVersion, use: str, distribution: str) -> DossierFacts:
        digest = str(version.digest)
        licence = self.licenses.review(digest, use=use, distribution=distribution)
        with self.db.read() as conn:
            runs = SqlRuns(conn).producing([digest]).get(digest, [])
            register = SqlLegalRegister(conn).for_model(digest)
        datasets = self._datasets(version, runs)
        entries = self._entries(version, runs, datasets)
        baselines = self._baselines(digest, entries)
        entries += self._select(ledger_entries.c.seq.in_([b["seq"] for b in baselines]))
        checkpoint, proofs = self._proofs(entries)
        return DossierFacts(
            model=version.to_dict(),
            lineage=self.models.lineage(version).to_dict(),
            licence=licence.to_dict(),
            checkpoint=checkpoint,
            use=licence.review.use.value,
            distribution=licence.review.distribution.value,
            runs=tuple(r.to_dict() for r in runs),
            datasets=datasets,
            legal_register=tuple(sorted(register, key=lambda a: int(a["seq"]))),
            baselines=tuple(baselines),
            envelopes=self._envelopes(digest),
            entries=tuple(entries),
            proofs=proofs,
        )

    def _datasets(self, version: ModelVersion, runs: list[TrainingRun]) -> tuple[DatasetFacts, ...]:
        found: dict[str, tuple[str, set[str], Any]] = {}
        wanted = [(name, "card") for name in version.datasets]
        wanted += [(i.digest, "run") for run in runs for i in run.datasets]
        for key, declared_by in wanted:
            try:
                snapshot = self.datasets.get(key)
            except NotFound:
                snapshot = None
            name = snapshot.name if snapshot else key
            entry = found.setdefault(name.lower(), (name, set(), snapshot))
            entry[1].add(declared_by)
        return tuple(
            DatasetFacts(
                name,
                tuple(sorted(by)),
                snap.to_dict() if snap else None,
                snap.expired() if snap else None,
            )
            for _, (name, by, snap) in sorted(found.items())
        )

    def _select(self, *conditions: Any) -> list[Entry]:
        query = select(ledger_entries.c.body).where(or_(*conditions)).order_by(ledger_entries.c.seq)
        with self.db.read() as conn:
            return [Entry.from_bytes(bytes(body)) for body in conn.execute(query).scalars()]

    def _entries(
        self, version: ModelVersion, runs: list[TrainingRun], datasets: tuple[DatasetFacts, ...]
    ) -> list[Entry]:
        """Entries about the model and its deployments, and those the dossier cites."""
        digest = str(version.digest)
        subject = ledger_entries.c.subject
        found = self._select(subject == f"model:{digest}", subject.like("deployment:%"))
        names = {f"deployment:{n}" for n in deployments_running(found, digest)}
        found = [e for e in found if _relevant(e, names, digest)]
        people = {
            f"person:{e.payload.get('statement', {}).get('person')}"
            for e in found
            if e.kind == "release.signoff"
        }
        cited = [
            and_(ledger_entries.c.kind == "person.added", subject.in_(people)),
            and_(
                ledger_entries.c.kind == "run.recorded", subject.in_([f"run:{r.id}" for r in runs])
            ),
            and_(
                ledger_entries.c.kind == "dataset.registered",
                subject.in_([f"dataset:{d.snapshot['digest']}" for d in datasets if d.snapshot]),
            ),
            and_(
                ledger_entries.c.kind == "supplier.registered",
                subject == f"supplier:{version.supplier}",
            ),
        ]
        return found + self._select(*cited)

    def _baselines(self, digest: str, entries: list[Entry]) -> list[dict[str, Any]]:
        compared = {
            e.payload.get("baseline")
            for e in entries
            if e.kind == "evaluation.completed" and e.subject == f"model:{digest}"
        }
        return [
            lock
            for lock in self.evaluations.baselines()
            if lock.get("model_digest") == digest or lock.get("name") in compared
        ]

    def _envelopes(self, digest: str) -> tuple[EnvelopeFacts, ...]:
        out = []
        for record in self.envelopes.envelopes_for(digest):
            try:
                data = self.envelopes.signed_file(record)
                document = read_signed_envelope_unverified(data).envelope.to_dict()
                out.append(EnvelopeFacts(record.to_dict(), document))
            except NotFound:
                out.append(EnvelopeFacts(record.to_dict(), None, "the signed file is not stored"))
            except (InvalidInput, VerificationFailed) as exc:
                out.append(EnvelopeFacts(record.to_dict(), None, exc.message))
        return tuple(out)

    def _proofs(self, entries: list[Entry]) -> tuple[CheckpointFacts, dict[int, tuple[bytes, ...]]]:
        """Inclusion proofs against the earliest signed checkpoint that covers every entry cited,
        signing a new checkpoint only when none does.

        All checkpoints are prefixes of one log (Steward never signs a fork), so the earliest
        covering one proves as much as the latest; and it stays the same while the cited entries
        do, so a dossier written again with nothing changed has the same digest.
        """
        newest = max(e.seq for e in entries)
        query = (
            select(ledger_checkpoints)
            .where(ledger_checkpoints.c.size > newest)
            .order_by(ledger_checkpoints.c.id)
            .limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).one_or_none()
        stored = StoredCheckpoint.from_row(row) if row is not None else self.ledger.checkpoint()
        with self.db.read() as conn:
            reader = LedgerReader(conn)
            proofs = {
                e.seq: tuple(inclusion_proof(e.seq, stored.size, reader.node)) for e in entries
            }
        checkpoint = CheckpointFacts(
            self.workspace.origin,
            stored.size,
            stored.root,
            stored.note,
            self.workspace.verifier().to_vkey(),
        )
        return checkpoint, proofs


def _relevant(entry: Entry, deployments: set[str], digest: str) -> bool:
    """Model entries but earlier dossiers (not a change of the model: writing one again must give
    the same dossier); of a deployment running the model, its set-up and what names the model."""
    if not entry.subject.startswith("deployment:"):
        return entry.kind != DOSSIER_WRITTEN
    if entry.subject not in deployments:
        return False
    return entry.kind == "deployment.added" or names_digest(entry.payload, digest)
