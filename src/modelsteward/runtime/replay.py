"""Counterfactual replay: what a candidate envelope would have decided on recorded inputs.

Before an envelope change ships, :func:`replay` re-runs every recorded decision — same world,
same proposal, same clock, kill-switch state and heartbeat — through a gate built on the
candidate, carrying its modes forward cycle by cycle, and reports per rule the vetoes the
candidate *adds* and *removes*. Replay is deterministic: deadlines are not re-judged (a
recorded deadline miss is reported apart), so the same log and envelope always give the same
report.

:func:`replay_longitudinal` is the vectorised path for the longitudinal rules (speed cap, RSS
to the lead vehicle, TTC) over millions of decisions held as arrays.

    >>> from modelsteward.runtime.envelope import Envelope, example_envelope
    >>> env = Envelope.from_dict(example_envelope())
    >>> batch = LongitudinalBatch.from_arrays(gap=[100.0, 5.0], v_ego=[25.0, 25.0],
    ...     v_lead=[25.0, 10.0], v_cmd=[25.0, 25.0], speed_limit=[30.0, 30.0])
    >>> replay_longitudinal(batch, env).vetoed.tolist()
    [False, True]
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.runtime.envelope import RULE_IDS, Envelope
from modelsteward.runtime.gate import SafetyGate
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rss import same_direction_kernel

__all__ = [
    "LongitudinalBatch",
    "LongitudinalVerdicts",
    "ReplayReport",
    "RuleChange",
    "replay",
    "replay_longitudinal",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class RuleChange:
    """How one rule's vetoes change under the candidate."""

    rule: str
    recorded: int
    candidate: int
    new: int
    removed: int
    new_cycles: tuple[int, ...]
    removed_cycles: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """The outcome of replaying a log against a candidate envelope."""

    decisions: int
    candidate_digest: str
    recorded_envelopes: tuple[str, ...]
    rules: tuple[RuleChange, ...]
    verdicts_changed: int
    recorded_deadline_misses: int
    mode_cycles: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape for ``--json``."""
        return {
            "decisions": self.decisions,
            "candidate_envelope_digest": self.candidate_digest,
            "recorded_envelope_digests": list(self.recorded_envelopes),
            "verdicts_changed": self.verdicts_changed,
            "recorded_deadline_misses": self.recorded_deadline_misses,
            "candidate_mode_cycles": dict(self.mode_cycles),
            "rules": [
                {
                    "rule": change.rule,
                    "recorded_vetoes": change.recorded,
                    "candidate_vetoes": change.candidate,
                    "new_vetoes": change.new,
                    "removed_vetoes": change.removed,
                    "new_cycles_sample": list(change.new_cycles),
                    "removed_cycles_sample": list(change.removed_cycles),
                }
                for change in self.rules
            ],
        }


_SAMPLE = 10


def replay(records: Iterable[Mapping[str, Any]], candidate: Envelope) -> ReplayReport:
    """Re-decide every record with ``candidate``; records in the order they were made.

    A log may hold several gate runs (a folder per episode or per start): where the cycle
    number falls back, a new run begins and the replay starts a fresh gate, as the vehicle did.
    """
    kill = KillSwitch()
    gate = _replay_gate(candidate, kill)
    mode_cycles = [0, 0, 0, 0]
    tallies = {rule: _Tally() for rule in (*RULE_IDS, "rule_error")}
    envelopes: set[str] = set()
    changed = deadline_misses = total = 0
    last_cycle = 0
    for record in records:
        total += 1
        cycle = int(record.get("cycle") or total)
        if cycle <= last_cycle:
            mode_cycles = [a + b for a, b in zip(mode_cycles, gate.mode_cycles, strict=True)]
            gate = _replay_gate(candidate, kill)
        last_cycle = cycle
        envelopes.add(str(record.get("envelope_digest") or ""))
        recorded = set(record.get("vetoes") or ())
        deadline_misses += "deadline" in recorded
        _restore(gate, kill, record)
        decision = gate.decide(
            _loads(record.get("world")), _loads(record.get("proposal")), now=float(record["now"])
        )
        changed += decision.verdict != record.get("verdict")
        for rule, tally in tallies.items():
            tally.add(cycle, rule in recorded, rule in decision.vetoes)
    mode_cycles = [a + b for a, b in zip(mode_cycles, gate.mode_cycles, strict=True)]
    return ReplayReport(
        decisions=total,
        candidate_digest=str(candidate.digest),
        recorded_envelopes=tuple(sorted(e for e in envelopes if e)),
        rules=tuple(tally.change(rule) for rule, tally in tallies.items()),
        verdicts_changed=changed,
        recorded_deadline_misses=deadline_misses,
        mode_cycles={mode.name: mode_cycles[mode] for mode in Mode},
    )


@dataclass
class _Tally:
    recorded: int = 0
    candidate: int = 0
    new: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def add(self, cycle: int, was: bool, now: bool) -> None:
        self.recorded += was
        self.candidate += now
        if now and not was:
            self.new.append(cycle)
        elif was and not now:
            self.removed.append(cycle)

    def change(self, rule: str) -> RuleChange:
        return RuleChange(
            rule,
            self.recorded,
            self.candidate,
            len(self.new),
            len(self.removed),
            tuple(self.new[:_SAMPLE]),
            tuple(self.removed[:_SAMPLE]),
        )


def _replay_gate(candidate: Envelope, kill: KillSwitch) -> SafetyGate:
    gate = SafetyGate(
        candidate,
        model_digest="replay",
        envelope_digest=str(candidate.digest),
        kill_switch=kill,
        clock=lambda: 0.0,
        enforce_deadline=False,  # deadlines are judged live, not in replay
    )
    return gate


def _restore(gate: SafetyGate, kill: KillSwitch, record: Mapping[str, Any]) -> None:
    reason = record.get("kill_reason")
    if reason:
        kill.engage(str(reason))
    else:
        kill.release()
    heartbeat = record.get("heartbeat")
    if heartbeat is not None and math.isfinite(float(heartbeat)):
        gate._state.heartbeat = float(heartbeat)  # noqa: SLF001


def _loads(text: object) -> Any:
    if text is None:
        return None
    if not isinstance(text, str):
        return text
    return json.loads(text)


@dataclass(frozen=True, slots=True)
class LongitudinalBatch:
    """Decisions reduced to the longitudinal situation, one array element per decision.

    ``gap`` is bumper to bumper to the lead vehicle (m), ``v_cmd`` the speed the proposal
    commands, ``braking`` whether it brakes at least ``brake_min``, ``mode`` the gate's mode.
    """

    gap: FloatArray
    v_ego: FloatArray
    v_lead: FloatArray
    v_cmd: FloatArray
    speed_limit: FloatArray
    braking: BoolArray
    mode: npt.NDArray[np.int8]

    @classmethod
    def from_arrays(
        cls,
        *,
        gap: npt.ArrayLike,
        v_ego: npt.ArrayLike,
        v_lead: npt.ArrayLike,
        v_cmd: npt.ArrayLike,
        speed_limit: npt.ArrayLike,
        braking: npt.ArrayLike | None = None,
        mode: npt.ArrayLike | None = None,
    ) -> LongitudinalBatch:
        """Build from equal-length array-likes (``braking`` False, ``mode`` NORMAL by default)."""
        arrays = [np.asarray(a, dtype=np.float64) for a in (gap, v_ego, v_lead, v_cmd, speed_limit)]
        size = arrays[0].shape[0]
        if any(a.shape != (size,) for a in arrays):
            raise ValueError("gap, v_ego, v_lead, v_cmd and speed_limit must be 1-D, same length")
        brakes = np.zeros(size, bool) if braking is None else np.asarray(braking, dtype=bool)
        modes = np.zeros(size, np.int8) if mode is None else np.asarray(mode, dtype=np.int8)
        gap_, v_ego_, v_lead_, v_cmd_, limit_ = arrays
        return cls(gap_, v_ego_, v_lead_, v_cmd_, limit_, brakes, modes)


@dataclass(frozen=True, slots=True)
class LongitudinalVerdicts:
    """Per decision: the three longitudinal rules' verdicts and margins."""

    speed_cap: BoolArray
    rss: BoolArray
    ttc: BoolArray
    rss_margin: FloatArray
    ttc_margin: FloatArray

    @property
    def vetoed(self) -> BoolArray:
        """Decisions any of the three rules vetoes."""
        return ~(self.speed_cap & self.rss & self.ttc)


def replay_longitudinal(batch: LongitudinalBatch, env: Envelope) -> LongitudinalVerdicts:
    """The speed-cap, RSS and TTC verdicts of :mod:`~modelsteward.runtime.rules`, vectorised.

    Same semantics as the scalar rules for a single lead vehicle in the ego lane: above the cap
    only slowing down passes; inside the RSS distance or under the TTC floor only braking does.
    """
    p = env.rss
    caps = np.array([env.speed_caps[mode] for mode in Mode])[batch.mode]
    cap = np.minimum(np.minimum(batch.speed_limit, env.odd.max_speed), caps)
    v_max = np.maximum(batch.v_ego, batch.v_cmd)
    slowing = (batch.v_cmd < batch.v_ego) & (v_max <= batch.v_ego + env.speed_tolerance)
    speed_ok = (cap - v_max >= -env.speed_tolerance) | slowing
    safe = same_direction_kernel(  # a reversing lead vehicle counts as standing (as the rule)
        v_max,
        np.maximum(batch.v_lead, 0.0),
        p.response_time_ego,
        p.accel_max,
        p.brake_min,
        p.brake_max,
    )
    rss_margin = batch.gap - safe
    closing = v_max - batch.v_lead
    with np.errstate(divide="ignore", invalid="ignore"):
        ttc = np.where(closing > 1e-9, np.maximum(batch.gap, 0.0) / closing, np.inf)
    ttc_margin = ttc - env.ttc_min
    return LongitudinalVerdicts(
        speed_cap=speed_ok,
        rss=(rss_margin >= 0) | batch.braking,
        ttc=(ttc_margin >= 0) | batch.braking,
        rss_margin=rss_margin,
        ttc_margin=ttc_margin,
    )
