"""Closed-loop episodes in real highway-env: determinism, measures from the simulator, criteria."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from highway_env.envs.common.observation import KinematicObservation
from highway_env.vehicle.kinematics import Vehicle

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._metrics import TTC_CAP_S, EpisodeMeter, lead_gap
from modelsteward.evaluation._simulator import make_env, reset_env, with_defaults
from modelsteward.evaluation.closed_loop import (
    EpisodeJob,
    EpisodeResult,
    criteria_passed,
    evaluate_criteria,
    run_episode,
    run_episodes,
)
from modelsteward.evaluation.policies import EntryPointSpec

LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = range(5)
QUICK = {
    "lanes_count": 3,
    "vehicles_count": 8,
    "duration": 6,
    "policy_frequency": 5,
    "simulation_frequency": 5,
}
POLICIES = """
import numpy as np


def cautious(observation):
    rows = np.asarray(observation).reshape(-1, 5)
    ahead = [r for r in rows[1:] if r[0] > 0 and 0 < r[1] < 0.15 and abs(r[2]) < 0.1]
    return (4, 0.9) if ahead else (3, 0.6)


def idle(observation):
    return 1, 0.5
"""


def _weave(observation: np.ndarray) -> tuple[int, float]:
    """Deterministic but state-dependent, so two runs only agree if the episodes do."""
    rows = np.asarray(observation).reshape(-1, 5)
    choice = int(abs(rows[1:, 1].sum() * 1000)) % 5
    return choice, 0.2 + 0.1 * choice


def _without_latency(result: EpisodeResult) -> EpisodeResult:
    return dataclasses.replace(result, latencies_ns=())


def test_same_seed_gives_identical_episode() -> None:
    first = run_episode("highway-fast-v0", QUICK, _weave, seed=11)
    second = run_episode("highway-fast-v0", QUICK, _weave, seed=11)
    assert first.steps > 5
    assert _without_latency(first) == _without_latency(second)
    assert len(first.latencies_ns) == first.steps


def test_different_seeds_give_different_traffic() -> None:
    one = run_episode("highway-fast-v0", QUICK, _weave, seed=11)
    two = run_episode("highway-fast-v0", QUICK, _weave, seed=12)
    assert _without_latency(one) != _without_latency(two)


@pytest.mark.parametrize(
    ("env_id", "observation"),
    [
        ("highway-v0", {"type": "Kinematics"}),
        ("merge-v0", {"type": "Kinematics", "vehicles_count": 8}),
        (
            "highway-fast-v0",
            {"type": "Kinematics", "features": ["presence", "x", "y", "vx", "cos_h"],
             "absolute": True, "order": "shuffled", "vehicles_count": 7},
        ),
    ],
)  # fmt: skip
def test_numpy_kinematics_equals_highway_env_observation(
    env_id: str, observation: dict[str, object]
) -> None:
    env = make_env(env_id, {**QUICK, "observation": observation})
    reset_env(env, 5)
    port = env.unwrapped.observation_type
    rng = np.random.default_rng(0)
    for _ in range(25):
        state = env.unwrapped.np_random.bit_generator.state
        expected = KinematicObservation.observe(port)
        env.unwrapped.np_random.bit_generator.state = state
        actual = port.observe()
        assert actual.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(actual, expected)
        _obs, _r, terminated, truncated, _info = env.step(int(rng.integers(5)))
        if terminated or truncated:
            break
    env.close()


def test_collision_is_read_from_the_simulator() -> None:
    dense = {**QUICK, "vehicles_count": 20, "vehicles_density": 2.0, "duration": 20}
    result = run_episode("highway-fast-v0", dense, lambda obs: (FASTER, 1.0), seed=3)
    assert result.collision
    assert result.terminated
    assert result.min_ttc_s == 0.0
    assert result.route_completion < 1.0
    assert not evaluate_criteria(result, {"no_collision": True})["no_collision"].passed


def test_time_to_collision_is_gap_over_closing_speed() -> None:
    env = make_env("highway-fast-v0", {**QUICK, "vehicles_count": 0})
    reset_env(env, 1)
    ego, road = env.unwrapped.vehicle, env.unwrapped.road
    ego.speed = 25.0
    ahead = Vehicle(road, ego.lane.position(ego.lane.local_coordinates(ego.position)[0] + 20, 0))
    ahead.speed = 20.0
    road.vehicles.append(ahead)
    front, gap, closing = lead_gap(ego, road)
    assert front is ahead
    assert gap == pytest.approx(20.0 - (ego.LENGTH + ahead.LENGTH) / 2)
    assert closing == pytest.approx(5.0)
    meter = EpisodeMeter(dt=0.2)
    meter.start(ego, road)
    assert meter.min_ttc == pytest.approx(gap / 5.0)
    env.close()


def test_time_to_collision_is_capped_without_a_vehicle_ahead() -> None:
    quiet = {**QUICK, "vehicles_count": 0}
    result = run_episode("highway-fast-v0", quiet, lambda obs: (IDLE, 1.0), seed=2)
    assert (result.min_ttc_s, result.collision, result.route_completion) == (TTC_CAP_S, False, 1.0)


def test_lane_change_into_a_missing_lane_is_a_lane_departure() -> None:
    left_edge = {**QUICK, "vehicles_count": 0, "lanes_count": 2, "initial_lane_id": 0}
    result = run_episode("highway-fast-v0", left_edge, lambda obs: (LANE_LEFT, 1.0), seed=4)
    assert result.invalid_lane_changes == result.steps
    assert result.lane_departures == result.steps
    outcome = evaluate_criteria(result, {"max_lane_departures": 0})["max_lane_departures"]
    assert outcome.margin == -result.steps
    assert not outcome.passed


def test_braking_is_measured_between_steps_with_3_mps_set_points() -> None:
    quiet = {**QUICK, "vehicles_count": 0, "duration": 4}
    result = run_episode("highway-fast-v0", quiet, lambda obs: (SLOWER, 1.0), seed=4)
    # Each SLOWER lowers the set-point by one 3 m/s step; the controller answers Δ / 0.6 s.
    assert 4.0 < result.max_decel_mps2 < 7.6
    assert result.mean_speed_mps < 25.0


def test_stopping_loses_route_completion() -> None:
    quiet = {**QUICK, "vehicles_count": 0, "duration": 10}
    result = run_episode("highway-fast-v0", quiet, lambda obs: (SLOWER, 1.0), seed=4)
    assert result.route_completion == pytest.approx(result.distance_m / (20.0 * 10))
    assert result.route_completion < 0.6


def test_criteria_margins_are_positive_when_passing() -> None:
    result = run_episode("highway-fast-v0", QUICK, lambda obs: (IDLE, 0.5), seed=9)
    limits = {
        "no_collision": True,
        "min_ttc_s": result.min_ttc_s - 0.5,
        "min_headway_s": result.min_headway_s + 0.5,
        "max_decel_mps2": 9.0,
        "min_route_completion": 0.5,
    }
    outcomes = evaluate_criteria(result, limits)
    assert outcomes["min_ttc_s"].margin == pytest.approx(0.5)
    assert outcomes["min_headway_s"].margin == pytest.approx(-0.5)
    assert outcomes["max_decel_mps2"].margin == pytest.approx(9.0 - result.max_decel_mps2)
    assert not criteria_passed(outcomes)
    del limits["min_headway_s"]
    assert criteria_passed(evaluate_criteria(result, limits))


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({}, "at least one pass criterion"),
        ({"min_ttc": 1.5}, "criteria.min_ttc: unknown criterion"),
        ({"min_ttc_s": "soon"}, "criteria.min_ttc_s: expected a number"),
        ({"no_collision": "yes"}, "criteria.no_collision: expected true or false"),
    ],
)
def test_bad_criteria_are_refused(criteria: dict[str, object], message: str) -> None:
    result = EpisodeResult("highway-v0", 1, 0, 0.0, False, True, False, 10.0, 10.0, 0.0, 0, 0, 0,
                           1.0, 0.0, 0.0)  # fmt: skip
    with pytest.raises(InvalidInput, match=message):
        evaluate_criteria(result, criteria)


def test_episode_result_survives_json_round_trip() -> None:
    result = run_episode("highway-fast-v0", {**QUICK, "duration": 1}, _weave, seed=1)
    assert EpisodeResult.from_dict(result.to_dict()) == result
    assert isinstance(result.to_dict()["actions"], list)


def test_unknown_environment_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="environment 'no-such-env-v0'"):
        run_episode("no-such-env-v0", {}, _weave, seed=1)


@pytest.mark.parametrize("answer", [7, (9, 0.5), ("left", 0.5)])
def test_malformed_policy_answers_are_invalid_input(answer: object) -> None:
    with pytest.raises(InvalidInput, match="the policy"):
        run_episode("highway-fast-v0", QUICK, lambda obs: answer, seed=1)  # type: ignore[arg-type,return-value]


def test_defaults_complete_a_partial_action_and_observation() -> None:
    config = with_defaults({"action": {"type": "DiscreteMetaAction"}, "lanes_count": 2})
    assert config["action"]["target_speeds"][:3] == [0.0, 3.0, 6.0]
    assert config["observation"]["vehicles_count"] == 5
    other = with_defaults({"action": {"type": "ContinuousAction"}})
    assert other["action"] == {"type": "ContinuousAction"}


def test_parallel_results_come_back_in_job_order_and_match_sequential(tmp_path: Path) -> None:
    (tmp_path / "drivers.py").write_text(POLICIES)
    cautious = EntryPointSpec("drivers:cautious", str(tmp_path))
    idle = EntryPointSpec("drivers:idle", str(tmp_path))
    jobs = [
        EpisodeJob("highway-fast-v0", {**QUICK, "duration": 2 + i % 3}, spec, 100 + i, f"j{i}")
        for i, spec in enumerate([cautious, idle] * 3)
    ]
    sequential = run_episodes(jobs, workers=1)
    parallel = run_episodes(jobs, workers=2)
    assert [r.seed for r in parallel] == [job.seed for job in jobs]
    assert [_without_latency(r) for r in parallel] == [_without_latency(r) for r in sequential]
    assert all(r.confidences[0] == 0.5 for r in parallel[1::2])
