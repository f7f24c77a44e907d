"""Composition root: builds Steward's services from :class:`~modelsteward.config.Settings`.

>>> import tempfile, pathlib
>>> from modelsteward.config import Settings
>>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
>>> app.created, app.ledger.size()
(True, 1)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select

from modelsteward import __version__
from modelsteward.config import Settings
from modelsteward.errors import Conflict
from modelsteward.services.coverage import CoverageService
from modelsteward.services.datasets import DatasetService
from modelsteward.services.deployments import DeploymentService
from modelsteward.services.dossier import DossierService
from modelsteward.services.envelopes import EnvelopeService
from modelsteward.services.evaluations import EvaluationService
from modelsteward.services.evidence import EvidenceCollector
from modelsteward.services.gate import GateService
from modelsteward.services.ledger import LedgerService
from modelsteward.services.licenses import LicenseService
from modelsteward.services.model_trust import ModelTrustService
from modelsteward.services.models import ModelService
from modelsteward.services.people import PeopleService
from modelsteward.services.release import ReleaseService
from modelsteward.services.runs import RunService
from modelsteward.services.suppliers import SupplierService
from modelsteward.services.witness import WitnessFolder
from modelsteward.storage.db import Database
from modelsteward.storage.tables import meta
from modelsteward.storage.workspace import Workspace

__all__ = ["Steward", "init_workspace", "open_workspace"]


@dataclass
class Steward:
    """The services of one workspace."""

    settings: Settings
    workspace: Workspace
    db: Database
    ledger: LedgerService
    models: ModelService
    trust: ModelTrustService
    suppliers: SupplierService
    datasets: DatasetService
    runs: RunService
    licenses: LicenseService
    evaluations: EvaluationService
    coverage: CoverageService
    envelopes: EnvelopeService
    gate: GateService
    people: PeopleService
    release: ReleaseService
    deployments: DeploymentService
    dossier: DossierService
    created: bool = False

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def _assemble(settings: Settings, workspace: Workspace, db: Database, created: bool) -> Steward:
    witness = WitnessFolder(settings.witness_dir) if settings.witness_dir else None
    ledger = LedgerService(
        db,
        workspace,
        actor=settings.actor,
        witness=witness,
        max_batch=settings.commit_max_batch,
        max_wait_s=settings.commit_max_wait_ms / 1000,
    )
    models = ModelService(db, workspace, actor=settings.actor)
    suppliers = SupplierService(db, actor=settings.actor)
    trust = ModelTrustService(models)
    datasets = DatasetService(db, workspace, actor=settings.actor)
    runs = RunService(models, datasets, actor=settings.actor)
    licenses = LicenseService(models, actor=settings.actor)
    evaluations = EvaluationService(models, actor=settings.actor)
    envelopes = EnvelopeService(models, actor=settings.actor)
    gate = GateService(db, ledger)
    people = PeopleService(db, actor=settings.actor)
    release = ReleaseService(
        models,
        EvidenceCollector(models, licenses),
        people,
        actor=settings.actor,
        policy_dir=settings.policy_dir,
    )
    return Steward(
        settings,
        workspace,
        db,
        ledger,
        models,
        trust,
        suppliers,
        datasets,
        runs,
        licenses,
        evaluations,
        CoverageService(evaluations, datasets),
        envelopes,
        gate,
        people,
        release,
        DeploymentService(models, people, gate, actor=settings.actor),
        DossierService(models, runs, datasets, licenses, evaluations, envelopes, ledger, workspace),
        created,
    )


def open_workspace(settings: Settings) -> Steward:
    """Open an initialised workspace (raises ``WorkspaceMissing`` otherwise)."""
    workspace = Workspace.load(settings.resolved_home())
    db = Database.open(settings.resolved_database_url())
    try:
        _check_owner(db, workspace)
    except BaseException:
        db.dispose()  # a refused open must not leak pooled connections
        raise
    return _assemble(settings, workspace, db, created=False)


def init_workspace(settings: Settings) -> Steward:
    """Create (or re-open) the workspace: folder, keys, schema, first ledger entry, checkpoint.

    Running it again changes nothing.
    """
    db = Database.open(settings.resolved_database_url())  # a bad URL fails before any write
    try:
        return _init(settings, db)
    except BaseException:
        db.dispose()  # a failed init must not leak pooled connections
        raise


def _init(settings: Settings, db: Database) -> Steward:
    workspace, _ = Workspace.create(settings.resolved_home())
    db.migrate()
    created = False
    with db.write() as conn:
        owner = conn.execute(select(meta.c.value).where(meta.c.key == "workspace_id")).scalar()
        if owner is None:
            conn.execute(insert(meta).values(key="workspace_id", value=workspace.id))
            created = True
    _check_owner(db, workspace)
    steward = _assemble(settings, workspace, db, created)
    if created:
        steward.ledger.append(
            "workspace.init",
            f"workspace:{workspace.id}",
            {
                "workspace_id": workspace.id,
                "origin": workspace.origin,
                "ledger_key": workspace.verifier().to_vkey(),
                "schema_revision": db.schema_revision(),
                "steward_version": __version__,
            },
        )
        steward.ledger.checkpoint()
    return steward


def _check_owner(db: Database, workspace: Workspace) -> None:
    with db.read() as conn:
        owner = conn.execute(select(meta.c.value).where(meta.c.key == "workspace_id")).scalar()
    if owner is not None and owner != workspace.id:
        raise Conflict(
            f"the database belongs to workspace {owner}, not {workspace.id}",
            hint="point STEWARD_DATABASE_URL at this workspace's own database",
        )
