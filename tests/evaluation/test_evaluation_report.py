"""The evaluation report: summaries, slices, calibration, and a content-addressed JSON form."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime

import pytest

from evaluation_factories import WHEN, repetition, report, scenario
from modelsteward.errors import InvalidInput
from modelsteward.evaluation.report import (
    CriterionOutcome,
    EvaluationReport,
    RepetitionResult,
    ScenarioResult,
)
from modelsteward.evaluation.stats import wilson_interval
from modelsteward.types import parse_time


def _suite() -> list[ScenarioResult]:
    dense = {"dynamic_elements.traffic_density": "dense", "environment.weather": "clear"}
    light = {"dynamic_elements.traffic_density": "light", "environment.weather": "clear"}
    return [
        scenario(
            "cut-in-dense",
            [{"min_ttc_s": 0.8}, {"min_ttc_s": -0.4}, {"min_ttc_s": 0.2}, {"min_ttc_s": 0.5}],
            odd=dense,
        ),
        scenario("nominal", [{"min_ttc_s": 3.0}] * 4, severity="S1", asil="QM", odd=light),
    ]


def test_scenario_summary_has_pass_rate_and_wilson_interval() -> None:
    summary = report(_suite()).scenario("cut-in-dense")
    assert summary is not None
    assert (summary.passes, summary.repetitions, summary.pass_rate) == (3, 4, 0.75)
    assert summary.interval == wilson_interval(3, 4)
    assert summary.seeds == (1000, 1001, 1002, 1003)


def test_worst_margin_per_criterion_is_the_smallest_over_repetitions() -> None:
    summary = report(_suite()).scenario("cut-in-dense")
    assert summary is not None
    (ttc,) = summary.criteria
    assert (ttc.name, ttc.worst_margin, ttc.failures, ttc.measured) == ("min_ttc_s", -0.4, 1, 4)
    assert ttc.worst_value == pytest.approx(1.1)
    assert ttc.threshold == 1.5


def test_scenario_with_disagreeing_repetitions_is_flaky_and_fails() -> None:
    summary = report(_suite()).scenario("cut-in-dense")
    assert summary is not None
    assert summary.flaky
    assert not summary.passed


def test_slice_pass_rate_pools_the_repetitions_of_every_tagged_scenario() -> None:
    slices = {s.key: s for s in report(_suite()).slices}
    assert sorted(slices) == [
        "dynamic_elements.traffic_density=dense",
        "dynamic_elements.traffic_density=light",
        "environment.weather=clear",
    ]
    clear = slices["environment.weather=clear"]
    assert (clear.passes, clear.repetitions, clear.scenarios) == (7, 8, ("cut-in-dense", "nominal"))
    assert clear.interval == wilson_interval(7, 8)


def test_numeric_odd_values_are_labelled_without_a_trailing_zero() -> None:
    result = scenario("fast", [{"min_ttc_s": 1.0}], odd={"scenery.lanes": 3.0})
    assert report([result]).slices[0].key == "scenery.lanes=3"


def test_totals_count_scenarios_and_repetitions() -> None:
    totals = report(_suite()).totals
    assert (totals.scenarios, totals.passed, totals.failed, totals.flaky) == (2, 1, 1, 1)
    assert (totals.repetition_passes, totals.repetitions) == (7, 8)


def test_calibration_abstention_and_latency_pool_every_repetition() -> None:
    first = repetition(
        1,
        {"min_ttc_s": 1.0},
        steps=[(0.9, True), (0.3, False)],
        latencies_ns=[1_000_000, 3_000_000],
    )
    second = repetition(
        2, {"min_ttc_s": 1.0}, steps=[(0.9, True), (0.7, True)], latencies_ns=[2_000_000]
    )
    result = ScenarioResult("a", "A", "C", "S3", "E3", "C2", {"x.y": "z"}, (first, second))
    made = report([result], abstention_threshold=0.5)
    assert made.calibration is not None
    assert made.calibration.samples == 4
    assert made.abstention_rate == 0.25
    assert made.latency is not None
    assert (made.latency.count, made.latency.p50) == (3, 2.0)


def test_report_without_confidences_or_latencies_leaves_those_metrics_empty() -> None:
    made = report(_suite())
    assert made.calibration is None
    assert made.abstention_rate is None
    assert made.latency is None


def test_digest_is_sha256_of_canonical_json() -> None:
    made = report(_suite())
    data = made.to_dict()
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert made.canonical_json() == canonical.encode("utf-8")
    assert made.digest.hex == hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_same_results_and_time_give_the_same_digest() -> None:
    assert report(_suite()).digest == report(list(reversed(_suite()))).digest


def test_creation_time_is_part_of_the_digest() -> None:
    later = datetime(2026, 3, 2, tzinfo=UTC)
    assert report(_suite()).digest != report(_suite(), created_at=later).digest


def test_creation_time_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC)
    made = report(_suite(), created_at=None)
    assert parse_time(made.created_at) >= before.replace(microsecond=0)


def test_report_round_trips_through_json_with_the_same_digest() -> None:
    first = repetition(1, {"min_ttc_s": 1.0}, steps=[(0.9, True)], latencies_ns=[5])
    result = ScenarioResult("a", "A", "C", "S3", "E3", "C2", {"x.y": 2}, (first,))
    made = report([*_suite(), result])
    text = json.dumps(made.to_dict(), allow_nan=False)
    again = EvaluationReport.from_dict(json.loads(text))
    assert again == made
    assert again.digest == made.digest


def test_report_with_edited_figures_is_refused() -> None:
    data = copy.deepcopy(report(_suite()).to_dict())
    data["scenarios"][0]["passes"] = 4
    with pytest.raises(InvalidInput, match="inconsistent"):
        EvaluationReport.from_dict(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [(("$schema",), "other"), (("scenarios",), {}), (("model", "digest"), 3)],
)
def test_malformed_report_json_is_refused(path: tuple[str, ...], value: object) -> None:
    data = copy.deepcopy(report(_suite()).to_dict())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInput):
        EvaluationReport.from_dict(data)


def test_repetition_marked_passed_with_a_negative_margin_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative margins"):
        RepetitionResult(1, True, (CriterionOutcome("min_ttc_s", 1.0, 1.5, -0.5),))


def test_unbounded_measurements_must_be_capped() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        CriterionOutcome("min_ttc_s", float("inf"), 1.5, float("inf"))


@pytest.mark.parametrize(
    "field", [{"severity": "S4"}, {"exposure": "E5"}, {"controllability": "C9"}, {"asil": "E"}]
)
def test_hazard_classes_are_checked(field: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        scenario("a", [{"min_ttc_s": 1.0}], **field)  # type: ignore[arg-type]


def test_scenario_without_repetitions_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no repetitions"):
        scenario("a", [])


def test_report_needs_unique_scenarios() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        report([scenario("a", [{}]), scenario("a", [{}])])


def test_report_needs_a_scenario() -> None:
    with pytest.raises(InvalidInput):
        report([])


def test_malformed_model_digest_is_refused() -> None:
    with pytest.raises(InvalidInput):
        report(_suite(), model_digest="sha256:nothex")


def test_fixed_time_is_written_in_the_ledger_format() -> None:
    assert report(_suite()).created_at == "2026-03-01T12:00:00.000000Z"
    assert parse_time(report(_suite()).created_at) == WHEN


@pytest.mark.parametrize(
    "option",
    [{"abstention_threshold": 1.5}, {"confidence_level": 1.0}, {"calibration_bins": 0}],
)
def test_bad_report_settings_are_refused_even_without_confidences(
    option: dict[str, object],
) -> None:
    with pytest.raises(InvalidInput):
        report(_suite(), **option)
