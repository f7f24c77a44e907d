"""Baselines and regressions: what counts as critical, and how each finding explains itself."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation_factories import report, scenario
from modelsteward.errors import InvalidInput
from modelsteward.evaluation.baseline import Baseline, compare

PASS4 = [{"min_ttc_s": 0.8}] * 4
ONE_OF_4 = [{"min_ttc_s": -0.4}, {"min_ttc_s": 0.1}, {"min_ttc_s": -0.2}, {"min_ttc_s": -0.1}]


def _baseline(*results: object) -> Baseline:
    return Baseline.from_report(report(list(results)))  # type: ignore[arg-type]


def test_s3_pass_to_fail_is_a_critical_regression() -> None:
    base = _baseline(scenario("cut-in-aggressive-dense", PASS4))
    found = compare(base, report([scenario("cut-in-aggressive-dense", ONE_OF_4)]))
    assert found.has_critical
    (regression,) = found.critical
    assert regression.pass_to_fail
    assert regression.explanation == (
        "cut-in-aggressive-dense (S3, ASIL C): passed 4/4 in the baseline, 1/4 now; "
        "min_ttc_s margin 0.8 → -0.4"
    )


def test_s2_pass_to_fail_is_a_critical_regression() -> None:
    base = _baseline(scenario("merge", PASS4, severity="S2", asil="B"))
    found = compare(base, report([scenario("merge", ONE_OF_4, severity="S2", asil="B")]))
    assert [r.scenario_id for r in found.critical] == ["merge"]


@pytest.mark.parametrize("severity", ["S0", "S1"])
def test_s0_s1_pass_to_fail_is_a_non_critical_regression(severity: str) -> None:
    base = _baseline(scenario("cruise", PASS4, severity=severity, asil="QM"))
    found = compare(base, report([scenario("cruise", ONE_OF_4, severity=severity, asil="QM")]))
    assert not found.has_critical
    (regression,) = found.non_critical
    assert regression.explanation.startswith(f"cruise ({severity}, QM): passed 4/4")


def test_margin_drop_within_tolerance_is_not_a_regression() -> None:
    base = _baseline(scenario("cut-in", PASS4))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.6}] * 4)])
    found = compare(base, now, {"cut-in": {"min_ttc_s": 0.3}})
    assert not found.critical
    assert not found.non_critical


@pytest.mark.parametrize(("before", "after", "tolerance"), [(1.0, 0.5, 0.5), (0.8, 0.5, 0.3)])
def test_margin_drop_equal_to_tolerance_is_not_a_regression(
    before: float, after: float, tolerance: float
) -> None:
    base = _baseline(scenario("cut-in", [{"min_ttc_s": before}]))
    now = report([scenario("cut-in", [{"min_ttc_s": after}])])
    assert not compare(base, now, {"cut-in": {"min_ttc_s": tolerance}}).critical


def test_s3_margin_drop_beyond_tolerance_is_a_critical_regression_while_still_passing() -> None:
    base = _baseline(scenario("cut-in", PASS4))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.3}] * 4)])
    found = compare(base, now, {"cut-in": {"min_ttc_s": 0.3}})
    (regression,) = found.critical
    assert not regression.pass_to_fail
    assert regression.explanation == (
        "cut-in (S3, ASIL C): passed 4/4 in the baseline, 4/4 now; "
        "min_ttc_s margin 0.8 → 0.3 (drop 0.5 > tolerance 0.3)"
    )


def test_margin_drop_without_a_declared_tolerance_is_not_a_regression() -> None:
    base = _baseline(scenario("cut-in", PASS4))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.01}] * 4)])
    assert not compare(base, now, {"other": {"min_ttc_s": 0.1}}).critical


def test_declared_criterion_no_longer_measured_is_a_regression() -> None:
    base = _baseline(scenario("cut-in", [{"min_ttc_s": 0.8, "min_headway_s": 0.2}]))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.8}])])
    (regression,) = compare(base, now, {"cut-in": {"min_headway_s": 0.1}}).critical
    assert regression.explanation.endswith("min_headway_s margin 0.2 → not measured now")


def test_scenario_failing_in_the_baseline_does_not_regress_by_failing_again() -> None:
    base = _baseline(scenario("cut-in", ONE_OF_4))
    now = report([scenario("cut-in", [{"min_ttc_s": -2.0}] * 4)])
    found = compare(base, now, {"cut-in": {"min_ttc_s": 0.0}})
    assert (found.critical, found.non_critical, found.improvements) == ((), (), ())


def test_flaky_scenario_that_passed_in_the_baseline_is_a_pass_to_fail_regression() -> None:
    base = _baseline(scenario("cut-in", PASS4))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.8}] * 3 + [{"min_ttc_s": -0.1}])])
    (regression,) = compare(base, now).critical
    assert regression.current == (3, 4)


def test_raised_severity_since_the_baseline_makes_the_regression_critical() -> None:
    base = _baseline(scenario("merge", PASS4, severity="S1", asil="QM"))
    now = report([scenario("merge", ONE_OF_4, severity="S1", asil="QM")])
    assert not compare(base, now).critical
    lowered = _baseline(scenario("merge", PASS4, severity="S3"))
    (regression,) = compare(lowered, now).critical
    assert regression.severity == "S3"


def test_criterion_failing_now_that_the_baseline_never_measured_is_named() -> None:
    base = _baseline(scenario("cut-in", PASS4))
    now = report([scenario("cut-in", [{"min_ttc_s": 0.8, "min_headway_s": -0.3}])])
    (regression,) = compare(base, now).critical
    assert "min_headway_s margin -0.3 (not measured in the baseline)" in regression.explanation


def test_fail_to_pass_is_an_improvement() -> None:
    base = _baseline(scenario("cut-in", ONE_OF_4))
    found = compare(base, report([scenario("cut-in", PASS4)]))
    (improvement,) = found.improvements
    assert improvement.explanation == "cut-in (S3, ASIL C): passed 1/4 in the baseline, 4/4 now"


def test_new_and_removed_scenarios_are_listed() -> None:
    base = _baseline(scenario("old", PASS4), scenario("kept", PASS4))
    found = compare(base, report([scenario("kept", PASS4), scenario("fresh", PASS4)]))
    assert [c.scenario_id for c in found.new] == ["fresh"]
    assert [c.explanation for c in found.removed] == [
        "old (S3, ASIL C): passed 4/4 in the baseline, not evaluated now"
    ]
    assert not found.critical


def test_critical_regressions_list_the_most_severe_first() -> None:
    base = _baseline(
        scenario("a", PASS4, severity="S2", asil="B"), scenario("b", PASS4, severity="S3")
    )
    now = report([scenario("a", ONE_OF_4, severity="S2", asil="B"), scenario("b", ONE_OF_4)])
    assert [r.scenario_id for r in compare(base, now).critical] == ["b", "a"]


@pytest.mark.parametrize("tolerance", [-0.1, float("nan"), True])
def test_malformed_tolerance_is_refused(tolerance: float) -> None:
    base = _baseline(scenario("cut-in", PASS4))
    with pytest.raises(InvalidInput, match="tolerance"):
        compare(base, report([scenario("cut-in", PASS4)]), {"cut-in": {"min_ttc_s": tolerance}})


def test_regression_report_is_json_safe_and_names_both_reports() -> None:
    locked = report([scenario("cut-in", PASS4)])
    now = report([scenario("cut-in", ONE_OF_4)], suite_digest="sha256:" + "d" * 64)
    found = compare(Baseline.from_report(locked), now)
    data = json.loads(json.dumps(found.to_dict(), allow_nan=False))
    assert data["summary"]["critical"] == 1
    assert data["baseline_report_digest"] == str(locked.digest)
    assert data["report_digest"] == str(now.digest)
    assert data["suite_changed"] is True
    assert data["critical"][0]["margins"][0]["drop"] == pytest.approx(1.2)


def test_baseline_round_trips_through_json_with_the_same_digest() -> None:
    base = _baseline(scenario("cut-in", PASS4), scenario("merge", ONE_OF_4, severity="S2"))
    again = Baseline.from_dict(json.loads(json.dumps(base.to_dict())))
    assert again == base
    assert again.digest == base.digest


@pytest.mark.parametrize("broken", [{"$schema": "x"}, {"scenarios": []}, {"model": None}])
def test_malformed_baseline_is_refused(broken: dict[str, object]) -> None:
    data = {**_baseline(scenario("cut-in", PASS4)).to_dict(), **broken}
    with pytest.raises(InvalidInput):
        Baseline.from_dict(data)


@given(
    st.lists(
        st.lists(st.floats(min_value=-5, max_value=5), min_size=1, max_size=4),
        min_size=1,
        max_size=5,
    )
)
def test_a_report_never_regresses_against_its_own_baseline(margins: list[list[float]]) -> None:
    results = [
        scenario(f"s{i}", [{"min_ttc_s": m} for m in reps]) for i, reps in enumerate(margins)
    ]
    made = report(results)
    tolerances = {f"s{i}": {"min_ttc_s": 0.0} for i in range(len(margins))}
    found = compare(Baseline.from_report(made), made, tolerances)
    assert (found.critical, found.non_critical, found.improvements) == ((), (), ())
    assert (found.new, found.removed, found.suite_changed) == ((), (), False)
