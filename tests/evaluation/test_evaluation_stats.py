"""Statistics: Wilson intervals, calibration, abstention, latency and flakiness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.stats import (
    abstention_rate,
    calibration,
    flakiness,
    latency_summary,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        (8, 10, (0.4902, 0.9433)),
        (1, 10, (0.0179, 0.4042)),
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),
        (81, 263, (0.2553, 0.3662)),  # Newcombe (1998), Statistics in Medicine 17, table I
    ],
)
def test_wilson_95_matches_published_references(
    successes: int, n: int, expected: tuple[float, float]
) -> None:
    low, high = wilson_interval(successes, n)
    assert (round(low, 4), round(high, 4)) == expected


def test_wilson_with_no_trials_is_the_whole_unit_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_widens_with_the_confidence_level() -> None:
    low90, high90 = wilson_interval(8, 10, confidence=0.90)
    low99, high99 = wilson_interval(8, 10, confidence=0.99)
    assert low99 < low90 < 0.8 < high90 < high99


@pytest.mark.parametrize(("successes", "n", "level"), [(-1, 3, 0.95), (4, 3, 0.95), (1, 3, 1.0)])
def test_wilson_rejects_impossible_counts_and_levels(successes: int, n: int, level: float) -> None:
    with pytest.raises(InvalidInput):
        wilson_interval(successes, n, level)


@given(
    st.integers(min_value=1, max_value=100_000).flatmap(
        lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
    ),
    st.floats(min_value=0.5, max_value=0.999),
)
def test_wilson_interval_contains_the_estimate_and_stays_in_unit_range(
    counts: tuple[int, int], level: float
) -> None:
    successes, n = counts
    low, high = wilson_interval(successes, n, level)
    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_calibration_matches_a_hand_computed_example() -> None:
    # bins of width 0.5: [0.2, 0.4] → conf 0.3, acc 0.5, gap 0.2; [0.6, 0.8, 1.0] → conf 0.8,
    # acc 2/3, gap 0.1333…; ECE = 2/5 · 0.2 + 3/5 · 0.1333… = 0.16; MCE = 0.2
    cal = calibration([0.2, 0.4, 0.6, 0.8, 1.0], [True, False, True, False, True], bins=2)
    assert cal.samples == 5
    assert cal.ece == pytest.approx(0.16)
    assert cal.mce == pytest.approx(0.2)
    assert [b.count for b in cal.bins] == [2, 3]
    assert cal.bins[1].mean_confidence == pytest.approx(0.8)
    assert cal.bins[1].accuracy == pytest.approx(2 / 3)


def test_perfectly_calibrated_confidences_have_zero_error() -> None:
    cal = calibration([0.75] * 4, [True, True, True, False])
    assert cal.ece == pytest.approx(0.0)
    assert cal.mce == pytest.approx(0.0)


def test_empty_bins_are_kept_for_the_diagram_but_excluded_from_mce() -> None:
    cal = calibration([0.95, 0.95], [True, True], bins=10)
    assert len(cal.bins) == 10
    assert [b.count for b in cal.bins] == [0] * 9 + [2]
    assert cal.bins[0].accuracy is None
    assert cal.bins[0].gap is None
    assert cal.mce == pytest.approx(0.05)


def test_confidence_one_falls_in_the_last_bin_and_bin_edges_are_inclusive_below() -> None:
    cal = calibration([1.0, 0.5, 0.0], [True, True, False], bins=2)
    assert [b.count for b in cal.bins] == [1, 2]


@pytest.mark.parametrize(
    ("confidences", "correct", "bins"),
    [
        ([], [], 10),
        ([0.5], [True, False], 10),
        ([1.5], [True], 10),
        ([math.nan], [True], 10),
        ([0.5], [True], 0),
    ],
)
def test_calibration_refuses_missing_or_malformed_input(
    confidences: list[float], correct: list[bool], bins: int
) -> None:
    with pytest.raises(InvalidInput):
        calibration(confidences, correct, bins)


@given(
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=1.0), st.booleans()), min_size=1, max_size=200
    ),
    st.integers(min_value=1, max_value=20),
)
def test_ece_is_in_unit_range_and_never_exceeds_mce(
    pairs: list[tuple[float, bool]], bins: int
) -> None:
    cal = calibration([c for c, _ in pairs], [ok for _, ok in pairs], bins)
    assert 0.0 <= cal.ece <= cal.mce <= 1.0
    assert sum(b.count for b in cal.bins) == len(pairs)


def test_abstention_counts_confidences_strictly_below_the_threshold() -> None:
    assert abstention_rate([0.1, 0.5, 0.49, 0.9], threshold=0.5) == 0.5


def test_abstention_without_confidences_is_refused() -> None:
    with pytest.raises(InvalidInput):
        abstention_rate([], 0.5)


def test_latency_summary_reports_milliseconds_with_linear_percentiles() -> None:
    values = [ms * 1_000_000 for ms in range(1, 101)]
    summary = latency_summary(values)
    assert summary.count == 100
    assert summary.p50 == pytest.approx(50.5)
    assert summary.p90 == pytest.approx(90.1)
    assert summary.p99 == pytest.approx(99.01)
    assert summary.max == 100.0
    assert summary.mean == pytest.approx(50.5)


@given(st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=50))
def test_latency_percentiles_agree_with_numpy(values: list[int]) -> None:
    summary = latency_summary(values)
    expected = np.percentile(np.array(values, dtype=np.float64), [50, 90, 99]) / 1e6
    assert [summary.p50, summary.p90, summary.p99] == pytest.approx(list(expected))


@pytest.mark.parametrize("values", [[], [-1], [1.5]])
def test_latency_summary_refuses_missing_or_malformed_measurements(values: list[int]) -> None:
    with pytest.raises(InvalidInput):
        latency_summary(values)


def test_scenario_whose_repetitions_disagree_is_flaky() -> None:
    result = flakiness([True, False, True, True])
    assert result.flaky
    assert (result.repetitions, result.passes, result.minority_share) == (4, 3, 0.25)


@pytest.mark.parametrize("outcomes", [[True] * 3, [False] * 3, [True]])
def test_scenario_whose_repetitions_agree_is_not_flaky(outcomes: list[bool]) -> None:
    assert not flakiness(outcomes).flaky


def test_flakiness_needs_a_repetition() -> None:
    with pytest.raises(InvalidInput):
        flakiness([])
