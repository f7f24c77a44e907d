"""Evaluation use cases: run a registered model against a scenario library, lock baselines,
find critical regressions.

Before anything runs, the model's folder is re-hashed and must be the registered digest (fail
closed). Reports (JSON and HTML) are content-addressed blobs; every evaluation and every baseline
lock is a ledger entry.
"""

from __future__ import annotations

import builtins
import json
import re
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

__all__ = [
    "EvaluationOutcome",
    "EvaluationService",
    "StoredEvaluation",
    "check_baseline_name",
]


_BASELINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")


def check_baseline_name(name: str) -> str:
    """Return ``name`` if it can name a baseline (checked before any evaluation runs).

    >>> check_baseline_name("reference/competent-policy")
    'reference/competent-policy'
    """
    if not _BASELINE_NAME.match(name):
        raise InvalidInput(
            f"baseline name {name!r}",
            hint="1–128 letters, digits and . _ / -, starting with a letter or digit, "
            "e.g. highway-suite",
        )
    return name


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


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation from the store: its ledger payload and the report it points at."""

    digest: str
    record: dict[str, Any]
    report: EvaluationReport


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

        check_baseline_name(name)
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

    def stored(self, digest: str) -> StoredEvaluation:
        """The stored evaluation named by its report digest (or a unique prefix of 8+ hex)."""
        from modelsteward.evaluation.report import EvaluationReport

        text = digest.strip().lower().removeprefix("sha256:")
        if len(text) < 8 or any(c not in "0123456789abcdef" for c in text):
            raise InvalidInput(
                f"report {digest!r}", hint="give the report digest sha256:… or 8+ of its hex digits"
            )
        with self.db.read() as conn:
            rows = conn.execute(
                select(evaluation_reports.c.digest, evaluation_reports.c.record).where(
                    evaluation_reports.c.digest.startswith("sha256:" + text)
                )
            ).all()
        if not rows:
            raise NotFound(
                f"no stored evaluation {digest!r}", hint="see `steward eval list` for reports"
            )
        if len(rows) > 1:
            raise InvalidInput(f"report prefix {digest!r} is ambiguous", hint="give more digits")
        found, record = rows[0]
        data = json.loads(self.workspace.blobs.get(Digest.parse(found)))
        return StoredEvaluation(found, json.loads(record), EvaluationReport.from_dict(data))

    def list(
        self, *, model: str | None = None, suite_digest: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Stored evaluations (ledger payload plus ``digest``), newest first."""
        query = select(evaluation_reports.c.digest, evaluation_reports.c.record)
        if model is not None:
            version = self.models.get(model)
            query = query.where(evaluation_reports.c.model_digest == str(version.digest))
        if suite_digest is not None:
            query = query.where(evaluation_reports.c.suite_digest == suite_digest)
        query = query.order_by(evaluation_reports.c.created_at.desc(), evaluation_reports.c.digest)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [{"digest": digest, **json.loads(record)} for digest, record in rows]

    def html(self, html_digest: str) -> bytes:
        """A stored HTML report, by its digest (``EvaluationOutcome.html_digest``)."""
        return self.workspace.blobs.get(Digest.parse(html_digest))

    def regressions(self, stored: StoredEvaluation) -> dict[str, Any] | None:
        """The regression document stored with an evaluation compared against a baseline."""
        blob = stored.record.get("regressions")
        if not blob:
            return None
        data: dict[str, Any] = json.loads(self.workspace.blobs.get(Digest.parse(blob)))
        return data

    def lock_stored(self, ref: str, digest: str, name: str) -> dict[str, Any]:
        """Lock an already stored evaluation of ``ref`` as baseline ``name`` (no re-run)."""
        version = self.models.get(ref)
        stored = self.stored(digest)
        if stored.report.model_digest != str(version.digest):
            raise InvalidInput(
                f"report {stored.digest} evaluated {stored.report.model_ref}, not {version.ref}",
                hint="lock a report of the model you name",
            )
        outcome = EvaluationOutcome(stored.report, stored.digest, stored.record["html"], None, None)
        return self.lock_baseline(outcome, name)

    def baselines(self) -> builtins.list[dict[str, Any]]:
        """The current lock of every baseline name (newest lock wins), by name."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(
                    evaluation_baselines.c.seq,
                    evaluation_baselines.c.name,
                    evaluation_baselines.c.record,
                ).order_by(evaluation_baselines.c.seq)
            ).all()
        current = {name: {**json.loads(record), "seq": seq} for seq, name, record in rows}
        return [current[name] for name in sorted(current)]
