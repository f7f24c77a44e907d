"""The reference policy in highway-env with and without the runtime safety gate.

:func:`run_guarded_comparison` drives the same seeded episodes twice — once with the policy's
actions applied as they come, once through a :class:`~modelsteward.runtime.SafetyGate` in
enforce mode — on traffic that exercises the gate (dense queues, braking leads, aggressive
cut-ins; straight highway-v0 roads) and reports collision rates and mean speeds side by side,
with the gate's veto rate per rule, fallback rungs, time in each mode and ``decide`` latency.
:func:`reference_envelope` is the envelope it uses unless told otherwise: limits tuned to
highway-env's traffic, explained in its docstring.

>>> from modelsteward.runtime.envelope import Envelope
>>> envelope = Envelope.from_dict(reference_envelope())
>>> envelope.rss.response_time_ego, envelope.actions.actions[3].name
(0.3, 'FASTER')
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._guarded_envelope import (
    reference_envelope,
    write_reference_envelope,
)
from modelsteward.evaluation._guarded_episode import (
    GateFactory,
    GuardedEpisode,
    GuardedPlan,
    KillOutcome,
    SignedGateFactory,
    UnattestedGateFactory,
    run_plans,
)
from modelsteward.evaluation._guarded_world import WorldObserver, action_of, proposal_of
from modelsteward.evaluation.policies import ModelFolderSpec, load_adapter
from modelsteward.evaluation.reference._library import SCENARIOS
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.records import DecisionRecorder, MemorySink

__all__ = [
    "DEMO_SCENARIOS",
    "GateDemoResult",
    "GateFactory",
    "GateStatistics",
    "GuardedEpisode",
    "KillOutcome",
    "RunSummary",
    "SignedGateFactory",
    "UnattestedGateFactory",
    "WorldObserver",
    "action_of",
    "proposal_of",
    "reference_envelope",
    "run_guarded_comparison",
    "write_reference_envelope",
]

DEMO_SCENARIOS = (
    "dense-three-lane",
    "braking-lead-three-lane",
    "cut-in-aggressive-three-lane",
    "dense-four-lane",
    "braking-lead-dense-four-lane",
    "cut-in-aggressive-dense-four-lane",
)
"""Reference scenarios the demo cycles through (episode ``i`` runs ``DEMO_SCENARIOS[i % 6]``)."""
EventCallback = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class RunSummary:
    """One run (all episodes with, or all without, the gate)."""

    episodes: int
    collisions: int
    collision_rate: float
    mean_speed_mps: float
    steps: int
    distance_m: float
    min_ttc_s: float

    @classmethod
    def of(cls, episodes: Sequence[GuardedEpisode]) -> RunSummary:
        """Collisions per episode; speed averaged over every step of every episode."""
        steps = sum(e.steps for e in episodes)
        collisions = sum(e.collision for e in episodes)
        return cls(
            episodes=len(episodes),
            collisions=collisions,
            collision_rate=collisions / len(episodes) if episodes else 0.0,
            mean_speed_mps=sum(e.mean_speed_mps * e.steps for e in episodes) / steps
            if steps
            else 0.0,
            steps=steps,
            distance_m=sum(e.distance_m for e in episodes),
            min_ttc_s=min((e.min_ttc_s for e in episodes), default=0.0),
        )


@dataclass(frozen=True)
class GateStatistics:
    """What the gate did over a run: rates are per decision, shares per cycle.

    Latencies are wall time around :meth:`SafetyGate.decide` as the control loop sees it.
    """

    decisions: int
    interventions: int
    verdicts: Mapping[str, int]
    veto_counts: Mapping[str, int]
    veto_rates: Mapping[str, float]
    rungs: Mapping[str, int]
    mode_cycles: Mapping[str, int]
    mode_shares: Mapping[str, float]
    dropped_records: int
    latency_p50_us: float
    latency_p99_us: float
    latency_max_us: float

    @classmethod
    def of(cls, episodes: Sequence[GuardedEpisode]) -> GateStatistics:
        """Sum the gated episodes."""
        decisions = sum(e.decisions for e in episodes)
        vetoes: Counter[str] = Counter()
        verdicts: Counter[str] = Counter()
        rungs: Counter[str] = Counter()
        for e in episodes:
            vetoes.update(e.vetoes)
            verdicts.update(e.verdicts)
            rungs.update(e.rungs)
        cycles = {m.name: sum(e.mode_cycles[m.value] for e in episodes) for m in Mode}
        total = sum(cycles.values())
        latencies = np.array([v for e in episodes for v in e.latencies_ns], dtype=np.float64)
        p50, p99, high = (
            (float(np.percentile(latencies, q)) / 1000.0 for q in (50, 99, 100))
            if latencies.size
            else (0.0, 0.0, 0.0)
        )
        return cls(
            decisions=decisions,
            interventions=sum(e.interventions for e in episodes),
            verdicts=dict(sorted(verdicts.items())),
            veto_counts=dict(vetoes.most_common()),
            veto_rates={rule: n / decisions for rule, n in vetoes.most_common()},
            rungs=dict(rungs.most_common()),
            mode_cycles=cycles,
            mode_shares={name: (n / total if total else 0.0) for name, n in cycles.items()},
            dropped_records=sum(e.dropped_records for e in episodes),
            latency_p50_us=p50,
            latency_p99_us=p99,
            latency_max_us=high,
        )


@dataclass(frozen=True)
class GateDemoResult:
    """Both runs, the gate's statistics, and the kill-switch check if one was asked for.

    The kill-switch check is an extra gated drive of episode 0 (``kill_episode``), kept out of
    the comparison and the statistics so that a stopped vehicle does not skew them; ``kill`` is
    ``None`` when that episode ended before the flag was due.

    ``attestation`` is ``"unattested"`` (an envelope nobody signed), ``"attested"`` (signature
    and model files verified) or ``"failed"`` (``failure`` says why; the gate ran FAIL_CLOSED).
    """

    model_dir: str
    envelope_name: str
    envelope_digest: str
    model_digest: str
    attestation: str
    failure: str | None
    scenarios: tuple[str, ...]
    seed: int
    workers: int
    wall_s: float
    without_gate: RunSummary
    with_gate: RunSummary
    gate: GateStatistics
    kill: KillOutcome | None
    kill_episode: GuardedEpisode | None
    pairs: tuple[tuple[GuardedEpisode, GuardedEpisode], ...]
    log_dir: str | None = None

    def by_scenario(self) -> dict[str, tuple[RunSummary, RunSummary]]:
        """Per scenario: (without gate, with gate)."""
        grouped: dict[str, list[tuple[GuardedEpisode, GuardedEpisode]]] = {}
        for pair in self.pairs:
            grouped.setdefault(pair[0].scenario, []).append(pair)
        return {
            scenario: (RunSummary.of([p[0] for p in pairs]), RunSummary.of([p[1] for p in pairs]))
            for scenario, pairs in grouped.items()
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; per-episode latencies and events are left out."""
        nested = ("pairs", "without_gate", "with_gate", "gate", "kill", "kill_episode")
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in nested}
        data["kill"] = None if self.kill is None else asdict(self.kill)
        data["scenarios"] = list(self.scenarios)
        data["without_gate"] = asdict(self.without_gate)
        data["with_gate"] = asdict(self.with_gate)
        data["gate"] = asdict(self.gate)
        data["by_scenario"] = {
            scenario: {"without_gate": asdict(off), "with_gate": asdict(on)}
            for scenario, (off, on) in self.by_scenario().items()
        }
        if self.kill_episode is not None:
            data["kill_episode"] = _episode_json(self.kill_episode)
        data["episodes"] = [
            {
                "index": off.index,
                "scenario": off.scenario,
                "seed": off.seed,
                "without_gate": _episode_json(off),
                "with_gate": _episode_json(on),
            }
            for off, on in self.pairs
        ]
        return data


def _episode_json(episode: GuardedEpisode) -> dict[str, Any]:
    skip = ("index", "scenario", "seed", "gated", "latencies_ns", "events", "kill")
    data = {f.name: getattr(episode, f.name) for f in fields(episode) if f.name not in skip}
    data["mode_cycles"] = list(episode.mode_cycles)
    for key in ("verdicts", "vetoes", "rungs"):
        data[key] = dict(data[key])
    return data


def run_guarded_comparison(
    policy_dir: Path,
    *,
    envelope: Mapping[str, Any] | None = None,
    episodes: int = 12,
    seed: int = 0,
    workers: int = 1,
    gate_factory: GateFactory | None = None,
    log_dir: Path | None = None,
    kill_after: int | None = None,
    on_episode: Callable[[int, int], None] | None = None,
    on_event: EventCallback | None = None,
    scenarios: Sequence[str] = DEMO_SCENARIOS,
    duration_s: float | None = None,
) -> GateDemoResult:
    """Drive ``episodes`` seeded episodes of a policy without, then with, the safety gate.

    Episode ``i`` runs scenario ``scenarios[i % len(scenarios)]`` with seed ``seed + i``, both
    times. Each gated episode gets a new gate from ``gate_factory`` (default: an unattested gate
    on ``envelope``, default :func:`reference_envelope`), enforcing, with a kill switch watching
    a flag file.

    Args:
        policy_dir: A model folder with a ``steward-adapter.yaml`` (DiscreteMetaAction).
        envelope: The envelope document for the default, unattested gate.
        episodes: Episode pairs to drive.
        seed: Seed of the first episode.
        workers: Processes (``1`` drives in this process).
        gate_factory: Builds each episode's gate instead (e.g. :class:`SignedGateFactory`).
        log_dir: Record every gated decision to ``log_dir/episode-NNN`` (Parquet); must be new
            or empty.
        kill_after: Drive the first gated episode once more (outside the comparison) and write
            the kill switch's flag file after this many cycles; see :attr:`GateDemoResult.kill`.
        on_episode: Called with ``(done, total)`` as episodes finish.
        on_event: Called with every gate event (mode changes, kill switch, attestation, batch
            digests), in episode order once all finished; the payload names the episode.
        scenarios: Reference scenario ids (highway-v0 family) to cycle through.
        duration_s: Shorten every episode to this many simulated seconds.

    Raises:
        InvalidInput: A count below 1, an unknown or non-highway scenario, a policy that is not
            a DiscreteMetaAction model folder, an invalid envelope, or a non-empty ``log_dir``.
        NotFound: ``policy_dir`` has no adapter file.
    """
    _check_counts(episodes, workers, kill_after, duration_s)
    factory = _factory(envelope, gate_factory)
    spec = _policy_spec(policy_dir)
    if log_dir is not None and log_dir.exists() and any(log_dir.iterdir()):
        raise InvalidInput(f"--log {log_dir} is not empty", hint="give a new or empty folder")
    probe = factory(DecisionRecorder(MemorySink()), KillSwitch())
    plans = _plans(spec, factory, scenarios, episodes, seed, duration_s, log_dir, kill_after)
    started = time.perf_counter()
    results = run_plans(plans, workers, on_episode)
    wall = time.perf_counter() - started
    compared = results[: 2 * episodes]
    pairs = tuple(zip(compared[0::2], compared[1::2], strict=True))
    gated = [pair[1] for pair in pairs]
    kill_episode = results[-1] if kill_after is not None else None
    if on_event is not None:
        _forward_events(on_event, gated, kill_episode)
    model_digest = probe.model_digest
    return GateDemoResult(
        model_dir=str(spec.model_dir),
        envelope_name=probe.envelope.name if probe.envelope_digest else "(not trusted)",
        envelope_digest=probe.envelope_digest,
        model_digest=model_digest,
        attestation="failed"
        if probe.failure is not None
        else ("unattested" if model_digest == "unattested" else "attested"),
        failure=probe.failure,
        scenarios=tuple(dict.fromkeys(plan.scenario for plan in plans)),
        seed=seed,
        workers=workers,
        wall_s=wall,
        without_gate=RunSummary.of([pair[0] for pair in pairs]),
        with_gate=RunSummary.of(gated),
        gate=GateStatistics.of(gated),
        kill=None if kill_episode is None else kill_episode.kill,
        kill_episode=kill_episode,
        pairs=pairs,
        log_dir=None if log_dir is None else str(log_dir),
    )


def _forward_events(
    on_event: EventCallback, gated: Sequence[GuardedEpisode], kill: GuardedEpisode | None
) -> None:
    for episode in [*gated, *([kill] if kill is not None else [])]:
        drive = "kill-switch check" if episode is kill else "gated"
        for kind, payload in episode.events:
            on_event(
                kind,
                {**payload, "episode": episode.index, "scenario": episode.scenario, "drive": drive},
            )


def _check_counts(
    episodes: int, workers: int, kill_after: int | None, duration_s: float | None
) -> None:
    for name, value in (("episodes", episodes), ("workers", workers), ("kill-after", kill_after)):
        if value is not None and value < 1:
            raise InvalidInput(f"--{name} must be at least 1, got {value}")
    if duration_s is not None and not duration_s > 0:
        raise InvalidInput(f"duration_s must be positive, got {duration_s}")


def _factory(envelope: Mapping[str, Any] | None, factory: GateFactory | None) -> GateFactory:
    if factory is not None:
        if envelope is not None:
            raise InvalidInput("give an envelope or a gate factory, not both")
        return factory
    document = dict(envelope if envelope is not None else reference_envelope())
    parsed = Envelope.from_dict(document)
    actions = parsed.actions
    if actions is None or set(actions.actions) != set(range(5)):
        raise InvalidInput(
            f"envelope {parsed.name}: needs an actions table for highway-env's five "
            "DiscreteMetaAction indices 0-4",
            hint="see reference_envelope() for the table",
        )
    return UnattestedGateFactory(document)


def _policy_spec(policy_dir: Path) -> ModelFolderSpec:
    adapter = load_adapter(policy_dir)
    if adapter.action.get("type") != "DiscreteMetaAction":
        raise InvalidInput(
            f"{policy_dir}: the gate demo drives DiscreteMetaAction policies; this adapter's "
            f"action type is {adapter.action.get('type')!r}"
        )
    return ModelFolderSpec(str(adapter.folder))


def _plans(
    spec: ModelFolderSpec, factory: GateFactory, scenarios: Sequence[str], episodes: int,
    seed: int, duration_s: float | None, log_dir: Path | None, kill_after: int | None,
) -> list[GuardedPlan]:  # fmt: skip
    known = {s.id: s for s in SCENARIOS}
    chosen = []
    for scenario in scenarios:
        found = known.get(scenario)
        if found is None or not found.env_id.startswith("highway"):
            raise InvalidInput(
                f"scenario {scenario!r} is not a reference highway-v0 scenario",
                hint=f"choose among {', '.join(s.id for s in SCENARIOS if s.env_id != 'merge-v0')}",
            )
        chosen.append(found)
    if not chosen:
        raise InvalidInput("no scenarios to drive")
    plans = []
    folder = None if log_dir is None else str(log_dir)
    for index in range(episodes):
        spec_i = chosen[index % len(chosen)]
        config = dict(spec_i.config)
        if duration_s is not None:
            config["duration"] = duration_s
        common = {
            "index": index,
            "scenario": spec_i.id,
            "env_id": spec_i.env_id,
            "config": config,
            "seed": seed + index,
            "policy": spec,
            "weather": str(spec_i.tags.get("environment.weather", "clear")),
            "time_of_day": str(spec_i.tags.get("environment.time_of_day", "day")),
        }
        plans.append(GuardedPlan(**common))  # type: ignore[arg-type]
        plans.append(GuardedPlan(**common, gate=factory, log_dir=folder))  # type: ignore[arg-type]
    if kill_after is not None:
        plans.append(replace(plans[1], kill_after=kill_after))
    return plans
