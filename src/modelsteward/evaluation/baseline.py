"""Locked baselines and the regressions of a new evaluation against them.

A :class:`Baseline` keeps, per scenario of a locked report, its severity, how many repetitions
passed and the worst margin per criterion. :func:`compare` sets a new
:class:`~modelsteward.evaluation.report.EvaluationReport` against it. A **critical regression** is a
scenario of severity S2 or S3 that passed in the baseline (every repetition) and

* fails now (at least one repetition failed), or
* has a criterion whose worst margin dropped by more than the tolerance declared for it:
  ``baseline_margin - current_margin > tolerance`` (give or take 1e-9 of float rounding). Only
  criteria with a declared tolerance are checked this way; a declared criterion no longer measured
  counts as a drop (missing evidence).

The same changes on S0/S1 scenarios are non-critical regressions. Improvements (failed → passes),
new and removed scenarios are listed too. Every finding explains itself in one sentence.

>>> from datetime import UTC, datetime
>>> from modelsteward.evaluation.report import (
...     CriterionOutcome, EvaluationReport, RepetitionResult, ScenarioResult)
>>> def evaluate(margin):
...     rep = RepetitionResult(1, margin >= 0,
...                            (CriterionOutcome("min_ttc_s", 1.5 + margin, 1.5, margin),))
...     result = ScenarioResult("cut-in", "Cut-in", "C", "S3", "E3", "C2", {}, (rep,))
...     return EvaluationReport.from_results(
...         [result], model_ref="m", model_digest="sha256:" + "a" * 64,
...         suite_digest="sha256:" + "b" * 64, odd_digest=None,
...         created_at=datetime(2026, 1, 1, tzinfo=UTC))
>>> found = compare(Baseline.from_report(evaluate(0.8)), evaluate(-0.4))
>>> found.has_critical
True
>>> print(found.critical[0].explanation)
cut-in (S3, ASIL C): passed 1/1 in the baseline, 0/1 now; min_ttc_s margin 0.8 → -0.4
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._baseline_model import BASELINE_SCHEMA, Baseline, BaselineScenario
from modelsteward.evaluation._regression_text import explain, headline
from modelsteward.evaluation._report_fields import severity_level
from modelsteward.evaluation.report import EvaluationReport, ScenarioSummary

__all__ = [
    "BASELINE_SCHEMA",
    "REGRESSION_SCHEMA",
    "Baseline",
    "BaselineScenario",
    "MarginChange",
    "Regression",
    "RegressionReport",
    "ScenarioChange",
    "compare",
]

REGRESSION_SCHEMA = "https://modelsteward.dev/schemas/evaluation-regressions/v1"
_CRITICAL_FROM = 2  # S2 and S3
# Margins are floats from simulation: a drop that equals the tolerance up to rounding
# (0.8 - 0.5 = 0.30000000000000004 against 0.3) is within it.
_ROUNDING = 1e-9


@dataclass(frozen=True, slots=True)
class MarginChange:
    """A criterion's worst margin in the baseline and now.

    Attributes:
        criterion: Criterion name.
        baseline: Worst margin in the baseline, or ``None`` when not measured then.
        current: Worst margin now, or ``None`` when no longer measured.
        tolerance: Declared tolerance, or ``None`` (then only failing now is reported).
    """

    criterion: str
    baseline: float | None
    current: float | None
    tolerance: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        drop = None
        if self.baseline is not None and self.current is not None:
            drop = self.baseline - self.current
        return {
            "criterion": self.criterion,
            "baseline_margin": self.baseline,
            "current_margin": self.current,
            "drop": drop,
            "tolerance": self.tolerance,
        }


@dataclass(frozen=True, slots=True)
class Regression:
    """A scenario that got worse than its baseline.

    Attributes:
        scenario_id: Scenario id.
        severity: The higher of the baseline's and the current severity.
        asil: Current ASIL.
        critical: True for S2/S3.
        pass_to_fail: True when the scenario passed in the baseline and fails now.
        baseline: ``(passes, repetitions)`` in the baseline.
        current: ``(passes, repetitions)`` now.
        margins: Criteria worth naming: failing now, or dropped beyond their tolerance.
        explanation: One sentence saying what happened.
    """

    scenario_id: str
    severity: str
    asil: str
    critical: bool
    pass_to_fail: bool
    baseline: tuple[int, int]
    current: tuple[int, int]
    margins: tuple[MarginChange, ...]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.scenario_id,
            "severity": self.severity,
            "asil": self.asil,
            "critical": self.critical,
            "pass_to_fail": self.pass_to_fail,
            "baseline": {"passes": self.baseline[0], "repetitions": self.baseline[1]},
            "current": {"passes": self.current[0], "repetitions": self.current[1]},
            "margins": [m.to_dict() for m in self.margins],
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class ScenarioChange:
    """An improvement, a new or a removed scenario.

    Attributes:
        scenario_id: Scenario id.
        severity: Severity (current, or the baseline's for a removed scenario).
        asil: ASIL (current, or the baseline's for a removed scenario).
        explanation: One sentence.
    """

    scenario_id: str
    severity: str
    asil: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.scenario_id,
            "severity": self.severity,
            "asil": self.asil,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class RegressionReport:
    """The outcome of :func:`compare`.

    Attributes:
        baseline_digest: Digest of the baseline.
        baseline_report_digest: Digest of the report the baseline was locked from.
        report_digest: Digest of the report compared.
        suite_changed: True when the two reports ran different scenario suites.
        critical: Critical regressions (S2/S3), worst severity first.
        non_critical: Regressions of S0/S1 scenarios.
        improvements: Scenarios that failed in the baseline and pass now.
        new: Scenarios not in the baseline.
        removed: Baseline scenarios not evaluated now.
    """

    baseline_digest: str
    baseline_report_digest: str
    report_digest: str
    suite_changed: bool
    critical: tuple[Regression, ...]
    non_critical: tuple[Regression, ...]
    improvements: tuple[ScenarioChange, ...]
    new: tuple[ScenarioChange, ...]
    removed: tuple[ScenarioChange, ...]

    @property
    def has_critical(self) -> bool:
        """True when any critical regression was found (``eval run --against`` fails)."""
        return bool(self.critical)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "$schema": REGRESSION_SCHEMA,
            "baseline_digest": self.baseline_digest,
            "baseline_report_digest": self.baseline_report_digest,
            "report_digest": self.report_digest,
            "suite_changed": self.suite_changed,
            "summary": {
                "critical": len(self.critical),
                "non_critical": len(self.non_critical),
                "improvements": len(self.improvements),
                "new": len(self.new),
                "removed": len(self.removed),
            },
            "critical": [r.to_dict() for r in self.critical],
            "non_critical": [r.to_dict() for r in self.non_critical],
            "improvements": [c.to_dict() for c in self.improvements],
            "new": [c.to_dict() for c in self.new],
            "removed": [c.to_dict() for c in self.removed],
        }


def _checked_tolerances(
    tolerances: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for scenario_id, per_criterion in (tolerances or {}).items():
        for criterion, tol in per_criterion.items():
            ok = isinstance(tol, int | float) and not isinstance(tol, bool)
            if not ok or not math.isfinite(tol) or tol < 0:
                raise InvalidInput(
                    f"tolerance for {scenario_id}/{criterion} is {tol!r}",
                    hint="a tolerance is a finite, non-negative margin drop",
                )
            out.setdefault(scenario_id, {})[criterion] = float(tol)
    return out


def _margin_changes(
    base: BaselineScenario, now: ScenarioSummary, tolerances: Mapping[str, float]
) -> tuple[list[MarginChange], bool]:
    """Criteria worth naming, and whether any dropped beyond its tolerance."""
    current = now.margins()
    changes: list[MarginChange] = []
    dropped = False
    for criterion in sorted(set(base.margins) | set(current)):
        before, after = base.margins.get(criterion), current.get(criterion)
        tol = tolerances.get(criterion)
        beyond = (
            before is not None
            and tol is not None
            and base.passed
            and (after is None or before - after > tol + _ROUNDING)
        )
        dropped = dropped or beyond
        if beyond or (after is not None and after < 0):
            changes.append(MarginChange(criterion, before, after, tol))
    return changes, dropped


def _regression(
    base: BaselineScenario, now: ScenarioSummary, tolerances: Mapping[str, float]
) -> Regression | None:
    pass_to_fail = base.passed and not now.passed
    changes, dropped = _margin_changes(base, now, tolerances)
    if not (pass_to_fail or dropped):
        return None
    severity = max(base.severity, now.severity, key=severity_level)
    rows = [(m.criterion, m.baseline, m.current, m.tolerance) for m in changes]
    counts_before, counts_now = (base.passes, base.repetitions), (now.passes, now.repetitions)
    return Regression(
        scenario_id=now.scenario_id,
        severity=severity,
        asil=now.asil,
        critical=severity_level(severity) >= _CRITICAL_FROM,
        pass_to_fail=pass_to_fail,
        baseline=counts_before,
        current=counts_now,
        margins=tuple(changes),
        explanation=explain(now.scenario_id, severity, now.asil, counts_before, counts_now, rows),
    )


def _order(regression: Regression) -> tuple[int, str]:
    return (-severity_level(regression.severity), regression.scenario_id)


def _new(now: ScenarioSummary) -> ScenarioChange:
    text = headline(now.scenario_id, now.severity, now.asil)
    verdict = f"new scenario, passed {now.passes}/{now.repetitions}"
    return ScenarioChange(now.scenario_id, now.severity, now.asil, f"{text}: {verdict}")


def _improvement(base: BaselineScenario, now: ScenarioSummary) -> ScenarioChange:
    counts = (base.passes, base.repetitions), (now.passes, now.repetitions)
    text = explain(now.scenario_id, now.severity, now.asil, *counts, [])
    return ScenarioChange(now.scenario_id, now.severity, now.asil, text)


def _removed(base: BaselineScenario) -> ScenarioChange:
    text = headline(base.scenario_id, base.severity, base.asil)
    verdict = f"passed {base.passes}/{base.repetitions} in the baseline, not evaluated now"
    return ScenarioChange(base.scenario_id, base.severity, base.asil, f"{text}: {verdict}")


def compare(
    baseline: Baseline,
    report: EvaluationReport,
    tolerances: Mapping[str, Mapping[str, float]] | None = None,
) -> RegressionReport:
    """Set ``report`` against ``baseline``.

    Args:
        baseline: The locked baseline.
        report: The new evaluation.
        tolerances: scenario id → criterion → allowed drop of its worst margin (the scenario
            files' ``tolerances``). Criteria without a tolerance only regress by failing.

    Raises:
        InvalidInput: a tolerance is negative or not a finite number.
    """
    tols = _checked_tolerances(tolerances)
    regressions: list[Regression] = []
    improvements: list[ScenarioChange] = []
    new: list[ScenarioChange] = []
    for now in report.scenarios:
        base = baseline.scenario(now.scenario_id)
        found = None if base is None else _regression(base, now, tols.get(now.scenario_id, {}))
        if base is None:
            new.append(_new(now))
        elif found is not None:
            regressions.append(found)
        elif not base.passed and now.passed:
            improvements.append(_improvement(base, now))
    regressions.sort(key=_order)
    current_ids = {s.scenario_id for s in report.scenarios}
    return RegressionReport(
        baseline_digest=str(baseline.digest),
        baseline_report_digest=baseline.report_digest,
        report_digest=str(report.digest),
        suite_changed=baseline.suite_digest != report.suite_digest,
        critical=tuple(r for r in regressions if r.critical),
        non_critical=tuple(r for r in regressions if not r.critical),
        improvements=tuple(improvements),
        new=tuple(new),
        removed=tuple(_removed(b) for b in baseline.scenarios if b.scenario_id not in current_ids),
    )
