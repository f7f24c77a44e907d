"""The safety gate: every model proposal is checked against a signed envelope before it acts.

:meth:`SafetyGate.load` fails closed: unless the envelope's signature verifies *and* the model
files on disk hash to the digest the envelope is bound to, the gate still starts but every
decision is the fallback, with the reason in each record. Each :meth:`SafetyGate.decide` runs
the nine rules, escalates the mode at once on a veto (de-escalating only after clean cycles),
walks the fallback ladder when needed, and hands the decision to the recorder without waiting.
A rule that raises, or a cycle that overruns the envelope's deadline, is a veto too.

    >>> from modelsteward.runtime.envelope import Envelope, example_envelope
    >>> from modelsteward.runtime.world import Proposal, WorldState, example_proposal, example_world
    >>> gate = SafetyGate.unsafe_unattested(Envelope.from_dict(example_envelope()))
    >>> world = WorldState.from_dict(example_world(speed_limit=25.0))
    >>> faster = Proposal.from_dict(example_proposal(action=3))  # 25 → 28 m/s: over the limit
    >>> decision = gate.decide(world, faster, now=10.0)
    >>> decision.verdict, decision.vetoes, decision.command  # clamped to the hold action
    ('clamp', ('speed_cap',), 1)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from modelsteward.errors import StewardError
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.fallback import Command, descend
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode, ModeMachine
from modelsteward.runtime.records import DecisionRecorder
from modelsteward.runtime.rules import (
    RULES,
    CycleState,
    RuleResult,
    check_inputs,
    check_plausibility,
    check_watchdog,
    intent_of,
)
from modelsteward.runtime.signed import attest, load_signed_envelope
from modelsteward.runtime.world import Proposal, WorldState

__all__ = ["Decision", "SafetyGate"]

_log = logging.getLogger(__name__)
_NAMED_RULES = tuple((rule.__name__.removeprefix("check_"), rule) for rule in RULES)


class Decision(NamedTuple):
    """One cycle's outcome: what was proposed, what each rule said, and what was sent.

    ``command`` is what the gate chose; ``output`` is what actually went to the actuators —
    the same in enforce mode, the proposal's own command in shadow mode.
    """

    cycle: int
    now: float
    verdict: str
    command: Command
    output: Command
    enforced: bool
    rung: str | None
    vetoes: tuple[str, ...]
    rules: tuple[RuleResult, ...]
    mode: Mode
    reason: str
    latency_ns: int
    world: object
    proposal: object
    kill_reason: str | None
    heartbeat: float
    """The model's last sign of life before this cycle (replay restores it)."""


class SafetyGate:
    """Checks proposals against an envelope; see the module docstring."""

    def __init__(
        self,
        envelope: Envelope,
        *,
        model_digest: str,
        envelope_digest: str,
        enforce: bool = True,
        kill_switch: KillSwitch | None = None,
        recorder: DecisionRecorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        failure: str | None = None,
        enforce_deadline: bool = True,
    ) -> None:
        self.envelope = envelope
        self.model_digest = model_digest
        self.envelope_digest = envelope_digest
        self.enforce = enforce
        self.kill_switch = kill_switch or KillSwitch()
        self.recorder = recorder
        self.failure = failure
        self._clock = clock
        self._modes = ModeMachine(envelope.deescalate_after)
        self._state = CycleState(now=clock())
        self._last_valid: tuple[float, Command] | None = None
        self._discrete = envelope.actions is not None
        # Replay (and simulation that must repeat exactly) turns the wall-clock deadline off.
        self._deadline_ns = int(envelope.deadline * 1e9) if enforce_deadline else 1 << 62
        self.cycle = 0
        self.veto_counts: dict[str, int] = {}
        self.mode_cycles = [0, 0, 0, 0]
        if recorder is not None:
            recorder.bind(envelope_digest, model_digest)
        if failure is not None:
            self._modes.mode = self._state.mode = Mode.FAIL_CLOSED
            self._event("gate.attestation.failed", {"reason": failure})

    @classmethod
    def load(
        cls,
        signed_envelope: Path,
        public_key: Path,
        model_dir: Path,
        *,
        enforce: bool = True,
        kill_switch: KillSwitch | None = None,
        recorder: DecisionRecorder | None = None,
        clock: Callable[[], float] = time.monotonic,
        fallback_envelope: Envelope | None = None,
    ) -> SafetyGate:
        """Verify the envelope's signature and the model files, then build the gate.

        Never raises for a failed check: the gate starts in ``FAIL_CLOSED`` with the reason as
        :attr:`failure`, so the vehicle falls back instead of running unverified. When the
        envelope itself cannot be trusted, ``fallback_envelope`` (or, without one, an envelope
        with no trustworthy limits, so every command is ``None``: the platform's own minimal-risk
        manoeuvre) supplies the fallback.
        """
        options = {
            "enforce": enforce,
            "kill_switch": kill_switch,
            "recorder": recorder,
            "clock": clock,
        }
        try:
            signed = load_signed_envelope(Path(signed_envelope).read_bytes(), public_key)
        except (StewardError, OSError) as exc:
            reason = f"envelope not trusted: {getattr(exc, 'message', None) or exc}"
            return cls._untrusted(fallback_envelope, reason, options)
        attestation = attest(signed, Path(model_dir))
        return cls(
            signed.envelope,
            model_digest=str(signed.model_digest),
            envelope_digest=str(signed.statement_digest),
            failure=None if attestation.ok else f"attestation failed: {attestation.message}",
            **options,  # type: ignore[arg-type]
        )

    @classmethod
    def _untrusted(
        cls, envelope: Envelope | None, reason: str, options: Mapping[str, object]
    ) -> SafetyGate:
        from modelsteward.runtime.envelope import example_envelope  # noqa: PLC0415

        chosen = envelope or Envelope.from_dict(example_envelope())
        gate = cls(chosen, model_digest="", envelope_digest="", failure=reason, **options)  # type: ignore[arg-type]
        gate._trusted_limits = envelope is not None
        return gate

    @classmethod
    def unsafe_unattested(cls, envelope: Envelope, **options: object) -> SafetyGate:
        """A gate that skips signature and model attestation: for tests and benchmarks only."""
        _log.warning("SafetyGate.unsafe_unattested: envelope %s is not verified", envelope.name)
        digest = str(envelope.digest)
        return cls(envelope, model_digest="unattested", envelope_digest=digest, **options)  # type: ignore[arg-type]

    _trusted_limits = True

    @property
    def mode(self) -> Mode:
        """The mode the next cycle starts in."""
        return self._modes.mode

    def heartbeat(self, t: float | None = None) -> None:
        """Record a sign of life from the model between proposals."""
        self._state.heartbeat = self._clock() if t is None else t

    def decide(self, world: object, proposal: object, *, now: float | None = None) -> Decision:
        """Judge one proposal (or ``None`` when the model was silent) against ``world``.

        ``world`` and ``proposal`` may be :class:`WorldState`/:class:`Proposal` or their JSON
        shapes; anything malformed is an input-integrity veto, never an exception.
        """
        start = time.perf_counter_ns()
        state = self._state
        state.now = self._clock() if now is None else now
        heartbeat = state.heartbeat
        self.cycle += 1
        self._poll_kill(state)
        parsed_world, parsed_proposal, parse_fault = _parse(world, proposal)
        results, fault = self._evaluate(parsed_world, parsed_proposal, parse_fault, start)
        vetoes = tuple(result.rule for result in results if not result.ok)
        if fault is not None:
            vetoes += (fault[0],)
        inputs_ok = bool(results) and results[0].ok
        self._advance(parsed_world, parsed_proposal, inputs_ok)
        self._escalate(vetoes)
        return self._conclude(
            start,
            results,
            vetoes,
            fault,
            parsed_world if inputs_ok else None,
            parsed_proposal if inputs_ok else None,
            (world, proposal, heartbeat),
        )

    def _poll_kill(self, state: CycleState) -> None:
        reason = self.kill_switch.poll()
        if reason != state.kill_reason:
            kind = "gate.kill.engaged" if reason is not None else "gate.kill.released"
            self._event(kind, {"reason": reason or state.kill_reason, "cycle": self.cycle})
            state.kill_reason = reason
        if reason is not None and self._modes.mode is not Mode.FAIL_CLOSED:
            self._set_mode(self._modes.update(None, pinned=True))

    def _evaluate(
        self,
        world: WorldState | None,
        proposal: Proposal | None,
        parse_fault: str,
        start: int,
    ) -> tuple[list[RuleResult], tuple[str, str] | None]:
        env, state = self.envelope, self._state
        results: list[RuleResult] = []
        current = "input_integrity"
        late: tuple[str, str] | None = None
        try:
            if world is None or parse_fault:
                results.append(RuleResult("input_integrity", False, -float("inf"), parse_fault))
            else:
                results.append(check_inputs(env, world, proposal, state))
            if results[0].ok:
                assert world is not None
                assert proposal is not None
                current = "plausibility"
                results.append(check_plausibility(env, world, proposal, state))
                intent = intent_of(env, world, proposal)
                deadline = start + self._deadline_ns
                for current, rule in _NAMED_RULES:
                    results.append(rule(env, world, proposal, intent, state))
                    if time.perf_counter_ns() > deadline:
                        late = ("deadline", f"deadline missed after rule {current}")
                        break  # the watchdog still runs: a late cycle may hide a dead model
            current = "watchdog"
            results.append(check_watchdog(env, world, proposal, state))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 — a faulty rule is a veto, never a crash
            return results, ("rule_error", f"rule {current} raised {type(exc).__name__}: {exc}")
        if late is not None:
            return results, late
        if self.failure is not None:
            return results, ("attestation", self.failure)
        return results, None

    def _advance(self, world: WorldState | None, proposal: Proposal | None, ok: bool) -> None:
        if not ok or world is None or proposal is None:
            return
        state = self._state
        state.prev_t = world.t
        state.prev_speed = world.ego.speed
        state.prev_proposal_t = proposal.t
        if proposal.t > state.heartbeat:
            state.heartbeat = proposal.t
        self._discrete = proposal.trajectory is None

    def _escalate(self, vetoes: tuple[str, ...]) -> None:
        if not vetoes and self._state.mode is Mode.NORMAL and self._state.kill_reason is None:
            return  # the common clean cycle: nothing to count, nothing to move
        counts = self.veto_counts
        demand: Mode | None = None
        for rule in vetoes:
            counts[rule] = counts.get(rule, 0) + 1
            wanted = self.envelope.escalation.get(rule, Mode.FAIL_CLOSED)
            if demand is None or wanted > demand:
                demand = wanted
        pinned = self._state.kill_reason is not None or self.failure is not None
        self._set_mode(self._modes.update(demand, pinned=pinned))

    def _set_mode(self, mode: Mode) -> None:
        previous = self._state.mode
        if mode is not previous:
            self._state.mode = mode
            self._event(
                "gate.mode.changed", {"from": previous.name, "to": mode.name, "cycle": self.cycle}
            )

    def _conclude(
        self,
        start: int,
        results: list[RuleResult],
        vetoes: tuple[str, ...],
        fault: tuple[str, str] | None,
        world: WorldState | None,
        proposal: Proposal | None,
        raw: tuple[object, object, float],
    ) -> Decision:
        state = self._state
        raw_world, raw_proposal, heartbeat = raw
        if proposal is None:
            proposed = _command_of(raw_proposal)
        else:
            proposed = proposal.action if proposal.trajectory is None else proposal.trajectory
        reason = ""
        if not vetoes and proposal is not None and state.mode is not Mode.FAIL_CLOSED:
            verdict, rung, command = "accept", None, proposed
            self._last_valid = (state.now, command)
        else:
            reason = fault[1] if fault else next((r.detail for r in results if not r.ok), "")
            rung, command = self._fall_back(world, proposal, vetoes)
            verdict = "clamp" if rung == "clamp" else "fallback"
            if rung == "clamp":
                self._last_valid = (state.now, command)
        self.mode_cycles[state.mode.value] += 1
        decision = Decision(
            self.cycle,
            state.now,
            verdict,
            command,
            command if self.enforce else proposed,
            self.enforce,
            rung,
            vetoes,
            tuple(results),
            state.mode,
            reason,
            time.perf_counter_ns() - start,
            raw_world,
            raw_proposal,
            state.kill_reason,
            heartbeat,
        )
        if self.recorder is not None:
            self.recorder.submit(decision)
        return decision

    def _fall_back(
        self, world: WorldState | None, proposal: Proposal | None, vetoes: tuple[str, ...]
    ) -> tuple[str, Command]:
        if not self._trusted_limits:
            return "minimal_risk", None
        try:
            return descend(
                self.envelope,
                world,
                proposal,
                vetoes,
                self._state,
                self._last_valid,
                self._discrete,
            )
        except Exception:  # noqa: BLE001 — the ladder itself failed: take its floor
            _log.exception("fallback ladder failed; using the minimal-risk manoeuvre")
            return descend(
                self.envelope, None, None, ("rule_error",), self._state, None, self._discrete
            )

    def _event(self, kind: str, payload: dict[str, object]) -> None:
        if self.recorder is not None:
            payload = {
                **payload,
                "envelope_digest": self.envelope_digest,
                "model_digest": self.model_digest,
            }
            self.recorder.event(kind, payload)


def _parse(world: object, proposal: object) -> tuple[WorldState | None, Proposal | None, str]:
    if type(world) is WorldState and type(proposal) is Proposal:
        return world, proposal, ""
    try:
        if isinstance(world, Mapping):
            world = WorldState.from_dict(world)
        if isinstance(proposal, Mapping):
            proposal = Proposal.from_dict(proposal)
    except StewardError as exc:
        return None, None, exc.message
    if not isinstance(world, WorldState):
        return None, None, f"world must be a WorldState or its JSON, found {type(world).__name__}"
    if proposal is not None and not isinstance(proposal, Proposal):
        return (
            world,
            None,
            (f"proposal must be a Proposal or its JSON, found {type(proposal).__name__}"),
        )
    return world, proposal, ""


def _command_of(proposal: object) -> Command:
    if isinstance(proposal, Proposal):
        return proposal.action if proposal.trajectory is None else proposal.trajectory
    return None
