"""A scenario library run against a policy in closed loop becomes a report (real highway-env)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.policies import EntryPointSpec
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


def test_replay_scenarios_are_refused_not_passed(tmp_path: Path) -> None:
    odd = OddSpec.from_path(write_odd(tmp_path))
    suite = tmp_path / "suite"
    (suite / "logs").mkdir(parents=True)
    (suite / "logs" / "frames.parquet").write_bytes(b"PAR1")
    write_scenario(suite, id="replayed", environment=None, replay={"data": "logs/frames.parquet"})
    library = ScenarioLibrary.from_dir(suite, odd)
    with pytest.raises(InvalidInput, match="replay"):
        evaluate_library(library, EntryPointSpec("pol:keep_lane", str(tmp_path)),
                         model_ref="p@1", model_digest="sha256:" + "a" * 64)  # fmt: skip
