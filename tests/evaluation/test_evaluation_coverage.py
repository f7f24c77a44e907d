"""ODD coverage: the matrix of cells against scenarios and data, and the ranked gap register."""

from __future__ import annotations

import itertools
import json

import pytest

from evaluation_factories import report, scenario
from modelsteward.errors import InvalidInput
from modelsteward.evaluation.coverage import (
    ScenarioOutcome,
    compute_coverage,
    outcomes_from_report,
)

W, D = "environment.weather", "dynamic_elements.traffic_density"
CELLS = [{W: w, D: d} for w, d in itertools.product(["clear", "rain"], ["light", "dense"])]


def _outcome(
    sid: str, weather: str, density: str, passed: bool, severity: str = "S3", exposure: str = "E3"
) -> ScenarioOutcome:
    return ScenarioOutcome(sid, {W: weather, D: density}, passed, severity, exposure)


def test_cell_without_passing_scenario_is_a_gap() -> None:
    cov = compute_coverage(CELLS, [_outcome("nominal", "clear", "light", True)])
    assert [c.covered for c in cov.cells] == [True, False, False, False]
    assert len(cov.gaps) == 3
    assert "dynamic_elements.traffic_density=light, environment.weather=clear" not in {
        g.key for g in cov.gaps
    }


def test_cell_with_one_passing_scenario_is_covered_even_if_another_fails() -> None:
    cov = compute_coverage(
        [CELLS[0]],
        [_outcome("a", "clear", "light", True), _outcome("b", "clear", "light", False)],
    )
    (row,) = cov.cells
    assert (row.covered, row.passing, row.failing) == (True, ("a",), ("b",))
    assert cov.gaps == ()


def test_gap_exercised_only_by_failing_scenarios_takes_their_highest_risk() -> None:
    cov = compute_coverage(
        [CELLS[3]],
        [
            _outcome("cut-in", "rain", "dense", False, "S3", "E2"),
            _outcome("merge", "rain", "dense", False, "S2", "E4"),
        ],
    )
    (gap,) = cov.gaps
    assert (gap.basis, gap.risk, gap.scenarios) == ("failing", 8, ("cut-in", "merge"))
    assert gap.reason == "exercised only by failing scenarios: cut-in (S3×E2=6), merge (S2×E4=8)"


def test_untested_cell_takes_the_risk_of_its_nearest_scenarios() -> None:
    cells = [{W: "fog", D: "dense", "scenery.road_type": "motorway"}]
    scenarios = [
        ScenarioOutcome(
            "near", {W: "fog", D: "dense", "scenery.road_type": "rural"}, True, "S2", "E2"
        ),
        ScenarioOutcome(
            "far", {W: "fog", D: "light", "scenery.road_type": "rural"}, True, "S3", "E4"
        ),
    ]
    (gap,) = compute_coverage(cells, scenarios).gaps
    assert (gap.basis, gap.risk, gap.shared, gap.scenarios) == ("nearest", 4, 2, ("near",))
    assert "the nearest share 2 of 3 attribute values: near (S2×E2=4)" in gap.reason


def test_cell_unrelated_to_every_scenario_has_risk_zero() -> None:
    (gap,) = compute_coverage([{W: "snow"}], [_outcome("a", "clear", "light", True)]).gaps
    assert (gap.basis, gap.risk, gap.scenarios) == ("none", 0, ())


def test_gaps_are_ranked_by_severity_times_exposure() -> None:
    cov = compute_coverage(
        CELLS,
        [
            _outcome("nominal", "clear", "light", True),
            _outcome("rain-dense", "rain", "dense", False, "S3", "E4"),
            _outcome("rain-light", "rain", "light", False, "S1", "E2"),
        ],
    )
    ranked = [(g.rank, g.key, g.risk, g.basis) for g in cov.gaps]
    assert ranked == [
        (1, "dynamic_elements.traffic_density=dense, environment.weather=rain", 12, "failing"),
        (2, "dynamic_elements.traffic_density=dense, environment.weather=clear", 12, "nearest"),
        (3, "dynamic_elements.traffic_density=light, environment.weather=rain", 2, "failing"),
    ]


def test_cell_over_fewer_attributes_is_covered_by_any_scenario_with_its_labels() -> None:
    cov = compute_coverage([{W: "rain"}], [_outcome("a", "rain", "dense", True)])
    assert cov.cells[0].passing == ("a",)


def test_scenario_missing_an_attribute_of_the_cell_does_not_cover_it() -> None:
    cov = compute_coverage([CELLS[0]], [ScenarioOutcome("a", {W: "clear"}, True, "S1", "E1")])
    assert not cov.cells[0].covered
    assert cov.outside == ("a",)


def test_numeric_labels_match_whatever_their_type() -> None:
    cov = compute_coverage(
        [{"scenery.lanes": 3}], [ScenarioOutcome("a", {"scenery.lanes": 3.0}, True, "S1", "E1")]
    )
    assert cov.cells[0].covered


def test_datasets_cover_cells_through_their_odd_tags() -> None:
    datasets = {"highd": [{W: "clear", D: "dense", "extra.tag": "x"}], "night": [{W: "rain"}]}
    cov = compute_coverage(CELLS, [_outcome("a", "clear", "light", True)], datasets)
    by_key = {c.key: c.datasets for c in cov.cells}
    assert by_key["dynamic_elements.traffic_density=dense, environment.weather=clear"] == ("highd",)
    # a dataset tagged only with the weather does not say which density it covers
    assert all("night" not in names for names in by_key.values())
    reasons = {g.key: g.reason for g in cov.gaps}
    assert reasons["dynamic_elements.traffic_density=dense, environment.weather=clear"].endswith(
        "; training data: highd"
    )
    assert reasons["dynamic_elements.traffic_density=dense, environment.weather=rain"].endswith(
        "; no training data covers it either"
    )


def test_equal_risk_gaps_without_training_data_rank_first() -> None:
    datasets = {"logs": [{W: "rain", D: "light"}]}
    cov = compute_coverage(
        [{W: "rain", D: "light"}, {W: "rain", D: "dense"}],
        [_outcome("a", "rain", "light", False), _outcome("b", "rain", "dense", False)],
        datasets,
    )
    assert [g.cell[0][1] for g in cov.gaps] == ["dense", "light"]


def test_coverage_is_json_safe() -> None:
    cov = compute_coverage(CELLS, [_outcome("a", "clear", "light", True)], {"d": [CELLS[1]]})
    data = json.loads(json.dumps(cov.to_dict(), allow_nan=False))
    assert data["totals"] == {"cells": 4, "covered": 1, "gaps": 3, "covered_fraction": 0.25}
    assert data["gaps"][0]["rank"] == 1
    assert data["cells"][0]["cell"] == {D: "light", W: "clear"}
    assert data["datasets"] == ["d"]


def test_outcomes_come_from_an_evaluation_report() -> None:
    made = report([scenario("a", [{"min_ttc_s": 1.0}], odd={W: "rain", "scenery.lanes": 3})])
    (outcome,) = outcomes_from_report(made)
    assert (outcome.scenario_id, outcome.passed, outcome.risk) == ("a", True, 9)
    assert compute_coverage([{"scenery.lanes": 3}], [outcome]).cells[0].covered


@pytest.mark.parametrize(
    ("cells", "scenarios"),
    [
        ([], []),
        ([CELLS[0], dict(CELLS[0])], []),
        ([CELLS[0]], [_outcome("a", "clear", "light", True)] * 2),
        ([{W: float("nan")}], []),
    ],
)
def test_malformed_coverage_input_is_refused(
    cells: list[dict[str, object]], scenarios: list[ScenarioOutcome]
) -> None:
    with pytest.raises(InvalidInput):
        compute_coverage(cells, scenarios)  # type: ignore[arg-type]


def test_scenario_outcome_checks_its_hazard_classes() -> None:
    with pytest.raises(InvalidInput):
        ScenarioOutcome("a", {}, True, "S3", "E9")
