"""A scenario library run against a policy in closed loop becomes a report (real highway-env)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.policies import EntryPointSpec
from modelsteward.evaluation.report import EvaluationReport
from modelsteward.evaluation.scenarios import ScenarioLibrary
from modelsteward.evaluation.suite import evaluate_library
from modelsteward.odd.spec import OddSpec
from odd_factories import write_odd, write_scenario

POLICY = """
def keep_lane(observation):
    return 1, 0.9


def slow_down(observation):
    return 4, 0.6
"""

QUICK = {"lanes_count": 3, "vehicles_count": 5, "duration": 3, "policy_frequency": 5}


def _library(tmp_path: Path) -> tuple[ScenarioLibrary, OddSpec]:
    odd = OddSpec.from_path(write_odd(tmp_path))
    suite = tmp_path / "suite"
    env = {"simulator": "highway-env", "env_id": "highway-fast-v0", "config": QUICK}
    write_scenario(suite, id="nominal-a", environment=env, repetitions=2, seed=1,
                   criteria={"no_collision": True, "min_route_completion": 0.1},
                   tolerances=None)  # fmt: skip
    write_scenario(suite, id="nominal-b", environment=env, repetitions=1, seed=5,
                   criteria={"no_collision": True}, tolerances=None)  # fmt: skip
    return ScenarioLibrary.from_dir(suite, odd), odd


def test_library_evaluates_into_a_report_in_parallel_and_in_order(tmp_path: Path) -> None:
    library, odd = _library(tmp_path)
    (tmp_path / "pol.py").write_text(POLICY)
    policy = EntryPointSpec("pol:keep_lane", str(tmp_path))
    when = datetime(2026, 11, 22, tzinfo=UTC)
    one = evaluate_library(library, policy, model_ref="p@1", model_digest="sha256:" + "a" * 64,
                           odd=odd, workers=1, created_at=when)  # fmt: skip
    two = evaluate_library(library, policy, model_ref="p@1", model_digest="sha256:" + "a" * 64,
                           odd=odd, workers=2, created_at=when)  # fmt: skip
    assert [s.scenario_id for s in one.scenarios] == ["nominal-a", "nominal-b"]
    assert one.scenarios[0].repetitions == 2
    assert dict(one.scenarios[0].odd)["dynamic_elements.ego_speed_mps"] == "20–30"
    strip = [(s.scenario_id, s.pass_rate) for s in one.scenarios]
    assert strip == [(s.scenario_id, s.pass_rate) for s in two.scenarios]


REPLAY_POLICY = """
def threshold(observation):
    return (1 if observation[0] > 0.5 else 3), 0.8
"""


def _replay_library(tmp_path: Path, **changes: object) -> tuple[ScenarioLibrary, OddSpec]:
    """A log of 60 frames: 40 clear (policy right on all), 20 rain (right on 5)."""
    odd = OddSpec.from_path(write_odd(tmp_path))
    suite = tmp_path / "suite"
    (suite / "logs").mkdir(parents=True)
    observations = [[1.0, 0.0]] * 40 + [[1.0, 0.0]] * 5 + [[0.0, 1.0]] * 15
    labels = [1] * 40 + [1] * 5 + [1] * 15
    weather = ["clear"] * 40 + ["rain"] * 20
    speed = [25] * 40 + [12] * 20
    pq.write_table(
        pa.table({"observation": observations, "label": labels, "environment.weather": weather,
                  "dynamic_elements.ego_speed_mps": speed, "scenario": ["log"] * 60}),
        suite / "logs" / "frames.parquet",
    )  # fmt: skip
    replay = {"data": "logs/frames.parquet", "filter": {"scenario": "log"}}
    write_scenario(suite, **{"id": "replayed", "environment": None, "replay": replay,
                             "repetitions": 1, **changes})  # fmt: skip
    (tmp_path / "pol.py").write_text(REPLAY_POLICY)
    return ScenarioLibrary.from_dir(suite, odd), odd


def _evaluate(tmp_path: Path, library: ScenarioLibrary, odd: OddSpec) -> EvaluationReport:
    return evaluate_library(library, EntryPointSpec("pol:threshold", str(tmp_path)),
                            model_ref="p@1", model_digest="sha256:" + "a" * 64, odd=odd,
                            created_at=datetime(2026, 11, 22, tzinfo=UTC))  # fmt: skip


def test_replay_scenarios_are_scored_per_frame_and_per_odd_slice(tmp_path: Path) -> None:
    library, odd = _replay_library(tmp_path, criteria={"min_accuracy": 0.7})
    report = _evaluate(tmp_path, library, odd)
    (scenario,) = report.scenarios
    assert scenario.passed
    assert scenario.criteria[0].worst_value == pytest.approx(45 / 60)
    slices = {f.key: (f.frames, f.correct) for f in scenario.frame_slices}
    # Range attributes fall into their ODD bins; non-ODD columns (scenario) are not slices.
    assert slices == {
        "dynamic_elements.ego_speed_mps=0–20": (20, 5),
        "dynamic_elements.ego_speed_mps=20–30": (40, 40),
        "environment.weather=clear": (40, 40),
        "environment.weather=rain": (20, 5),
    }
    assert report.calibration is not None
    assert report.calibration.samples == 60
    assert EvaluationReport.from_dict(report.to_dict()) == report


def test_the_worst_odd_slice_fails_min_slice_accuracy(tmp_path: Path) -> None:
    library, odd = _replay_library(tmp_path, criteria={"min_slice_accuracy": 0.5})
    (scenario,) = _evaluate(tmp_path, library, odd).scenarios
    assert not scenario.passed
    (criterion,) = scenario.criteria
    assert criterion.worst_value == pytest.approx(0.25)  # rain: 5 of 20
    assert criterion.worst_margin == pytest.approx(-0.25)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"criteria": {"max_unsafe_rate": 0.1}}, "needs an unsafe_actions column"),
        ({"replay": {"data": "logs/frames.parquet", "filter": {"scenario": "other"}}},
         "leaves no frames"),
    ],
)  # fmt: skip
def test_replays_that_cannot_be_judged_are_refused_not_passed(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    library, odd = _replay_library(tmp_path, **changes)
    with pytest.raises(InvalidInput, match=message):
        _evaluate(tmp_path, library, odd)
