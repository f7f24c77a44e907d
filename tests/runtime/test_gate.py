"""The gate's cycle: accept, veto, fall back; malformed input, faulty rules and late cycles never
crash the loop; shadow mode; attestation; the model's heartbeat."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modelsteward.runtime.gate as gate_module
from modelsteward.runtime.envelope import RULE_IDS, Envelope
from modelsteward.runtime.gate import SafetyGate
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.records import DecisionRecorder, MemorySink, decision_record
from modelsteward.runtime.rules import CycleState, Intent, RuleResult
from modelsteward.runtime.world import (
    Objects,
    Proposal,
    Trajectory,
    WorldState,
    example_proposal,
    example_world,
)
from runtime_factories import (
    FASTER,
    IDLE,
    SLOWER,
    Drive,
    action,
    envelope,
    gate,
    obj,
    recorded_gate,
    steady,
    world,
)

NOW = 10.0


def test_a_clean_proposal_is_accepted_and_sent_as_proposed() -> None:
    decision = gate().decide(world(), action(IDLE), now=NOW)
    assert decision.verdict == "accept"
    assert decision.command == decision.output == IDLE
    assert decision.enforced
    assert decision.rung is None
    assert decision.vetoes == ()
    assert decision.reason == ""
    assert decision.mode is Mode.NORMAL
    assert [result.rule for result in decision.rules] == list(RULE_IDS)
    assert all(result.ok for result in decision.rules)


def test_json_shaped_inputs_are_decided_like_parsed_ones() -> None:
    as_json = gate().decide(example_world(), example_proposal(), now=NOW)
    parsed = gate().decide(
        WorldState.from_dict(example_world()), Proposal.from_dict(example_proposal()), now=NOW
    )
    assert as_json.verdict == parsed.verdict == "accept"
    assert as_json.rules == parsed.rules


def test_a_speeding_action_is_clamped_to_the_hold_action() -> None:
    decision = gate().decide(world(speed_limit=25.0), action(FASTER), now=NOW)
    assert decision.verdict == "clamp"
    assert decision.rung == "clamp"
    assert decision.vetoes == ("speed_cap",)
    assert decision.command == IDLE
    assert decision.reason == "commands 28.0 m/s, cap 25.0 m/s"
    assert decision.mode is Mode.NORMAL  # a speed-cap veto escalates to NORMAL: no change


def test_the_clock_supplies_now_when_the_caller_does_not() -> None:
    g = gate(clock=lambda: NOW + 0.125)
    decision = g.decide(world(), action(IDLE))
    assert decision.now == NOW + 0.125
    assert decision.verdict == "accept"


def test_cycles_veto_counts_and_mode_cycles_are_counted() -> None:
    g, drive = gate(), Drive()
    g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t)
    drive.step()
    g.decide(drive.world(), action(IDLE, t=drive.t, confidence=0.25), now=drive.t)
    assert g.cycle == 2
    assert g.veto_counts == {"confidence": 1}
    assert g.mode_cycles == [1, 1, 0, 0]  # the vetoed cycle already counts as REDUCED


# --- malformed input: a veto, never an exception ----------------------------------------------


def _seven_columns() -> WorldState:
    rows = np.zeros((2, 7))
    rows.flags.writeable = False
    base = world()
    return WorldState(base.t, base.ego, Objects(rows), base.context, base.poses)


def _huge_x() -> dict[str, object]:
    document = example_world()
    document["ego"]["x"] = 10**400  # valid JSON, beyond float
    return document


MALFORMED = {
    "no world": (None, example_proposal(), "world must be a WorldState or its JSON"),
    "a string world": ("road", example_proposal(), "found str"),
    "an empty world": ({}, example_proposal(), "world.ego must be a mapping"),
    "a world time that is text": (
        {**example_world(), "t": "now"},
        example_proposal(),
        "world.t must be a number",
    ),
    "a number beyond float": (_huge_x(), example_proposal(), "world.ego.x is too large"),
    "an unknown object field": (
        {**example_world(), "objects": [{"s": 10.0, "v_lon": 1.0, "colour": "red"}]},
        example_proposal(),
        "world.objects[0].colour is not a known field",
    ),
    "a proposal list": (example_world(), [1, 2], "proposal must be a Proposal or its JSON"),
    "a proposal number": (example_world(), 3, "found int"),
    "a textual confidence": (
        example_world(),
        {**example_proposal(), "confidence": "high"},
        "proposal.confidence must be a number",
    ),
    "a NaN speed": (world(speed=math.nan), action(IDLE), "world has a NaN or infinite value"),
    "a bad object array": (_seven_columns(), action(IDLE), "objects must be an (n, 8) array"),
    "a silent model": (world(), None, "no proposal this cycle"),
    "an unknown action": (world(), action(17), "action 17 is not in the envelope's"),
}


@pytest.mark.parametrize(("world_", "proposal", "says"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_is_an_input_integrity_veto_and_a_fallback(
    world_: object, proposal: object, says: str
) -> None:
    g = gate()
    g.heartbeat(NOW)  # the model is alive; only its input is bad
    decision = g.decide(world_, proposal, now=NOW)
    assert decision.verdict == "fallback"
    assert decision.vetoes == ("input_integrity",)
    assert says in decision.reason
    assert decision.mode is Mode.SUPERVISED
    assert decision.rung in ("comfortable_stop", "minimal_risk")
    assert decision.world is world_  # the record keeps what was given
    # The loop goes on: the next well-formed cycle is judged normally (12 m/s suits SUPERVISED).
    following = g.decide(world(t=NOW + 0.125, speed=10.0), action(IDLE, t=NOW + 0.125), now=10.125)
    assert following.verdict == "accept"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _leaves(document: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(document, dict):
        items: list[tuple[object, object]] = list(document.items())
    elif isinstance(document, list):
        items = list(enumerate(document))
    else:
        return [prefix]
    return [prefix] + [leaf for key, value in items for leaf in _leaves(value, (*prefix, key))]


WORLD_LEAVES = _leaves(example_world())[1:]
PROPOSAL_LEAVES = _leaves(example_proposal())[1:]


def _corrupt(document: dict[str, Any], at: tuple[object, ...], value: object) -> dict[str, Any]:
    changed: Any = json.loads(json.dumps(document))
    target = changed
    for key in at[:-1]:
        target = target[key]
    target[at[-1]] = value
    return dict(changed)


SURVIVAL_ENV = envelope()


def _survives(world_: object, proposal: object) -> None:
    g = gate(SURVIVAL_ENV)
    decision = g.decide(world_, proposal, now=NOW)
    assert decision.verdict in ("accept", "clamp", "fallback")
    if decision.verdict != "accept":
        assert decision.vetoes
    decision_record(decision, "", "")  # and it can be recorded


@settings(max_examples=150, deadline=None)
@given(world_=JSON, proposal=JSON)
def test_the_gate_survives_any_json_input(world_: object, proposal: object) -> None:
    _survives(world_, proposal)


@settings(max_examples=200, deadline=None)
@given(
    leaf=st.sampled_from([("world", leaf) for leaf in WORLD_LEAVES])
    | st.sampled_from([("proposal", leaf) for leaf in PROPOSAL_LEAVES]),
    value=JSON,
)
def test_the_gate_survives_any_one_corrupted_field(
    leaf: tuple[str, tuple[object, ...]], value: object
) -> None:
    which, at = leaf
    world_, proposal = example_world(), example_proposal()
    if which == "world":
        world_ = _corrupt(world_, at, value)
    else:
        proposal = _corrupt(proposal, at, value)
    _survives(world_, proposal)


def test_malformed_input_falls_back_to_the_last_valid_command_while_it_is_fresh() -> None:
    g, drive = gate(), Drive()
    g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t)
    drive.step()
    decision = g.decide({"t": drive.t}, example_proposal(), now=drive.t)
    assert decision.rung == "last_valid"
    assert decision.command == IDLE


def test_a_rule_that_raises_is_a_rule_error_veto_that_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(
        env: Envelope, world_: WorldState, proposal: Proposal, intent: Intent, state: CycleState
    ) -> RuleResult:
        raise ZeroDivisionError("lane width is zero")

    named = dict(gate_module._NAMED_RULES)
    named["rss"] = broken
    monkeypatch.setattr(gate_module, "_NAMED_RULES", tuple(named.items()))
    g = gate()
    decision = g.decide(world(), action(IDLE), now=NOW)
    assert decision.verdict == "fallback"
    assert decision.vetoes == ("rule_error",)
    assert decision.reason == "rule rss raised ZeroDivisionError: lane width is zero"
    assert decision.mode is Mode.FAIL_CLOSED
    assert decision.rung in ("comfortable_stop", "minimal_risk")  # no clamp, no last valid
    assert [result.rule for result in decision.rules] == [
        "input_integrity",
        "plausibility",
        "confidence",
        "odd",
        "speed_cap",
        "kinematics",
    ]


def test_trajectory_arrays_numpy_cannot_check_are_a_rule_error_not_a_crash() -> None:
    words = np.array(["a", "b", "c"])
    numbers = np.array([1.0, 2.0, 3.0])
    proposal = Proposal(NOW, 0.9, trajectory=Trajectory(words, numbers, numbers, numbers))
    decision = gate().decide(world(), proposal, now=NOW)
    assert decision.vetoes == ("rule_error",)
    assert decision.reason.startswith("rule input_integrity raised")
    assert decision.mode is Mode.FAIL_CLOSED
    assert decision.rung == "minimal_risk"
    assert decision.command == SLOWER  # the example's minimal-risk action


def _sleepy(
    env: Envelope, world_: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    time.sleep(0.005)
    return RuleResult("sleepy", True, math.inf)


def test_a_cycle_that_overruns_its_deadline_is_a_deadline_veto(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gate_module, "_NAMED_RULES", (("sleepy", _sleepy),))
    decision = gate(envelope(watchdog__deadline_ms=1.0)).decide(world(), action(IDLE), now=NOW)
    assert decision.vetoes == ("deadline",)
    assert decision.reason == "deadline missed after rule sleepy"
    assert decision.mode is Mode.SUPERVISED
    assert decision.verdict == "fallback"


def test_a_late_cycle_still_checks_the_model_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_module, "_NAMED_RULES", (("sleepy", _sleepy),))
    # Inputs may be 2 s old, the heartbeat only 0.5 s: a 1 s old proposal is fresh but dead.
    g = gate(envelope(watchdog__deadline_ms=1.0, inputs__max_age_s=2.0))
    decision = g.decide(world(t=9.875), action(IDLE, t=9.0), now=NOW)
    assert decision.vetoes == ("watchdog", "deadline")
    assert decision.rules[-1] == RuleResult("watchdog", False, -0.5, "model heartbeat missed")
    assert decision.mode is Mode.FAIL_CLOSED


# --- the model's heartbeat -------------------------------------------------------------------


def test_a_silent_model_trips_the_watchdog_once_the_heartbeat_timeout_has_passed() -> None:
    g, drive = gate(), Drive(speed=10.0)  # 8 Hz; the example's timeout is 0.5 s
    assert g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t).verdict == "accept"
    silent_cycles = []
    for _ in range(6):
        drive.step()
        decision = g.decide(drive.world(), None, now=drive.t)
        silent_cycles.append((decision.vetoes, decision.mode))
    assert silent_cycles[:4] == [(("input_integrity",), Mode.SUPERVISED)] * 4  # 0.125…0.5 s
    assert silent_cycles[4:] == [(("input_integrity", "watchdog"), Mode.FAIL_CLOSED)] * 2


def test_heartbeats_between_proposals_keep_the_watchdog_content() -> None:
    g, drive = gate(), Drive(speed=10.0)
    g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t)
    for _ in range(8):
        drive.step()
        g.heartbeat(drive.t)
        decision = g.decide(drive.world(), None, now=drive.t)
        assert decision.vetoes == ("input_integrity",)
        assert decision.heartbeat == drive.t  # what the record keeps for replay


def test_a_heartbeat_without_a_time_reads_the_gate_clock() -> None:
    g = gate(clock=lambda: 42.0)
    g.heartbeat()
    assert g.decide(world(t=42.0), None, now=42.0).heartbeat == 42.0


# --- shadow and enforce ----------------------------------------------------------------------


@pytest.mark.parametrize("enforce", [True, False])
def test_shadow_mode_decides_the_same_but_sends_the_proposal(enforce: bool) -> None:
    g, recorder, sink = recorded_gate(enforce=enforce)
    decision = g.decide(world(speed_limit=25.0), action(FASTER), now=NOW)
    assert decision.verdict == "clamp"
    assert decision.command == IDLE
    assert decision.enforced is enforce
    assert decision.output == (IDLE if enforce else FASTER)
    recorder.flush()
    assert sink.batches[0][0][0]["enforced"] is enforce


def test_shadow_mode_sends_nothing_for_a_proposal_it_could_not_read() -> None:
    decision = gate(enforce=False).decide(example_world(), {"t": NOW}, now=NOW)
    assert decision.verdict == "fallback"
    assert decision.output is None
    assert decision.command is not None


def test_shadow_mode_escalates_modes_like_enforce_mode() -> None:
    shadow, enforcing, drive = gate(enforce=False), gate(), Drive()
    for confidence in (0.9, 0.25, 0.9):
        w, p = drive.world(), action(IDLE, t=drive.t, confidence=confidence)
        assert shadow.decide(w, p, now=drive.t).mode == enforcing.decide(w, p, now=drive.t).mode
        drive.step()
    assert shadow.mode is enforcing.mode is Mode.REDUCED


# --- attestation -----------------------------------------------------------------------------


def test_a_gate_whose_attestation_failed_falls_back_every_cycle() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink)
    g = SafetyGate(
        envelope(),
        model_digest="sha256:abc",
        envelope_digest="sha256:def",
        recorder=recorder,
        failure="attestation failed: model.safetensors differs",
    )
    drive = Drive(speed=0.0)  # standing: FAIL_CLOSED caps the speed at 0
    for _ in range(3):
        decision = g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t)
        assert decision.verdict == "fallback"
        assert decision.vetoes == ("attestation",)
        assert decision.reason == "attestation failed: model.safetensors differs"
        assert decision.mode is Mode.FAIL_CLOSED
        drive.step()
    recorder.flush()
    kind, payload = sink.events[0]
    assert kind == "gate.attestation.failed"
    assert payload["reason"] == "attestation failed: model.safetensors differs"
    assert payload["model_digest"] == "sha256:abc"


def test_a_gate_loaded_from_a_missing_envelope_hands_over_to_the_platform(tmp_path: Path) -> None:
    g = SafetyGate.load(tmp_path / "missing.json", tmp_path / "key.pub", tmp_path)
    assert g.failure is not None
    assert g.failure.startswith("envelope not trusted")
    decision = g.decide(world(), action(IDLE), now=NOW)
    assert decision.verdict == "fallback"
    assert decision.rung == "minimal_risk"
    assert decision.command is None  # no trustworthy limits: the platform's own manoeuvre
    assert decision.mode is Mode.FAIL_CLOSED


def test_an_untrusted_envelope_with_a_fallback_envelope_uses_its_ladder(tmp_path: Path) -> None:
    g = SafetyGate.load(
        tmp_path / "missing.json", tmp_path / "key.pub", tmp_path, fallback_envelope=envelope()
    )
    decision = g.decide(world(speed=0.0), action(IDLE), now=NOW)
    assert decision.vetoes == ("attestation",)
    assert decision.command == SLOWER


# --- trajectories through the gate -----------------------------------------------------------


def test_a_smooth_trajectory_is_accepted() -> None:
    decision = gate().decide(world(), steady(25.0), now=NOW)
    assert decision.verdict == "accept"
    assert isinstance(decision.command, Trajectory)


def test_a_trajectory_too_close_behind_a_lead_vehicle_falls_back_to_a_braking_one() -> None:
    close = world(speed=25.0, objects=[obj(22.5, 15.0)])
    decision = gate().decide(close, steady(25.0), now=NOW)
    assert set(decision.vetoes) == {"rss", "ttc"}
    assert decision.mode is Mode.REDUCED
    assert isinstance(decision.command, Trajectory)
    assert float(decision.command.v[-1]) < 25.0
