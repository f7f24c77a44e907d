"""The evaluation report: per-scenario results in, a content-addressed summary out.

A runner (closed loop or logged replay) hands over one :class:`ScenarioResult` per scenario, each
with its repetitions; :meth:`EvaluationReport.from_results` turns them into pass rates with Wilson
intervals, the worst margin per criterion, flakiness, per-ODD-slice pass rates, calibration,
abstention and latency. The report is named by the SHA-256 of its canonical JSON
(:attr:`EvaluationReport.digest`); pass ``created_at`` for a reproducible digest.

>>> from datetime import UTC, datetime
>>> run = RepetitionResult(seed=1, passed=True,
...                        criteria=(CriterionOutcome("min_ttc_s", 2.3, 1.5, 0.8),))
>>> result = ScenarioResult("cut-in", "Cut-in", asil="C", severity="S3", exposure="E3",
...                         controllability="C2", odd={"environment.weather": "clear"},
...                         repetitions=(run,))
>>> report = EvaluationReport.from_results(
...     [result], model_ref="pilot@1", model_digest="sha256:" + "a" * 64,
...     suite_digest="sha256:" + "b" * 64, odd_digest=None,
...     created_at=datetime(2026, 1, 1, tzinfo=UTC))
>>> report.scenarios[0].passed, report.slices[0].key
(True, 'environment.weather=clear')
>>> str(report.digest)[:7]
'sha256:'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._report_fields import OddValue, check_id, check_level, odd_tags
from modelsteward.evaluation._report_json import decode_report
from modelsteward.evaluation._report_model import (
    REPORT_SCHEMA,
    CriterionSummary,
    FrameSlice,
    ScenarioSummary,
    SliceSummary,
    Totals,
    check_asil,
    check_finite,
    slice_summaries,
    totals_of,
)
from modelsteward.evaluation.stats import (
    Calibration,
    LatencySummary,
    abstention_rate,
    calibration,
    flakiness,
    latency_summary,
    wilson_interval,
)
from modelsteward.ledger.entry import canonical_json
from modelsteward.types import Digest, format_time, utc_now

__all__ = [
    "REPORT_SCHEMA",
    "CriterionOutcome",
    "CriterionSummary",
    "EvaluationReport",
    "RepetitionResult",
    "ScenarioResult",
    "ScenarioSummary",
    "SliceSummary",
    "Totals",
]


@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    """One pass criterion measured in one repetition.

    Attributes:
        name: Criterion name as in the scenario file (``min_ttc_s``).
        value: What was measured (finite; cap unbounded quantities such as TTC at a horizon).
        threshold: The limit from the scenario file.
        margin: Distance to the limit in the passing direction: ``>= 0`` passes, ``< 0`` fails.
    """

    name: str
    value: float
    threshold: float
    margin: float

    def __post_init__(self) -> None:
        check_id(self.name, "criterion")
        for attr in ("value", "threshold", "margin"):
            check_finite(getattr(self, attr), f"criterion {self.name}: {attr}")

    @property
    def passed(self) -> bool:
        """True when the margin is not negative."""
        return self.margin >= 0.0


@dataclass(frozen=True, slots=True)
class RepetitionResult:
    """One repetition (one seed) of a scenario.

    Attributes:
        seed: The seed the repetition ran with.
        passed: The runner's verdict; must be False when any criterion margin is negative.
        criteria: Measured criteria, names unique.
        steps: ``(confidence, correct)`` per model decision, when the model reports confidence;
            what "correct" means is the caller's definition.
        latencies_ns: Model inference latencies in integer nanoseconds.
    """

    seed: int
    passed: bool
    criteria: tuple[CriterionOutcome, ...] = ()
    steps: tuple[tuple[float, bool], ...] = ()
    latencies_ns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        object.__setattr__(self, "steps", tuple((c, bool(ok)) for c, ok in self.steps))
        object.__setattr__(self, "latencies_ns", tuple(self.latencies_ns))
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise InvalidInput(f"seed {self.seed}: a criterion is reported twice in {names}")
        failing = [c.name for c in self.criteria if not c.passed]
        if self.passed and failing:
            raise InvalidInput(
                f"seed {self.seed}: marked passed but criteria {failing} have negative margins",
                hint="a repetition passes only when every criterion holds",
            )


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Everything a runner measured for one scenario.

    Attributes:
        scenario_id: Unique id in the library.
        title: Human title.
        asil: ``QM``, ``A``, ``B``, ``C`` or ``D``.
        severity: ``S0``…``S3``.
        exposure: ``E0``…``E4``.
        controllability: ``C0``…``C3``.
        odd: ODD tags, attribute (``group.attribute``) → value; ranges already binned by the caller.
        repetitions: At least one repetition.
        frame_slices: For a logged replay, ``attribute=value`` → (frames, correct frames) over
            all repetitions.
    """

    scenario_id: str
    title: str
    asil: str
    severity: str
    exposure: str
    controllability: str
    odd: Mapping[str, OddValue]
    repetitions: tuple[RepetitionResult, ...]
    frame_slices: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"scenario {self.scenario_id!r}"
        check_id(self.scenario_id, "scenario")
        check_asil(self.asil, where)
        check_level("S", self.severity, where)
        check_level("E", self.exposure, where)
        check_level("C", self.controllability, where)
        object.__setattr__(self, "repetitions", tuple(self.repetitions))
        if not self.repetitions:
            raise InvalidInput(f"{where} has no repetitions", hint="run it at least once")
        odd_tags(self.odd, where)


def _criterion_summaries(result: ScenarioResult) -> tuple[CriterionSummary, ...]:
    by_name: dict[str, list[CriterionOutcome]] = {}
    for rep in result.repetitions:
        for outcome in rep.criteria:
            by_name.setdefault(outcome.name, []).append(outcome)
    summaries = []
    for name in sorted(by_name):
        outcomes = by_name[name]
        worst = min(outcomes, key=lambda o: o.margin)
        summaries.append(
            CriterionSummary(
                name=name,
                threshold=worst.threshold,
                worst_value=worst.value,
                worst_margin=worst.margin,
                failures=sum(1 for o in outcomes if not o.passed),
                measured=len(outcomes),
            )
        )
    return tuple(summaries)


def _scenario_summary(result: ScenarioResult, confidence: float) -> ScenarioSummary:
    outcomes = [rep.passed for rep in result.repetitions]
    flaky = flakiness(outcomes)
    return ScenarioSummary(
        scenario_id=result.scenario_id,
        title=result.title,
        asil=result.asil,
        severity=result.severity,
        exposure=result.exposure,
        controllability=result.controllability,
        odd=odd_tags(result.odd, f"scenario {result.scenario_id!r}"),
        seeds=tuple(rep.seed for rep in result.repetitions),
        repetitions=flaky.repetitions,
        passes=flaky.passes,
        interval=wilson_interval(flaky.passes, flaky.repetitions, confidence),
        criteria=_criterion_summaries(result),
        flaky=flaky.flaky,
        frame_slices=tuple(
            FrameSlice(key, frames, correct, wilson_interval(correct, frames, confidence))
            for key, (frames, correct) in sorted(result.frame_slices.items())
        ),
    )


def _check_options(confidence_level: float, threshold: float, bins: int) -> None:
    """Refuse bad settings up front, even when no step would have exercised them."""
    wilson_interval(0, 0, confidence_level)
    abstention_rate([0.0], threshold)
    calibration([0.0], [True], bins)


def _check_results(results: Sequence[ScenarioResult]) -> None:
    if not results:
        raise InvalidInput("an evaluation needs at least one scenario result")
    ids = [r.scenario_id for r in results]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InvalidInput(f"scenario ids reported twice: {duplicates}")


def _step_metrics(
    results: Sequence[ScenarioResult], threshold: float, bins: int
) -> tuple[Calibration | None, float | None, LatencySummary | None]:
    """Calibration, abstention and latency pooled over every repetition (``None`` without data)."""
    reps = [rep for r in results for rep in r.repetitions]
    steps = [step for rep in reps for step in rep.steps]
    latencies = [ns for rep in reps for ns in rep.latencies_ns]
    if not steps:
        return None, None, latency_summary(latencies) if latencies else None
    confidences = [c for c, _ in steps]
    return (
        calibration(confidences, [ok for _, ok in steps], bins),
        abstention_rate(confidences, threshold),
        latency_summary(latencies) if latencies else None,
    )


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """A content-addressed evaluation of one model version against one scenario suite.

    Attributes:
        model_ref: How the model was referred to (name, alias or digest).
        model_digest: The evaluated model version's digest.
        suite_digest: Digest of the scenario library.
        odd_digest: Digest of the ODD file, or ``None`` when the suite has none.
        created_at: RFC 3339 UTC time the report was made (part of the digest).
        confidence_level: Confidence level of every Wilson interval.
        abstention_threshold: Confidence below which a proposal counts as an abstention.
        scenarios: Per-scenario summaries, sorted by id.
        slices: Per-ODD-slice pass rates, sorted by attribute and value.
        calibration: ECE/MCE and reliability bins, or ``None`` without confidences.
        abstention_rate: Share of steps below the threshold, or ``None`` without confidences.
        latency: Latency distribution in ms, or ``None`` without measurements.
        totals: Counts and the overall repetition pass rate.
    """

    model_ref: str
    model_digest: str
    suite_digest: str
    odd_digest: str | None
    created_at: str
    confidence_level: float
    abstention_threshold: float
    scenarios: tuple[ScenarioSummary, ...]
    slices: tuple[SliceSummary, ...]
    calibration: Calibration | None
    abstention_rate: float | None
    latency: LatencySummary | None
    totals: Totals

    @classmethod
    def from_results(
        cls,
        results: Sequence[ScenarioResult],
        *,
        model_ref: str,
        model_digest: str,
        suite_digest: str,
        odd_digest: str | None,
        created_at: datetime | None = None,
        abstention_threshold: float = 0.5,
        confidence_level: float = 0.95,
        calibration_bins: int = 10,
    ) -> EvaluationReport:
        """Summarise scenario results into a report.

        Raises:
            InvalidInput: no results, a duplicate scenario id, a malformed digest or bad values.
        """
        _check_results(results)
        _check_options(confidence_level, abstention_threshold, calibration_bins)
        scenarios = tuple(
            _scenario_summary(r, confidence_level)
            for r in sorted(results, key=lambda r: r.scenario_id)
        )
        cal, abstention, latency = _step_metrics(results, abstention_threshold, calibration_bins)
        return cls(
            model_ref=check_id(model_ref, "model_ref"),
            model_digest=str(Digest.parse(model_digest)),
            suite_digest=str(Digest.parse(suite_digest)),
            odd_digest=None if odd_digest is None else str(Digest.parse(odd_digest)),
            created_at=format_time(created_at or utc_now()),
            confidence_level=confidence_level,
            abstention_threshold=abstention_threshold,
            scenarios=scenarios,
            slices=slice_summaries(scenarios, confidence_level),
            calibration=cal,
            abstention_rate=abstention,
            latency=latency,
            totals=totals_of(scenarios, confidence_level),
        )

    def scenario(self, scenario_id: str) -> ScenarioSummary | None:
        """The summary of ``scenario_id``, or ``None``."""
        return next((s for s in self.scenarios if s.scenario_id == scenario_id), None)

    def to_dict(self) -> dict[str, Any]:
        """Canonical JSON-safe form (the exact content the digest covers)."""
        return {
            "$schema": REPORT_SCHEMA,
            "model": {"ref": self.model_ref, "digest": self.model_digest},
            "suite_digest": self.suite_digest,
            "odd_digest": self.odd_digest,
            "created_at": self.created_at,
            "confidence_level": self.confidence_level,
            "abstention_threshold": self.abstention_threshold,
            "scenarios": [s.to_dict() for s in self.scenarios],
            "slices": [s.to_dict() for s in self.slices],
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "abstention_rate": self.abstention_rate,
            "latency_ms": None if self.latency is None else self.latency.to_dict(),
            "totals": self.totals.to_dict(),
        }

    def canonical_json(self) -> bytes:
        """The bytes to store: sorted keys, compact separators, UTF-8."""
        return canonical_json(self.to_dict())

    @property
    def digest(self) -> Digest:
        """SHA-256 of :meth:`canonical_json`; the report's identity."""
        return Digest.of(self.canonical_json())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        """Read a report written by :meth:`to_dict`; derived figures must match.

        Raises:
            InvalidInput: the document is malformed, of another schema, or inconsistent.
        """
        fields = decode_report(data)
        report = cls(**fields)
        if report.to_dict() != dict(data):
            raise InvalidInput(
                "evaluation report is inconsistent: its derived figures do not match its scenarios",
                hint="reports are generated by Steward; do not edit them by hand",
            )
        return report
