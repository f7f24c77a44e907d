"""Reading an evaluation report's JSON back into its records, naming the field that is wrong.

Derived figures (slices and totals) are recomputed from the scenarios rather than trusted;
:meth:`EvaluationReport.from_dict` then checks the document says the same.

>>> decode_report({"$schema": "other"})
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: evaluation report: unsupported $schema 'other'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._report_fields import check_level
from modelsteward.evaluation._report_model import (
    REPORT_SCHEMA,
    CriterionSummary,
    FrameSlice,
    ScenarioSummary,
    check_asil,
    check_finite,
    slice_summaries,
    totals_of,
)
from modelsteward.evaluation.stats import Calibration, CalibrationBin, LatencySummary

__all__ = ["decode_report", "field", "number", "optional_number"]

_WHERE = "evaluation report"


def field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``data[key]`` checked to be of ``kind`` (booleans are never numbers)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{where} must be an object")
    if key not in data:
        raise InvalidInput(f"{where}.{key} is missing")
    value = data[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise InvalidInput(f"{where}.{key} has the wrong type ({type(value).__name__})")
    return value


def number(data: Mapping[str, Any], key: str, where: str) -> float:
    """A finite number field."""
    return check_finite(field(data, key, (int, float), where), f"{where}.{key}")


def optional_number(data: Mapping[str, Any], key: str, where: str) -> float | None:
    """A finite number field that may be ``null``."""
    return (
        None
        if field(data, key, (int, float, type(None)), where) is None
        else number(data, key, where)
    )


def _interval(data: Mapping[str, Any], where: str) -> tuple[float, float]:
    raw = field(data, "interval", dict, where)
    return (number(raw, "low", f"{where}.interval"), number(raw, "high", f"{where}.interval"))


def _criterion(name: str, raw: Mapping[str, Any], where: str) -> CriterionSummary:
    return CriterionSummary(
        name=name,
        threshold=number(raw, "threshold", where),
        worst_value=number(raw, "worst_value", where),
        worst_margin=number(raw, "worst_margin", where),
        failures=field(raw, "failures", int, where),
        measured=field(raw, "measured", int, where),
    )


def _scenario(raw: Mapping[str, Any], i: int) -> ScenarioSummary:
    where = f"report.scenarios[{i}]"
    hazard = field(raw, "hazard", dict, where)
    criteria = field(raw, "criteria", dict, where)
    odd = field(raw, "odd", dict, where)
    repetitions = field(raw, "repetitions", int, where)
    if repetitions < 1:
        raise InvalidInput(f"{where}.repetitions must be at least 1")
    return ScenarioSummary(
        scenario_id=field(raw, "id", str, where),
        title=field(raw, "title", str, where),
        asil=check_asil(field(hazard, "asil", str, where), where),
        severity=check_level("S", field(hazard, "severity", str, where), where),
        exposure=check_level("E", field(hazard, "exposure", str, where), where),
        controllability=check_level("C", field(hazard, "controllability", str, where), where),
        odd=tuple(sorted((str(k), field(odd, k, str, f"{where}.odd")) for k in odd)),
        seeds=tuple(
            field({"seed": s}, "seed", int, f"{where}.seeds[{j}]")
            for j, s in enumerate(field(raw, "seeds", list, where))
        ),
        repetitions=repetitions,
        passes=field(raw, "passes", int, where),
        interval=_interval(raw, where),
        criteria=tuple(
            _criterion(k, field(criteria, k, dict, f"{where}.criteria"), f"{where}.criteria.{k}")
            for k in sorted(criteria)
        ),
        flaky=field(raw, "flaky", bool, where),
        frame_slices=tuple(
            _frame_slice(f, f"{where}.frame_slices[{j}]")
            for j, f in enumerate(field(raw, "frame_slices", list, where))
        ),
    )


def _frame_slice(raw: object, where: str) -> FrameSlice:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"{where}: expected an object")
    return FrameSlice(
        key=field(raw, "key", str, where),
        frames=field(raw, "frames", int, where),
        correct=field(raw, "correct", int, where),
        interval=_interval(raw, where),
    )


def _calibration(raw: Mapping[str, Any] | None) -> Calibration | None:
    if raw is None:
        return None
    where = "report.calibration"
    bins = []
    for i, b in enumerate(field(raw, "bins", list, where)):
        at = f"{where}.bins[{i}]"
        bins.append(
            CalibrationBin(
                lower=number(b, "lower", at),
                upper=number(b, "upper", at),
                count=field(b, "count", int, at),
                mean_confidence=optional_number(b, "mean_confidence", at),
                accuracy=optional_number(b, "accuracy", at),
            )
        )
    return Calibration(
        samples=field(raw, "samples", int, where),
        ece=number(raw, "ece", where),
        mce=number(raw, "mce", where),
        bins=tuple(bins),
    )


def _latency(raw: Mapping[str, Any] | None) -> LatencySummary | None:
    if raw is None:
        return None
    w = "report.latency_ms"
    return LatencySummary(
        count=field(raw, "count", int, w),
        p50=number(raw, "p50", w),
        p90=number(raw, "p90", w),
        p99=number(raw, "p99", w),
        max=number(raw, "max", w),
        mean=number(raw, "mean", w),
    )


def decode_report(data: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``EvaluationReport`` read from its JSON form.

    Raises:
        InvalidInput: a field is missing, of the wrong type, or the schema is not ours.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{_WHERE} must be a JSON object")
    if data.get("$schema") != REPORT_SCHEMA:
        raise InvalidInput(f"{_WHERE}: unsupported $schema {data.get('$schema')!r}")
    model = field(data, "model", dict, "report")
    level = number(data, "confidence_level", "report")
    scenarios = tuple(
        _scenario(raw, i) for i, raw in enumerate(field(data, "scenarios", list, "report"))
    )
    return {
        "model_ref": field(model, "ref", str, "report.model"),
        "model_digest": field(model, "digest", str, "report.model"),
        "suite_digest": field(data, "suite_digest", str, "report"),
        "odd_digest": field(data, "odd_digest", (str, type(None)), "report"),
        "created_at": field(data, "created_at", str, "report"),
        "confidence_level": level,
        "abstention_threshold": number(data, "abstention_threshold", "report"),
        "scenarios": scenarios,
        "slices": slice_summaries(scenarios, level),
        "calibration": _calibration(field(data, "calibration", (dict, type(None)), "report")),
        "abstention_rate": optional_number(data, "abstention_rate", "report"),
        "latency": _latency(field(data, "latency_ms", (dict, type(None)), "report")),
        "totals": totals_of(scenarios, level),
    }
