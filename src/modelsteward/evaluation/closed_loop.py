"""Closed-loop episodes: a policy drives the ego vehicle of a Gymnasium (highway-env) environment.

:func:`run_episode` creates the environment, applies the scenario's config through
``env.unwrapped.configure`` (Steward's defaults: highway-env ``Kinematics`` observation of 5
vehicles × presence, x, y, vx, vy, normalised; ``DiscreteMetaAction`` 0 LANE_LEFT, 1 IDLE,
2 LANE_RIGHT, 3 FASTER, 4 SLOWER, target speeds 0–30 m/s in 3 m/s steps), resets it with the
seed and steps until the episode ends, timing every policy call. Safety measures come from the
simulator state, not from the normalised observation (see ``_metrics`` for the definitions):
collision, minimum time-to-collision and headway to the vehicle ahead, maximum deceleration,
lane departures and route completion. Everything but the latencies is deterministic for a seed.

:func:`run_episodes` runs many :class:`EpisodeJob` s on worker processes; each job carries a
picklable policy *spec* (see :mod:`modelsteward.evaluation.policies`) that the worker turns
into a policy — a model folder's spec also sets the observation its adapter declares — and
results come back in job order.

>>> result = run_episode("highway-fast-v0", {"duration": 1, "vehicles_count": 2,
...                      "policy_frequency": 5, "simulation_frequency": 5},
...                      lambda obs: (1, 0.9), seed=3)
>>> result.steps, result.collision, result.actions[:3]
(5, False, (1, 1, 1))
>>> outcomes = evaluate_criteria(result, {"no_collision": True, "min_ttc_s": 1.5})
>>> outcomes["no_collision"].margin, criteria_passed(outcomes)
(1.0, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._criteria import criteria_passed, evaluate_criteria
from modelsteward.evaluation._metrics import EpisodeMeter
from modelsteward.evaluation._pool import process_pool
from modelsteward.evaluation._simulator import make_env, reset_env
from modelsteward.evaluation.policies import ConfiguresEnvironment, Policy, PolicySpec

__all__ = [
    "EpisodeJob",
    "EpisodeResult",
    "Policy",
    "PolicySpec",
    "criteria_passed",
    "evaluate_criteria",
    "run_episode",
    "run_episodes",
]

_DEFAULT_DURATION_S = 40.0


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """What one closed-loop episode measured. All fields but ``latencies_ns`` are deterministic.

    Attributes:
        env_id: The Gymnasium environment id.
        seed: The reset seed.
        steps: Decision steps taken.
        sim_time_s: Simulated time at the end.
        terminated: The environment ended the episode (crash, or its own goal).
        truncated: The time limit ended it.
        collision: The ego vehicle crashed.
        min_ttc_s: Lowest time-to-collision to the vehicle ahead (capped at 10 s).
        min_headway_s: Lowest time headway to the vehicle ahead (capped at 10 s).
        max_decel_mps2: Highest deceleration between two decision steps.
        lane_departures: ``offroad_events + invalid_lane_changes``.
        offroad_events: Times the ego left every drivable lane.
        invalid_lane_changes: Lane-change commands towards a lane that does not exist.
        route_completion: Distance driven ÷ the distance at 20 m/s over the duration (≤ 1).
        distance_m: Distance driven.
        mean_speed_mps: Mean ego speed over the decision steps.
        actions: The action chosen at every step.
        confidences: The policy's confidence at every step.
        latencies_ns: Wall time of every policy call.
    """

    env_id: str
    seed: int
    steps: int
    sim_time_s: float
    terminated: bool
    truncated: bool
    collision: bool
    min_ttc_s: float
    min_headway_s: float
    max_decel_mps2: float
    lane_departures: int
    offroad_events: int
    invalid_lane_changes: int
    route_completion: float
    distance_m: float
    mean_speed_mps: float
    actions: tuple[int, ...] = ()
    confidences: tuple[float, ...] = ()
    latencies_ns: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples become lists)."""
        data = asdict(self)
        for key in ("actions", "confidences", "latencies_ns"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpisodeResult:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        for key in ("actions", "confidences", "latencies_ns"):
            values[key] = tuple(values.get(key, ()))
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidInput(f"episode result: {exc}") from exc


def _decide(policy: Policy, observation: np.ndarray, actions: int) -> tuple[int, float, int]:
    started = time.perf_counter_ns()
    proposal = policy(observation)
    latency = time.perf_counter_ns() - started
    try:
        action, confidence = proposal
        action, confidence = int(action), float(confidence)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"the policy returned {proposal!r}", hint="a policy returns (action, confidence)"
        ) from exc
    if not 0 <= action < actions:
        raise InvalidInput(f"the policy chose action {action}; the environment has {actions}")
    return action, confidence, latency


@dataclass
class _Trace:
    """Per-step records of one episode while it runs."""

    actions: list[int] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    latencies: list[int] = field(default_factory=list)
    terminated: bool = False
    truncated: bool = False


def _drive(env: Any, policy: Policy, observation: Any, meter: EpisodeMeter, steps: int) -> _Trace:
    unwrapped, trace = env.unwrapped, _Trace()
    while not (trace.terminated or trace.truncated) and len(trace.actions) < steps:
        action, confidence, latency = _decide(policy, observation, env.action_space.n)
        meter.command(unwrapped.vehicle, unwrapped.road, action)
        observation, _reward, terminated, truncated, _info = env.step(action)
        trace.terminated, trace.truncated = bool(terminated), bool(truncated)
        meter.after_step(unwrapped.vehicle, unwrapped.road)
        trace.actions.append(action)
        trace.confidences.append(confidence)
        trace.latencies.append(latency)
    return trace


def run_episode(
    env_id: str, config: Mapping[str, Any], policy: Policy, *, seed: int
) -> EpisodeResult:
    """Drive one episode of ``env_id`` with ``policy`` and measure it.

    Args:
        env_id: A registered Gymnasium id (highway-env's ids are registered on import).
        config: highway-env configuration keys, applied over Steward's defaults.
        policy: Observation → (action, confidence).
        seed: The reset seed; the same seed gives the same episode.

    Returns:
        The episode's measures.

    Raises:
        InvalidInput: Unknown environment, rejected config, or a malformed policy answer.
    """
    env = make_env(env_id, config)
    try:
        observation = reset_env(env, seed)
        unwrapped = env.unwrapped
        frequency = float(unwrapped.config.get("policy_frequency", 1))
        duration = float(unwrapped.config.get("duration", _DEFAULT_DURATION_S))
        meter = EpisodeMeter(dt=1.0 / frequency)
        meter.start(unwrapped.vehicle, unwrapped.road)
        trace = _drive(env, policy, observation, meter, math.ceil(duration * frequency) + 1)
        collision = bool(unwrapped.vehicle.crashed)
        return _result(env_id, seed, float(unwrapped.time), collision, duration, meter, trace)
    finally:
        env.close()


def _result(
    env_id: str, seed: int, time_s: float, collision: bool, duration: float,
    meter: EpisodeMeter, trace: _Trace,
) -> EpisodeResult:  # fmt: skip
    goal = trace.terminated and not collision
    return EpisodeResult(
        env_id=env_id,
        seed=seed,
        steps=len(trace.actions),
        sim_time_s=time_s,
        terminated=trace.terminated,
        truncated=trace.truncated,
        collision=collision,
        min_ttc_s=meter.min_ttc,
        min_headway_s=meter.min_headway,
        max_decel_mps2=meter.max_decel,
        lane_departures=meter.offroad_events + meter.invalid_lane_changes,
        offroad_events=meter.offroad_events,
        invalid_lane_changes=meter.invalid_lane_changes,
        route_completion=meter.route_completion(duration, goal),
        distance_m=meter.distance,
        mean_speed_mps=float(np.mean(meter.speeds)) if meter.speeds else 0.0,
        actions=tuple(trace.actions),
        confidences=tuple(trace.confidences),
        latencies_ns=tuple(trace.latencies),
    )


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to run on a worker: environment, config, policy spec and seed.

    Attributes:
        env_id: The Gymnasium environment id.
        config: highway-env configuration keys.
        policy: A picklable :class:`PolicySpec` (never a closure).
        seed: The reset seed.
        label: Free text for the caller, e.g. ``"cut-in-dense#2"``.
    """

    env_id: str
    config: Mapping[str, Any]
    policy: PolicySpec
    seed: int
    label: str = ""


_worker_policies: dict[Any, Policy] = {}


def _run_job(job: EpisodeJob, cache: dict[Any, Policy] | None = None) -> EpisodeResult:
    policies = _worker_policies if cache is None else cache
    policy = policies.get(job.policy)
    if policy is None:
        policy = policies[job.policy] = job.policy.build()
    config = job.config
    if isinstance(job.policy, ConfiguresEnvironment):
        config = job.policy.configure(config)
    return run_episode(job.env_id, config, policy, seed=job.seed)


def _reset_worker() -> None:
    _worker_policies.clear()


def run_episodes(
    jobs: Sequence[EpisodeJob],
    workers: int,
    on_episode: Callable[[EpisodeJob], None] | None = None,
) -> list[EpisodeResult]:
    """Run ``jobs`` on ``workers`` processes (in this process when ``workers <= 1``).

    Each worker builds a policy once per distinct spec and reuses it. Results come back in job
    order whatever the completion order, so a run is as deterministic as its episodes.
    ``on_episode`` is called (in this process) as each episode finishes, in completion order.

    Raises:
        InvalidInput: From any episode (the first failing job in order).
    """
    if workers <= 1 or len(jobs) <= 1:
        cache: dict[Any, Policy] = {}
        results = []
        for job in jobs:
            results.append(_run_job(job, cache))
            if on_episode:
                on_episode(job)
        return results
    with process_pool(min(workers, len(jobs)), _reset_worker) as pool:
        futures = {pool.submit(_run_job, job): job for job in jobs}
        if on_episode:
            for future in as_completed(futures):
                if future.exception() is None:
                    on_episode(futures[future])
        return [future.result() for future in futures]
