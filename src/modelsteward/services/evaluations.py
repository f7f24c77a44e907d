"""Evaluation use cases: run a registered model against a scenario library, lock baselines,
find critical regressions.

Before anything runs, the model's folder is re-hashed and must be the registered digest (fail
closed). Reports (JSON and HTML) are content-addressed blobs; every evaluation and every baseline
lock is a ledger entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from modelsteward.errors import InvalidInput, NotFound, PolicyDenied
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import ModelStatus, ModelVersion
from modelsteward.services._run_inputs import locate_verified
from modelsteward.services.models import ModelService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlLocations, canonical_json
from modelsteward.storage.tables import evaluation_baselines, evaluation_reports
from modelsteward.types import Digest, format_time, utc_now

if TYPE_CHECKING:
    from modelsteward.evaluation.baseline import RegressionReport
    from modelsteward.evaluation.report import EvaluationReport

__all__ = ["EvaluationOutcome", "EvaluationService"]


@dataclass(frozen=True)
class EvaluationOutcome:
    """A stored evaluation and, when compared, its regressions against a baseline."""

    report: EvaluationReport
    report_digest: str
    html_digest: str
    regressions: RegressionReport | None
    baseline: str | None

    @property
    def critical(self) -> bool:
        """True when the comparison found a critical regression."""
        return self.regressions is not None and self.regressions.has_critical


class EvaluationService:
    """Evaluations and baselines of one workspace."""

    def __init__(self, models: ModelService, *, actor: str) -> None:
        self.models = models
        self.db = models.db
        self.workspace = models.workspace
        self.actor = actor

    def _folder(self, version: ModelVersion, model_dir: Path | None) -> Path:
        if version.status == ModelStatus.BLOCKED:
            raise PolicyDenied(
                f"{version.ref} is blocked: a blocked version is never evaluated",
                hint="it can be inspected but not run",
            )
        with self.db.read() as conn:
            candidates = [Path(p) for p in SqlLocations(conn).locations(version.digest)]
        if model_dir is not None:
            candidates = [model_dir.expanduser().resolve()]
        return locate_verified(f"model {version.ref}", version.digest, candidates)

    def run(
        self,
        ref: str,
        suite: Path,
        *,
        odd: Path | None = None,
        against: str | None = None,
        workers: int = 2,
        model_dir: Path | None = None,
        on_done: Callable[[int, int], None] | None = None,
    ) -> EvaluationOutcome:
        """Evaluate ``ref`` on the library in ``suite``; compare with baseline ``against``."""
        from modelsteward.evaluation.baseline import Baseline, compare
        from modelsteward.evaluation.html import render_report_html
        from modelsteward.evaluation.policies import ModelFolderSpec, load_adapter
        from modelsteward.evaluation.scenarios import ScenarioLibrary
        from modelsteward.evaluation.suite import evaluate_library
        from modelsteward.odd.spec import OddSpec

        if workers < 1:
            raise InvalidInput(f"--workers {workers} must be 1 or more")
        version = self.models.get(ref)
        spec = OddSpec.from_path(odd) if odd is not None else None
        library = ScenarioLibrary.from_dir(suite, spec)
        baseline = self._baseline(against) if against else None
        folder = self._folder(version, model_dir)
        load_adapter(folder)  # a malformed adapter fails here, before any episode runs
        report = evaluate_library(
            library,
            ModelFolderSpec(str(folder)),
            model_ref=version.ref,
            model_digest=str(version.digest),
            odd=spec,
            workers=workers,
            on_done=on_done,
        )
        regressions = None
        if baseline is not None:
            tolerances = {s.id: dict(s.tolerances) for s in library.scenarios}
            regressions = compare(Baseline.from_dict(baseline), report, tolerances)
        html = render_report_html(report, regressions, title=f"Evaluation of {version.ref}")
        return self._store(version, report, html, regressions, against)

    def _store(
        self,
        version: ModelVersion,
        report: EvaluationReport,
        html: str,
        regressions: RegressionReport | None,
        against: str | None,
    ) -> EvaluationOutcome:
        blobs = self.workspace.blobs
        report_digest = str(blobs.put(report.canonical_json()))
        html_digest = str(blobs.put(html.encode()))
        regression_blob = (
            str(blobs.put(canonical_json(regressions.to_dict()).encode())) if regressions else None
        )
        totals = report.totals.to_dict()
        payload = {
            "model": version.ref,
            "model_digest": str(version.digest),
            "suite_digest": report.suite_digest,
            "odd_digest": report.odd_digest,
            "report": report_digest,
            "html": html_digest,
            "totals": totals,
            "baseline": against,
            "regressions": regression_blob,
            "critical_regressions": (
                [r.scenario_id for r in regressions.critical] if regressions else []
            ),
        }
        with self.db.write() as conn:
            append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "evaluation.completed", self.actor, f"model:{version.digest}", payload
                    )
                ],
            )
            exists = conn.execute(
                select(evaluation_reports.c.digest).where(
                    evaluation_reports.c.digest == report_digest
                )
            ).scalar()
            if exists is None:
                conn.execute(
                    insert(evaluation_reports).values(
                        digest=report_digest,
                        model_digest=str(version.digest),
                        suite_digest=report.suite_digest,
                        created_at=report.created_at,
                        record=canonical_json(payload),
                    )
                )
        return EvaluationOutcome(report, report_digest, html_digest, regressions, against)

    def lock_baseline(self, outcome: EvaluationOutcome, name: str) -> dict[str, Any]:
        """Lock an evaluation as baseline ``name`` (a ledger event; the newest lock wins)."""
        from modelsteward.evaluation.baseline import Baseline

        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise InvalidInput(
                f"baseline name {name!r}", hint="letters, digits, - and _, e.g. highway-suite"
            )
        baseline = Baseline.from_report(outcome.report)
        blob = str(self.workspace.blobs.put(canonical_json(baseline.to_dict()).encode()))
        record = {
            "name": name,
            "model": outcome.report.model_ref,
            "model_digest": outcome.report.model_digest,
            "suite_digest": outcome.report.suite_digest,
            "report": outcome.report_digest,
            "baseline": blob,
            "locked_at": format_time(utc_now()),
        }
        with self.db.write() as conn:
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [EntryDraft("evaluation.baseline.locked", self.actor, f"baseline:{name}", record)],
            )
            conn.execute(
                insert(evaluation_baselines).values(
                    seq=entry.seq, name=name, baseline_blob=blob, record=canonical_json(record)
                )
            )
        return {**record, "seq": entry.seq}

    def _baseline(self, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = conn.execute(
                select(evaluation_baselines.c.baseline_blob)
                .where(evaluation_baselines.c.name == name)
                .order_by(evaluation_baselines.c.seq.desc())
                .limit(1)
            ).scalar()
        if row is None:
            raise NotFound(
                f"no baseline named {name!r}",
                hint="lock one with `steward eval baseline REF --suite DIR --name NAME`",
            )
        data: dict[str, Any] = json.loads(self.workspace.blobs.get(Digest.parse(row)))
        return data
