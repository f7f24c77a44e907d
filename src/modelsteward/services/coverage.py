"""ODD coverage of a scenario library: which ODD cells passing scenarios (and datasets) cover.

A scenario counts as *passing* only with evidence: a stored evaluation of exactly this library
(same suite digest) in which every repetition passed. Without such an evaluation every scenario
counts as not passing (fail closed), and the result says so. Datasets cover the cells their
declared ODD tags reach (the cartesian product of the values they list; a dataset missing an
attribute covers nothing, since a missing tag claims nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft, canonical_json
from modelsteward.ledger.log import append_entries
from modelsteward.storage.ledger_store import SqlLedgerTxn

if TYPE_CHECKING:
    from modelsteward.evaluation.coverage import CoverageReport
    from modelsteward.services.datasets import DatasetService
    from modelsteward.services.evaluations import EvaluationService, StoredEvaluation

__all__ = ["CoverageResult", "CoverageService"]


@dataclass(frozen=True)
class CoverageResult:
    """A coverage matrix with its gap register and what it was computed from.

    Attributes:
        coverage: The matrix and the ranked gap register.
        odd: ODD name.
        odd_digest: ODD digest.
        suite_digest: Scenario library digest.
        dimensions: The ODD attributes the cells span.
        evaluation: Digest of the evaluation whose verdicts were used, or ``None``.
        model: The evaluated model's ref, or ``None``.
        warnings: Things the reader should know (no evaluation, an untagged dataset …).
    """

    coverage: CoverageReport
    odd: str
    odd_digest: str
    suite_digest: str
    dimensions: tuple[str, ...]
    evaluation: str | None
    model: str | None
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: the coverage document plus its provenance."""
        return {
            **self.coverage.to_dict(),
            "odd": {"name": self.odd, "digest": self.odd_digest},
            "suite_digest": self.suite_digest,
            "dimensions": list(self.dimensions),
            "evaluation": {"report": self.evaluation, "model": self.model},
            "warnings": list(self.warnings),
        }


class CoverageService:
    """Coverage of one workspace's scenario libraries and datasets."""

    def __init__(self, evaluations: EvaluationService, datasets: DatasetService) -> None:
        self.evaluations = evaluations
        self.datasets = datasets

    def _evaluation(
        self, suite_digest: str, model: str | None, report: str | None
    ) -> StoredEvaluation | None:
        if report is not None:
            stored = self.evaluations.stored(report)
            if stored.report.suite_digest != suite_digest:
                raise Conflict(
                    f"report {stored.digest} evaluated another scenario library "
                    f"({stored.report.suite_digest}, not {suite_digest})",
                    hint="evaluate this library with `steward eval run`, or pass its report",
                )
            return stored
        rows = self.evaluations.list(model=model, suite_digest=suite_digest)
        if not rows:
            if model is not None:
                raise NotFound(
                    f"no evaluation of {model} on this scenario library ({suite_digest})",
                    hint=f"run `steward eval run {model} --suite DIR` first",
                )
            return None
        return self.evaluations.stored(rows[0]["digest"])

    def compute(
        self,
        odd_path: Path,
        suite: Path,
        *,
        datasets: Sequence[str] = (),
        model: str | None = None,
        report: str | None = None,
        dimensions: Sequence[str] | None = None,
    ) -> CoverageResult:
        """The coverage of the ODD in ``odd_path`` by the library in ``suite``.

        Args:
            odd_path: The ODD file.
            suite: The scenario library folder.
            datasets: Registered dataset names whose ODD tags count as training-data coverage.
            model: Use the newest evaluation of this model on the library.
            report: Use this stored evaluation (digest or prefix).
            dimensions: Span cells over these ODD attributes (default: all).

        Raises:
            InvalidInput: a bad ODD, library, dimension or dataset name.
            NotFound: ``model`` has no evaluation on this library; an unknown dataset or report.
            Conflict: ``report`` evaluated another library.
        """
        from modelsteward.evaluation.coverage import ScenarioOutcome, compute_coverage
        from modelsteward.evaluation.scenarios import ScenarioLibrary
        from modelsteward.odd.spec import OddSpec

        if model is not None and report is not None:
            raise InvalidInput("give --model or --report, not both")
        spec = OddSpec.from_path(odd_path)
        library = ScenarioLibrary.from_dir(suite, spec)
        cells = spec.cells(dimensions)
        stored = self._evaluation(str(library.digest), model, report)
        warnings = []
        if stored is None:
            warnings.append(
                "no stored evaluation of this library: no scenario counts as passing "
                "(run `steward eval run REF --suite DIR`)"
            )
        outcomes = []
        for scenario in library.scenarios:
            summary = stored.report.scenario(scenario.id) if stored is not None else None
            hazard = scenario.hazard.to_dict()
            outcomes.append(
                ScenarioOutcome(
                    scenario.id,
                    scenario.odd_labels(spec),
                    summary is not None and summary.passed,
                    hazard["severity"],
                    hazard["exposure"],
                )
            )
        covered: dict[str, list[dict[str, str]]] = {}
        for name in datasets:
            snapshot = self.datasets.get(name)
            touched = spec.cells_touched(snapshot.odd_tags.to_dict(), dimensions)
            if not touched:
                warnings.append(
                    f"dataset {snapshot.name}: its ODD tags reach no cell (every attribute "
                    f"spanned needs a valid tag; register it with --odd-tags)"
                )
            covered[snapshot.name] = [cell.to_dict() for cell in touched]
        coverage = compute_coverage([c.to_dict() for c in cells], outcomes, covered or None)
        return CoverageResult(
            coverage=coverage,
            odd=spec.name,
            odd_digest=str(spec.digest),
            suite_digest=str(library.digest),
            dimensions=tuple(dimensions or spec.keys),
            evaluation=stored.digest if stored is not None else None,
            model=stored.report.model_ref if stored is not None else None,
            warnings=tuple(warnings),
        )

    def record(self, result: CoverageResult) -> dict[str, Any]:
        """Keep a model's coverage as release evidence: the coverage JSON as a blob and an
        ``odd.coverage.recorded`` ledger entry naming its digest and gap count.

        Raises:
            InvalidInput: The coverage was not computed from a model's evaluation.
        """
        if result.model is None:
            raise InvalidInput(
                "coverage without a model's evaluation is not release evidence",
                hint="compute it with --model REF (or --report DIGEST)",
            )
        models = self.evaluations.models
        version = models.get(result.model)
        document = result.to_dict()
        blob = models.workspace.blobs.put(canonical_json(document))
        gaps = document["gaps"]
        payload = {
            "model": version.ref,
            "model_digest": str(version.digest),
            "odd": result.odd,
            "odd_digest": result.odd_digest,
            "suite_digest": result.suite_digest,
            "evaluation": result.evaluation,
            "coverage": str(blob),
            "gaps": len(gaps),
            "top": [str(g.get("key", "")) for g in gaps[:10]],
        }
        with models.db.write() as conn:
            append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "odd.coverage.recorded", models.actor, f"model:{version.digest}", payload
                    )
                ],
            )
        return payload
