"""One closed-loop episode with (or without) the safety gate between the policy and the vehicle.

A :class:`GuardedPlan` is picklable, so worker processes run episodes in parallel; the ungated
and the gated episode of a pair share scenario, config and seed, and the same loop drives both,
so they differ only by what the gate changed. In a gated episode every step shows the gate the
world (:class:`~modelsteward.evaluation._guarded_world.WorldObserver`) and the policy's proposal
at the simulated time, applies what the gate *sent*, and times :meth:`SafetyGate.decide`.
Decisions go through a :class:`DecisionRecorder` (flushed at the episode's end) to a Parquet log
when the plan names a folder; gate events come back with the outcome either way.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from modelsteward.evaluation._guarded_world import (
    ACTION_NAMES,
    WorldObserver,
    action_of,
    proposal_of,
)
from modelsteward.evaluation._metrics import EpisodeMeter
from modelsteward.evaluation._pool import process_pool
from modelsteward.evaluation._simulator import make_env, reset_env
from modelsteward.evaluation.closed_loop import _decide
from modelsteward.evaluation.policies import ConfiguresEnvironment, Policy, PolicySpec
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.gate import Decision, SafetyGate
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.records import BatchReceipt, DecisionRecorder, DecisionSink
from modelsteward.runtime.world import WorldState

__all__ = [
    "GateFactory",
    "GuardedEpisode",
    "GuardedPlan",
    "KillOutcome",
    "SignedGateFactory",
    "UnattestedGateFactory",
    "log_folder",
    "reset_worker",
    "run_plan",
    "run_plans",
]

Event = tuple[str, dict[str, Any]]


class GateFactory(Protocol):
    """Builds a fresh gate for one episode (picklable, to run on worker processes)."""

    def __call__(self, recorder: DecisionRecorder, kill_switch: KillSwitch) -> SafetyGate:
        """A new gate that records to ``recorder`` and watches ``kill_switch``."""
        ...


@dataclass(frozen=True)
class UnattestedGateFactory:
    """A gate on an envelope document that nobody signed: no signature, no model attestation.

    For demos and tests only; the caller says so to the user (``steward gate demo`` does). The
    gate is built with its constructor rather than ``SafetyGate.unsafe_unattested`` so that one
    warning is shown per run, not one log line per episode and worker.
    """

    document: Mapping[str, Any]

    def __call__(self, recorder: DecisionRecorder, kill_switch: KillSwitch) -> SafetyGate:
        """A gate on :attr:`document`, model digest ``unattested``."""
        envelope = Envelope.from_dict(self.document)
        return SafetyGate(
            envelope,
            model_digest="unattested",
            envelope_digest=str(envelope.digest),
            recorder=recorder,
            kill_switch=kill_switch,
        )


@dataclass(frozen=True)
class SignedGateFactory:
    """:meth:`SafetyGate.load`: verify the signed envelope and attest the model folder.

    A failed check does not raise: the gate starts ``FAIL_CLOSED`` and says why in
    :attr:`SafetyGate.failure`.
    """

    envelope: str
    public_key: str
    model_dir: str

    def __call__(self, recorder: DecisionRecorder, kill_switch: KillSwitch) -> SafetyGate:
        """Load, verify and attest; the gate records to ``recorder``."""
        return SafetyGate.load(
            Path(self.envelope),
            Path(self.public_key),
            Path(self.model_dir),
            recorder=recorder,
            kill_switch=kill_switch,
        )


@dataclass(frozen=True)
class GuardedPlan:
    """One episode to drive: scenario, seed, policy, and the gate (``None`` drives ungated)."""

    index: int
    scenario: str
    env_id: str
    config: Mapping[str, Any]
    seed: int
    policy: PolicySpec
    gate: GateFactory | None = None
    log_dir: str | None = None
    kill_after: int | None = None
    weather: str = "clear"
    time_of_day: str = "day"


@dataclass(frozen=True)
class KillOutcome:
    """What the kill switch did in the episode it was tried in.

    Attributes:
        flag_after_cycle: The flag file was written right after this cycle.
        fail_closed_cycle: The first cycle decided in ``FAIL_CLOSED`` after that (``None`` if
            the episode ended first).
        sent: The action the gate sent in that cycle (its name).
        rung: The fallback rung that chose it.
        reason: The kill reason the gate recorded.
    """

    flag_after_cycle: int
    fail_closed_cycle: int | None
    sent: str | None
    rung: str | None
    reason: str | None


@dataclass(frozen=True)
class GuardedEpisode:
    """What one episode measured; the gate fields are empty for an ungated episode."""

    index: int
    scenario: str
    seed: int
    gated: bool
    steps: int
    collision: bool
    mean_speed_mps: float
    distance_m: float
    min_ttc_s: float
    decisions: int = 0
    interventions: int = 0
    verdicts: Mapping[str, int] = field(default_factory=dict)
    vetoes: Mapping[str, int] = field(default_factory=dict)
    rungs: Mapping[str, int] = field(default_factory=dict)
    mode_cycles: tuple[int, ...] = (0, 0, 0, 0)
    dropped_records: int = 0
    latencies_ns: tuple[int, ...] = ()
    events: tuple[Event, ...] = ()
    kill: KillOutcome | None = None
    failure: str | None = None


class _EventSink:
    """A decision sink that keeps gate events and discards records (no ``log_dir``)."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        """Discard the batch."""
        return BatchReceipt("", len(records), "discarded")

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Keep the event."""
        self.events.append((kind, dict(payload)))


@dataclass
class _Guard:
    """The gate of one episode, its recorder, and what it did step by step."""

    gate: SafetyGate
    recorder: DecisionRecorder
    events: list[Event]
    flag: Path
    kill_after: int | None
    verdicts: Counter[str] = field(default_factory=Counter)
    vetoes: Counter[str] = field(default_factory=Counter)
    rungs: Counter[str] = field(default_factory=Counter)
    latencies: list[int] = field(default_factory=list)
    interventions: int = 0
    kill: KillOutcome | None = None

    def step(self, world: WorldState, t: float, action: int, confidence: float) -> int:
        """Let the gate decide on the policy's ``action``; return the action it sent."""
        started = time.perf_counter_ns()
        decision = self.gate.decide(world, proposal_of(t, action, confidence), now=t)
        self.latencies.append(time.perf_counter_ns() - started)
        sent = action_of(decision.output)
        self.verdicts[decision.verdict] += 1
        self.vetoes.update(decision.vetoes)
        if decision.rung is not None:
            self.rungs[decision.rung] += 1
        self.interventions += sent != action
        if self.kill_after is not None:
            self._kill_step(decision, sent)
        return sent

    def _kill_step(self, decision: Decision, sent: int) -> None:
        """Write the flag after ``kill_after`` cycles; note the first FAIL_CLOSED cycle after."""
        assert self.kill_after is not None
        kill = self.kill
        if kill is None and decision.cycle == self.kill_after:
            reason = f"steward gate demo --kill-after {self.kill_after}"
            self.flag.write_text(json.dumps({"reason": reason}), encoding="utf-8")
            self.kill = KillOutcome(self.kill_after, None, None, None, None)
        elif (
            kill is not None
            and kill.fail_closed_cycle is None
            and decision.mode is Mode.FAIL_CLOSED
        ):
            self.kill = KillOutcome(
                kill.flag_after_cycle, decision.cycle, ACTION_NAMES[sent], decision.rung,
                decision.kill_reason,
            )  # fmt: skip

    def finish(self, episode: GuardedEpisode) -> GuardedEpisode:
        """``episode`` with the gate's counts."""
        return replace(
            episode,
            decisions=self.gate.cycle,
            interventions=self.interventions,
            verdicts=dict(self.verdicts),
            vetoes=dict(self.vetoes),
            rungs=dict(self.rungs),
            mode_cycles=tuple(self.gate.mode_cycles),
            dropped_records=self.recorder.dropped,
            latencies_ns=tuple(self.latencies),
            events=tuple(self.events),
            kill=self.kill,
            failure=self.gate.failure,
        )


def log_folder(index: int, *, kill: bool = False) -> str:
    """The decision log folder of episode ``index`` (``-kill`` for the kill-switch check)."""
    return f"episode-{index:03d}" + ("-kill" if kill else "")


_policies: dict[Any, Policy] = {}


def reset_worker() -> None:
    """Forget policies built by an earlier pool (the pool's initializer)."""
    _policies.clear()


def run_plan(plan: GuardedPlan) -> GuardedEpisode:
    """Drive one episode as planned (on a worker process or in this one)."""
    policy = _policies.get(plan.policy)
    if policy is None:
        policy = _policies[plan.policy] = plan.policy.build()
    config = plan.config
    if isinstance(plan.policy, ConfiguresEnvironment):
        config = plan.policy.configure(config)
    with tempfile.TemporaryDirectory(prefix="steward-kill-") as scratch:
        guard = _guard(plan, Path(scratch) / "kill.flag")
        env = make_env(plan.env_id, config)
        try:
            observation = reset_env(env, plan.seed)
            meter, steps = _drive(env, policy, observation, plan, guard)
            collision = bool(env.unwrapped.vehicle.crashed)
        finally:
            env.close()
            if guard is not None:
                guard.recorder.close()
    speeds = meter.speeds
    episode = GuardedEpisode(
        plan.index, plan.scenario, plan.seed, guard is not None, steps, collision,
        float(np.mean(speeds)) if speeds else 0.0, meter.distance, meter.min_ttc,
    )  # fmt: skip
    return episode if guard is None else guard.finish(episode)


def _guard(plan: GuardedPlan, flag: Path) -> _Guard | None:
    if plan.gate is None:
        return None
    events: list[Event] = []
    sink: DecisionSink = _EventSink(events)
    if plan.log_dir is not None:
        from modelsteward.telemetry.decisions import ParquetDecisionLog  # pyarrow: only if asked

        sink = ParquetDecisionLog(
            Path(plan.log_dir) / log_folder(plan.index, kill=plan.kill_after is not None),
            on_event=lambda kind, payload: events.append((kind, dict(payload))),
        )
    recorder = DecisionRecorder(sink)
    gate = plan.gate(recorder, KillSwitch(flag))
    return _Guard(gate, recorder, events, flag, plan.kill_after)


def _drive(
    env: Any, policy: Policy, observation: Any, plan: GuardedPlan, guard: _Guard | None
) -> tuple[EpisodeMeter, int]:
    unwrapped = env.unwrapped
    frequency = float(unwrapped.config.get("policy_frequency", 1))
    meter = EpisodeMeter(dt=1.0 / frequency)
    meter.start(unwrapped.vehicle, unwrapped.road)
    observer = WorldObserver(dt=1.0 / frequency, weather=plan.weather, time_of_day=plan.time_of_day)
    limit = math.ceil(float(unwrapped.config.get("duration", 40)) * frequency) + 1
    steps, done = 0, False
    while not done and steps < limit:
        t = steps / frequency
        action, confidence, _latency = _decide(policy, observation, env.action_space.n)
        if guard is not None:
            action = guard.step(observer.observe(unwrapped, t), t, action, confidence)
        meter.command(unwrapped.vehicle, unwrapped.road, action)
        observation, _reward, terminated, truncated, _info = env.step(action)
        meter.after_step(unwrapped.vehicle, unwrapped.road)
        steps += 1
        done = bool(terminated or truncated)
    return meter, steps


def run_plans(
    plans: Sequence[GuardedPlan], workers: int, on_episode: Callable[[int, int], None] | None
) -> list[GuardedEpisode]:
    """Drive ``plans`` on ``workers`` processes (here when 1); results in plan order.

    ``on_episode(done, total)`` is called in this process as each episode finishes.
    """
    total = len(plans)
    report = on_episode or (lambda _done, _total: None)
    if workers <= 1:
        reset_worker()
        results = []
        for plan in plans:
            results.append(run_plan(plan))
            report(len(results), total)
        return results
    with process_pool(min(workers, total), reset_worker) as pool:
        futures = [pool.submit(run_plan, plan) for plan in plans]
        for done, future in enumerate(as_completed(futures), start=1):
            future.result()
            report(done, total)
        return [future.result() for future in futures]
