"""Factories for real evaluation results and reports (plain data, no runner needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from modelsteward.evaluation.report import (
    CriterionOutcome,
    EvaluationReport,
    RepetitionResult,
    ScenarioResult,
)

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MODEL = "sha256:" + "a" * 64
SUITE = "sha256:" + "b" * 64
ODD = "sha256:" + "c" * 64
THRESHOLDS = {"min_ttc_s": 1.5, "min_headway_s": 0.8, "no_collision": 0.0}


def repetition(
    seed: int,
    margins: Mapping[str, float],
    *,
    passed: bool | None = None,
    steps: Sequence[tuple[float, bool]] = (),
    latencies_ns: Sequence[int] = (),
) -> RepetitionResult:
    """A repetition whose criteria have ``margins`` (value = threshold + margin)."""
    criteria = tuple(
        CriterionOutcome(name, THRESHOLDS.get(name, 1.0) + m, THRESHOLDS.get(name, 1.0), m)
        for name, m in margins.items()
    )
    verdict = all(m >= 0 for m in margins.values()) if passed is None else passed
    return RepetitionResult(
        seed=seed,
        passed=verdict,
        criteria=criteria,
        steps=tuple(steps),
        latencies_ns=tuple(latencies_ns),
    )


def scenario(
    scenario_id: str,
    margins: Sequence[Mapping[str, float]],
    *,
    severity: str = "S3",
    exposure: str = "E3",
    controllability: str = "C2",
    asil: str = "C",
    title: str | None = None,
    odd: Mapping[str, str | int | float] | None = None,
    seed: int = 1000,
) -> ScenarioResult:
    """A scenario with one repetition per entry of ``margins``."""
    return ScenarioResult(
        scenario_id=scenario_id,
        title=title or scenario_id.replace("-", " ").capitalize(),
        asil=asil,
        severity=severity,
        exposure=exposure,
        controllability=controllability,
        odd=odd if odd is not None else {"environment.weather": "clear"},
        repetitions=tuple(repetition(seed + i, m) for i, m in enumerate(margins)),
    )


def report(results: Sequence[ScenarioResult], **kwargs: object) -> EvaluationReport:
    """A report with fixed digests and time."""
    options: dict[str, object] = {
        "model_ref": "pilot@1",
        "model_digest": MODEL,
        "suite_digest": SUITE,
        "odd_digest": ODD,
        "created_at": WHEN,
    }
    options.update(kwargs)
    return EvaluationReport.from_results(results, **options)  # type: ignore[arg-type]
