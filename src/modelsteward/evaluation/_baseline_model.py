"""The baseline record: what a locked report said per scenario, and its JSON form.

>>> b = BaselineScenario("cut-in", "Cut-in", "S3", "C", 4, 4, {"min_ttc_s": 0.8})
>>> b.passed
True
>>> Baseline.from_dict({"$schema": "x"})
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: baseline: unsupported $schema 'x'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._report_fields import check_level
from modelsteward.evaluation._report_json import field, number
from modelsteward.evaluation._report_model import check_asil
from modelsteward.ledger.entry import canonical_json
from modelsteward.types import Digest

if TYPE_CHECKING:
    from modelsteward.evaluation.report import EvaluationReport

__all__ = ["BASELINE_SCHEMA", "Baseline", "BaselineScenario"]

BASELINE_SCHEMA = "https://modelsteward.dev/schemas/evaluation-baseline/v1"


@dataclass(frozen=True, slots=True)
class BaselineScenario:
    """One scenario as the locked report saw it.

    Attributes:
        scenario_id: Scenario id.
        title: Human title.
        severity: ``S0``…``S3``.
        asil: ``QM``, ``A``…``D``.
        passes: Repetitions that passed.
        repetitions: Repetitions run.
        margins: Worst margin per criterion.
    """

    scenario_id: str
    title: str
    severity: str
    asil: str
    passes: int
    repetitions: int
    margins: Mapping[str, float]

    @property
    def passed(self) -> bool:
        """Every repetition passed."""
        return self.repetitions > 0 and self.passes == self.repetitions

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the id is the key it is filed under)."""
        return {
            "title": self.title,
            "severity": self.severity,
            "asil": self.asil,
            "passes": self.passes,
            "repetitions": self.repetitions,
            "passed": self.passed,
            "margins": dict(sorted(self.margins.items())),
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    """A locked evaluation: per-scenario verdicts and margins of one report.

    Attributes:
        report_digest: Digest of the report it was locked from.
        model_ref: The model reference of that report.
        model_digest: The model version's digest.
        suite_digest: The scenario suite's digest.
        created_at: When that report was made.
        scenarios: Per-scenario records, sorted by id.
    """

    report_digest: str
    model_ref: str
    model_digest: str
    suite_digest: str
    created_at: str
    scenarios: tuple[BaselineScenario, ...]

    @classmethod
    def from_report(cls, report: EvaluationReport) -> Baseline:
        """Lock ``report`` as a baseline."""
        return cls(
            report_digest=str(report.digest),
            model_ref=report.model_ref,
            model_digest=report.model_digest,
            suite_digest=report.suite_digest,
            created_at=report.created_at,
            scenarios=tuple(
                BaselineScenario(
                    scenario_id=s.scenario_id,
                    title=s.title,
                    severity=s.severity,
                    asil=s.asil,
                    passes=s.passes,
                    repetitions=s.repetitions,
                    margins=s.margins(),
                )
                for s in report.scenarios
            ),
        )

    def scenario(self, scenario_id: str) -> BaselineScenario | None:
        """The record of ``scenario_id``, or ``None``."""
        return next((s for s in self.scenarios if s.scenario_id == scenario_id), None)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-safe form."""
        return {
            "$schema": BASELINE_SCHEMA,
            "report_digest": self.report_digest,
            "model": {"ref": self.model_ref, "digest": self.model_digest},
            "suite_digest": self.suite_digest,
            "created_at": self.created_at,
            "scenarios": {s.scenario_id: s.to_dict() for s in self.scenarios},
        }

    @property
    def digest(self) -> Digest:
        """SHA-256 of the canonical JSON."""
        return Digest.of(canonical_json(self.to_dict()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        """Read a baseline written by :meth:`to_dict`.

        Raises:
            InvalidInput: a field is missing or malformed, or the schema is not ours.
        """
        if not isinstance(data, Mapping) or data.get("$schema") != BASELINE_SCHEMA:
            schema = data.get("$schema") if isinstance(data, Mapping) else None
            raise InvalidInput(f"baseline: unsupported $schema {schema!r}")
        model = field(data, "model", dict, "baseline")
        scenarios = field(data, "scenarios", dict, "baseline")
        return cls(
            report_digest=field(data, "report_digest", str, "baseline"),
            model_ref=field(model, "ref", str, "baseline.model"),
            model_digest=field(model, "digest", str, "baseline.model"),
            suite_digest=field(data, "suite_digest", str, "baseline"),
            created_at=field(data, "created_at", str, "baseline"),
            scenarios=tuple(_scenario(k, scenarios[k]) for k in sorted(scenarios)),
        )


def _scenario(scenario_id: str, raw: Any) -> BaselineScenario:
    where = f"baseline.scenarios.{scenario_id}"
    margins = field(raw, "margins", dict, where)
    return BaselineScenario(
        scenario_id=scenario_id,
        title=field(raw, "title", str, where),
        severity=check_level("S", field(raw, "severity", str, where), where),
        asil=check_asil(field(raw, "asil", str, where), where),
        passes=field(raw, "passes", int, where),
        repetitions=field(raw, "repetitions", int, where),
        margins={k: number(margins, k, f"{where}.margins") for k in sorted(margins)},
    )
