"""Modes escalate at once and step down one level per N clean cycles; the kill switch fails
closed in the very cycle it is seen, whichever way it was engaged."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelsteward.runtime.gate import SafetyGate
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode, ModeMachine
from modelsteward.runtime.records import MemorySink
from modelsteward.runtime.world import Proposal, WorldState
from runtime_factories import (
    FASTER,
    IDLE,
    LANE_LEFT,
    Drive,
    action,
    envelope,
    obj,
    path,
    recorded_gate,
)

N, R, S, F = Mode.NORMAL, Mode.REDUCED, Mode.SUPERVISED, Mode.FAIL_CLOSED


# --- the mode machine ------------------------------------------------------------------------


def test_a_veto_escalates_at_once_to_the_mode_it_demands() -> None:
    machine = ModeMachine(deescalate_after=3)
    assert machine.update(S) is S
    assert machine.update(F) is F


def test_a_lesser_demand_does_not_hold_the_mode_up() -> None:
    # A veto that only asks for REDUCED is clean as far as SUPERVISED is concerned.
    machine = ModeMachine(deescalate_after=3, mode=S)
    machine.update(None)
    machine.update(None)
    assert machine.clean_cycles == 2
    assert machine.update(R) is R
    assert machine.clean_cycles == 0


def test_a_demand_for_the_current_mode_keeps_it_and_restarts_the_count() -> None:
    machine = ModeMachine(deescalate_after=3, mode=S)
    machine.update(None)
    machine.update(None)
    assert machine.update(S) is S
    assert machine.clean_cycles == 0


def test_the_mode_steps_down_one_level_per_n_clean_cycles() -> None:
    machine = ModeMachine(deescalate_after=3, mode=F)
    modes = [machine.update(None) for _ in range(10)]
    assert modes == [F, F, S, S, S, R, R, R, N, N]


def test_a_veto_during_recovery_restarts_the_count() -> None:
    machine = ModeMachine(deescalate_after=3, mode=R)
    flicker = [None, None, R, None, None, R, None, None, None]
    assert [machine.update(demand) for demand in flicker] == [R] * 8 + [N]


def test_a_clamp_only_veto_does_not_stop_recovery() -> None:
    # Speed-cap vetoes escalate to NORMAL: a policy asking for too much speed is clamped, and
    # the gate still steps back down (it would otherwise stay REDUCED forever).
    machine = ModeMachine(deescalate_after=3, mode=R)
    assert [machine.update(N) for _ in range(3)] == [R, R, N]


def test_while_pinned_the_mode_is_fail_closed_and_no_clean_cycle_counts() -> None:
    machine = ModeMachine(deescalate_after=1)
    assert [machine.update(None, pinned=True) for _ in range(3)] == [F] * 3
    assert machine.clean_cycles == 0
    assert machine.update(None) is S


def test_deescalation_needs_at_least_one_clean_cycle() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ModeMachine(deescalate_after=0)


@pytest.mark.parametrize(("text", "mode"), [("reduced", R), (" FAIL_CLOSED ", F), ("Normal", N)])
def test_modes_parse_by_name(text: str, mode: Mode) -> None:
    assert Mode.parse(text) is mode


def test_an_unknown_mode_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="expected one of NORMAL, REDUCED, SUPERVISED"):
        Mode.parse("cautious")


# --- escalation through the gate -------------------------------------------------------------


def _one_veto_cases() -> dict[str, tuple[dict[str, Any], Proposal, Mode]]:
    return {
        "input_integrity": ({}, action(17), S),
        "plausibility": ({"speed": 25.0, "accel": 20.0}, action(IDLE), S),
        "confidence": ({}, action(IDLE, confidence=0.25), R),
        "odd": ({"weather": "snow"}, action(IDLE), S),
        "speed_cap": ({"speed_limit": 25.0}, action(FASTER), N),
        "kinematics": (
            {"speed": 10.0},
            path([[0.5, 5.5, 0.0, 12.0], [1.0, 11.5, 0.0, 12.0], [1.5, 17.5, 0.0, 12.0]]),
            R,
        ),
        "rss": ({"objects": [obj(0.0, 25.0, d=4.0, lane=1)]}, action(LANE_LEFT), R),
        # In our lane but laterally clear of us (RSS is content), 5.5 m ahead closing at 3 m/s.
        "ttc": ({"speed": 20.0, "objects": [obj(10.5, 17.0, d=3.0)]}, action(IDLE), R),
    }


@pytest.mark.parametrize("rule", sorted(_one_veto_cases()))
def test_each_rule_escalates_to_the_mode_its_envelope_entry_names(rule: str) -> None:
    world_options, proposal, mode = _one_veto_cases()[rule]
    g, _, _ = recorded_gate()
    g.heartbeat(10.0)
    decision = g.decide(Drive().world(**world_options), proposal, now=10.0)
    assert decision.vetoes == (rule,)
    assert decision.mode is mode


def test_the_envelope_can_change_a_rules_escalation() -> None:
    g, _, _ = recorded_gate(envelope(modes__escalate={"confidence": "supervised"}))
    decision = g.decide(Drive().world(), action(IDLE, confidence=0.25), now=10.0)
    assert decision.mode is S


def test_the_gate_steps_down_one_level_per_n_clean_cycles_and_records_each_change() -> None:
    g, recorder, sink = recorded_gate(envelope(modes__deescalate_after_cycles=3))
    drive = Drive(speed=10.0)
    modes = []
    for confidence in [0.9, 0.9, 0.25] + [0.9] * 5:
        decision = g.decide(
            drive.world(), action(IDLE, t=drive.t, confidence=confidence), now=drive.t
        )
        modes.append(decision.mode)
        drive.step()
    assert modes == [N, N, R, R, R, N, N, N]
    recorder.flush()
    changes = [(p["from"], p["to"], p["cycle"]) for k, p in sink.events if k == "gate.mode.changed"]
    assert changes == [("NORMAL", "REDUCED", 3), ("REDUCED", "NORMAL", 6)]


def test_a_flickering_fault_never_lets_the_mode_step_down() -> None:
    g, _, _ = recorded_gate(envelope(modes__deescalate_after_cycles=3))
    drive = Drive(speed=10.0)
    modes = []
    for cycle in range(12):
        confidence = 0.25 if cycle % 3 == 0 else 0.9  # two clean cycles, then a veto
        decision = g.decide(
            drive.world(), action(IDLE, t=drive.t, confidence=confidence), now=drive.t
        )
        modes.append(decision.mode)
        drive.step()
    assert modes == [R] * 12


def test_mode_change_events_carry_the_gate_digests() -> None:
    g, recorder, sink = recorded_gate()
    g.decide(Drive().world(), action(IDLE, confidence=0.25), now=10.0)
    recorder.flush()
    kind, payload = sink.events[0]
    assert kind == "gate.mode.changed"
    assert payload["envelope_digest"] == g.envelope_digest
    assert payload["model_digest"] == "unattested"


# --- the kill switch -------------------------------------------------------------------------


def test_a_kill_switch_reports_why_it_is_engaged_until_released() -> None:
    switch = KillSwitch()
    assert switch.poll() is None
    assert switch.flag_file is None
    switch.engage("")
    assert switch.poll() == "engaged"
    switch.engage("operator pressed stop")
    assert switch.poll() == "operator pressed stop"
    switch.release()
    assert switch.poll() is None


class Standstill:
    """A gate with a standing vehicle (so FAIL_CLOSED's cap of 0 m/s is no veto) and a clean
    model; each :meth:`cycle` is one decision."""

    def __init__(self, switch: KillSwitch, deescalate_after: int = 2) -> None:
        self.gate: SafetyGate
        self.gate, self.recorder, self.sink = recorded_gate(
            envelope(modes__deescalate_after_cycles=deescalate_after), kill_switch=switch
        )
        self.drive = Drive(speed=0.0)

    def world(self) -> WorldState:
        return self.drive.world(objects=[obj(120.0, 0.0)])

    def cycle(self) -> tuple[Mode, tuple[str, ...], str | None]:
        decision = self.gate.decide(self.world(), action(IDLE, t=self.drive.t), now=self.drive.t)
        self.drive.step()
        return decision.mode, decision.vetoes, decision.kill_reason

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        self.recorder.flush()
        return [(kind, payload) for kind, payload in self.sink.events]


def test_engaging_fails_closed_in_the_very_next_cycle_and_is_recorded() -> None:
    switch = KillSwitch()
    car = Standstill(switch)
    assert car.cycle() == (N, (), None)
    switch.engage("operator pressed stop")
    # Latency: zero cycles. The first cycle after engage() is FAIL_CLOSED.
    assert car.cycle() == (F, ("watchdog",), "operator pressed stop")
    kinds = [(kind, payload.get("reason"), payload.get("to")) for kind, payload in car.events()]
    assert kinds == [
        ("gate.kill.engaged", "operator pressed stop", None),
        ("gate.mode.changed", None, "FAIL_CLOSED"),
    ]


def test_while_engaged_clean_cycles_do_not_count_and_release_steps_down_one_level_at_a_time() -> (
    None
):
    switch = KillSwitch()
    car = Standstill(switch, deescalate_after=2)
    switch.engage("maintenance")
    assert [car.cycle()[0] for _ in range(5)] == [F] * 5
    switch.release()
    after = [car.cycle() for _ in range(7)]
    assert after[0] == (F, (), None)  # released: the watchdog is content, the mode not yet
    assert [mode for mode, _, _ in after] == [F, S, S, R, R, N, N]
    kinds = [kind for kind, _ in car.events()]
    assert kinds == [
        "gate.kill.engaged",
        "gate.mode.changed",
        "gate.kill.released",
        "gate.mode.changed",
        "gate.mode.changed",
        "gate.mode.changed",
    ]
    released = next(payload for kind, payload in car.events() if kind == "gate.kill.released")
    assert released["reason"] == "maintenance"


def test_a_flag_file_engages_with_the_reason_it_holds_and_deleting_it_releases(
    tmp_path: Path,
) -> None:
    flag = tmp_path / "kill"
    switch = KillSwitch(flag)
    assert switch.flag_file == flag
    car = Standstill(switch)
    assert car.cycle()[0] is N
    flag.write_text(json.dumps({"reason": "geofence breach reported by fleet ops"}))
    assert car.cycle() == (F, ("watchdog",), "kill flag: geofence breach reported by fleet ops")
    flag.unlink()
    mode, vetoes, reason = car.cycle()
    assert (mode, vetoes, reason) == (F, (), None)
    kinds = [kind for kind, _ in car.events()]
    assert kinds == ["gate.kill.engaged", "gate.mode.changed", "gate.kill.released"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("stop now", "stop now"),
        ("", "kill flag present"),
        ('{"by": "ops"}', '{"by": "ops"}'),
        ('{"reason": 5}', '{"reason": 5}'),
        ('{"reason": "brake test"}', "kill flag: brake test"),
    ],
)
def test_a_flag_files_text_is_its_reason(tmp_path: Path, text: str, reason: str) -> None:
    flag = tmp_path / "kill"
    flag.write_text(text)
    assert KillSwitch(flag).poll() == reason


def test_a_rewritten_flag_file_gives_its_new_reason(tmp_path: Path) -> None:
    flag = tmp_path / "kill"
    flag.write_text("first")
    switch = KillSwitch(flag)
    assert switch.poll() == "first"
    flag.write_text("second")
    stat = flag.stat()
    os.utime(flag, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert switch.poll() == "second"


def test_an_unreadable_flag_fails_closed(tmp_path: Path) -> None:
    flag = tmp_path / "kill"
    flag.mkdir()  # present, but not a file anyone can read
    reason = KillSwitch(flag).poll()
    assert reason is not None
    assert reason.startswith("kill flag unreadable")


@pytest.fixture
def sigusr1() -> Iterator[None]:
    """Restore SIGUSR1's handler after the test."""
    previous = signal.getsignal(signal.SIGUSR1)
    yield
    signal.signal(signal.SIGUSR1, previous)


@pytest.mark.usefixtures("sigusr1")
def test_a_signal_engages_the_switch_and_the_next_cycle_fails_closed() -> None:
    switch = KillSwitch()
    switch.install_signal()
    car = Standstill(switch)
    assert car.cycle()[0] is N
    os.kill(os.getpid(), signal.SIGUSR1)
    assert car.cycle() == (F, ("watchdog",), "signal SIGUSR1")
    switch.release()
    assert car.cycle()[2] is None


def test_a_kill_switch_pins_fail_closed_even_when_every_rule_is_content() -> None:
    switch = KillSwitch()
    switch.engage("test")
    car = Standstill(switch, deescalate_after=1)
    assert [car.cycle()[0] for _ in range(4)] == [F] * 4
    assert car.gate.mode is F


def test_a_kill_during_a_vetoed_cycle_still_fails_closed_at_once() -> None:
    switch = KillSwitch()
    g, _, sink = recorded_gate(kill_switch=switch)
    switch.engage("stop")
    decision = g.decide({"t": "garbage"}, None, now=10.0)
    assert decision.mode is F
    assert set(decision.vetoes) == {"input_integrity", "watchdog"}
    assert isinstance(sink, MemorySink)
