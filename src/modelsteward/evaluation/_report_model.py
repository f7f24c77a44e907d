"""Output records of an evaluation report: scenario, criterion and ODD-slice summaries, totals.

>>> s = ScenarioSummary("a", "A", "B", "S2", "E3", "C2", (("environment.weather", "rain"),),
...                     (1, 2), 2, 1, (0.09, 0.91), (), True)
>>> s.pass_rate, s.passed
(0.5, False)
>>> slice_summaries([s], 0.95)[0].key
'environment.weather=rain'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._report_fields import ASILS
from modelsteward.evaluation.stats import wilson_interval

__all__ = [
    "REPORT_SCHEMA",
    "CriterionSummary",
    "FrameSlice",
    "ScenarioSummary",
    "SliceSummary",
    "Totals",
    "check_asil",
    "check_finite",
    "interval_dict",
    "slice_summaries",
    "totals_of",
]

REPORT_SCHEMA = "https://modelsteward.dev/schemas/evaluation-report/v1"


def check_asil(value: str, where: str) -> str:
    """Return ``value`` when it is ``QM`` or ``A``…``D``."""
    if value not in ASILS:
        raise InvalidInput(f"{where}: ASIL {value!r} is not one of {', '.join(ASILS)}")
    return value


def check_finite(value: float, where: str) -> float:
    """Return ``value`` when it is a finite number (JSON has no NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            f"{where} is {value!r}; expected a finite number",
            hint="cap unbounded measurements (for example TTC at the episode horizon)",
        )
    return float(value)


def interval_dict(interval: tuple[float, float]) -> dict[str, float]:
    """``{"low": …, "high": …}``."""
    return {"low": interval[0], "high": interval[1]}


@dataclass(frozen=True, slots=True)
class CriterionSummary:
    """The worst outcome of one criterion over a scenario's repetitions.

    Attributes:
        name: Criterion name.
        threshold: The limit (as reported with the worst repetition).
        worst_value: Measured value in the repetition with the smallest margin.
        worst_margin: Smallest margin over the repetitions (negative = failed at least once).
        failures: Repetitions in which the criterion failed.
        measured: Repetitions that reported the criterion.
    """

    name: str
    threshold: float
    worst_value: float
    worst_margin: float
    failures: int
    measured: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the name is the key it is filed under)."""
        return {
            "threshold": self.threshold,
            "worst_value": self.worst_value,
            "worst_margin": self.worst_margin,
            "failures": self.failures,
            "measured": self.measured,
        }


@dataclass(frozen=True, slots=True)
class FrameSlice:
    """Accuracy of a logged replay's frames in one ODD slice (``attribute=value``).

    Attributes:
        key: ``attribute=value``.
        frames: Frames in the slice (over all repetitions).
        correct: Frames where the model chose the labelled action.
        interval: Wilson interval of the accuracy.
    """

    key: str
    frames: int
    correct: int
    interval: tuple[float, float]

    def __post_init__(self) -> None:
        if not 0 <= self.correct <= self.frames:
            raise InvalidInput(f"frame slice {self.key}: {self.correct} of {self.frames} correct")

    @property
    def accuracy(self) -> float:
        """Share of the slice's frames scored correct."""
        return self.correct / self.frames if self.frames else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "key": self.key,
            "frames": self.frames,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "interval": interval_dict(self.interval),
        }


@dataclass(frozen=True, slots=True)
class ScenarioSummary:
    """One scenario's verdict over its repetitions.

    Attributes:
        scenario_id: Scenario id.
        title: Human title.
        asil: ASIL (``QM``, ``A``…``D``).
        severity: ``S0``…``S3``.
        exposure: ``E0``…``E4``.
        controllability: ``C0``…``C3``.
        odd: ODD tags as sorted ``(attribute, label)`` pairs.
        seeds: Seed of each repetition, in run order.
        repetitions: Number of repetitions.
        passes: Repetitions that passed.
        interval: Wilson interval of the pass rate.
        criteria: Worst outcome per criterion, sorted by name.
        flaky: True when repetitions disagree.
        frame_slices: Per-ODD-slice accuracy of a logged replay's frames, sorted by key
            (empty for closed-loop scenarios).
    """

    scenario_id: str
    title: str
    asil: str
    severity: str
    exposure: str
    controllability: str
    odd: tuple[tuple[str, str], ...]
    seeds: tuple[int, ...]
    repetitions: int
    passes: int
    interval: tuple[float, float]
    criteria: tuple[CriterionSummary, ...]
    flaky: bool
    frame_slices: tuple[FrameSlice, ...] = ()

    @property
    def pass_rate(self) -> float:
        """Share of repetitions that passed."""
        return self.passes / self.repetitions

    @property
    def passed(self) -> bool:
        """A scenario passes only when every repetition passed (a flaky scenario fails)."""
        return self.passes == self.repetitions

    def margins(self) -> dict[str, float]:
        """Worst margin per criterion."""
        return {c.name: c.worst_margin for c in self.criteria}

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.scenario_id,
            "title": self.title,
            "hazard": {
                "asil": self.asil,
                "severity": self.severity,
                "exposure": self.exposure,
                "controllability": self.controllability,
            },
            "odd": dict(self.odd),
            "seeds": list(self.seeds),
            "repetitions": self.repetitions,
            "passes": self.passes,
            "pass_rate": self.pass_rate,
            "interval": interval_dict(self.interval),
            "passed": self.passed,
            "flaky": self.flaky,
            "criteria": {c.name: c.to_dict() for c in self.criteria},
            "frame_slices": [f.to_dict() for f in self.frame_slices],
        }


@dataclass(frozen=True, slots=True)
class SliceSummary:
    """Pass rate of the repetitions of every scenario tagged ``attribute=value``.

    Attributes:
        attribute: ODD attribute (``group.attribute``).
        value: The attribute's label.
        scenarios: Ids of the scenarios in the slice, sorted.
        repetitions: Repetitions in the slice (the Wilson interval's trials).
        passes: Repetitions that passed.
        interval: Wilson interval of the pass rate.
    """

    attribute: str
    value: str
    scenarios: tuple[str, ...]
    repetitions: int
    passes: int
    interval: tuple[float, float]

    @property
    def key(self) -> str:
        """``attribute=value``."""
        return f"{self.attribute}={self.value}"

    @property
    def pass_rate(self) -> float:
        """Share of the slice's repetitions that passed."""
        return self.passes / self.repetitions

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "key": self.key,
            "attribute": self.attribute,
            "value": self.value,
            "scenarios": list(self.scenarios),
            "repetitions": self.repetitions,
            "passes": self.passes,
            "pass_rate": self.pass_rate,
            "interval": interval_dict(self.interval),
        }


def slice_summaries(
    scenarios: Sequence[ScenarioSummary], confidence: float
) -> tuple[SliceSummary, ...]:
    """One slice per (attribute, value) any scenario is tagged with."""
    members: dict[tuple[str, str], list[ScenarioSummary]] = {}
    for s in scenarios:
        for pair in s.odd:
            members.setdefault(pair, []).append(s)
    out = []
    for (attribute, value), group in sorted(members.items()):
        reps = sum(s.repetitions for s in group)
        passes = sum(s.passes for s in group)
        out.append(
            SliceSummary(
                attribute=attribute,
                value=value,
                scenarios=tuple(sorted(s.scenario_id for s in group)),
                repetitions=reps,
                passes=passes,
                interval=wilson_interval(passes, reps, confidence),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Totals:
    """Suite-level counts.

    Attributes:
        scenarios: Scenarios evaluated.
        passed: Scenarios whose every repetition passed.
        failed: Scenarios with at least one failed repetition.
        flaky: Scenarios whose repetitions disagree.
        repetitions: Repetitions run.
        repetition_passes: Repetitions that passed.
        interval: Wilson interval of the repetition pass rate.
    """

    scenarios: int
    passed: int
    failed: int
    flaky: int
    repetitions: int
    repetition_passes: int
    interval: tuple[float, float]

    @property
    def pass_rate(self) -> float:
        """Share of all repetitions that passed."""
        return self.repetition_passes / self.repetitions if self.repetitions else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "scenarios": self.scenarios,
            "passed": self.passed,
            "failed": self.failed,
            "flaky": self.flaky,
            "repetitions": self.repetitions,
            "repetition_passes": self.repetition_passes,
            "pass_rate": self.pass_rate,
            "interval": interval_dict(self.interval),
        }


def totals_of(scenarios: Sequence[ScenarioSummary], confidence: float) -> Totals:
    """Totals over ``scenarios``."""
    reps = sum(s.repetitions for s in scenarios)
    passes = sum(s.passes for s in scenarios)
    passed = sum(1 for s in scenarios if s.passed)
    return Totals(
        scenarios=len(scenarios),
        passed=passed,
        failed=len(scenarios) - passed,
        flaky=sum(1 for s in scenarios if s.flaky),
        repetitions=reps,
        repetition_passes=passes,
        interval=wilson_interval(passes, reps, confidence),
    )
