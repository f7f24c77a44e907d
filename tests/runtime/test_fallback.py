"""The fallback ladder: clamp → last valid → comfortable stop → minimal risk, each re-checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

import modelsteward.runtime.fallback as fallback_module
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.fallback import (
    CLAMPABLE,
    braking_trajectory,
    clamp_trajectory,
    descend,
)
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rules import (
    PROPOSAL_RULES,
    CycleState,
    Intent,
    RuleResult,
    intent_of,
)
from modelsteward.runtime.world import Proposal, Trajectory, WorldState
from runtime_factories import (
    FASTER,
    IDLE,
    SLOWER,
    Drive,
    action,
    envelope,
    gate,
    obj,
    path,
    steady,
    world,
)

ENV = envelope()
NOW = 10.0


def state(mode: Mode = Mode.NORMAL, now: float = NOW) -> CycleState:
    return CycleState(now, mode)


def passes(env: Envelope, world_: WorldState, command: Trajectory, mode: Mode) -> bool:
    candidate = Proposal(NOW, 1.0, trajectory=command)
    intent = intent_of(env, world_, candidate)
    return all(rule(env, world_, candidate, intent, state(mode)).ok for rule in PROPOSAL_RULES)


# --- the rungs' commands ---------------------------------------------------------------------


def test_a_braking_trajectory_brakes_in_lane_until_it_stops() -> None:
    stop = braking_trajectory(10.0, 4.0, 3.0)
    assert stop.t.tolist() == pytest.approx([0.2 * i for i in range(1, 16)])
    assert stop.v.tolist() == pytest.approx([max(10.0 - 0.8 * i, 0.0) for i in range(1, 16)])
    assert stop.x[-1] == pytest.approx(12.5)  # v² / 2a: it stops at 2.5 s and stays
    assert not stop.y.any()


def test_a_clamped_trajectory_keeps_the_path_under_the_cap_and_within_acceleration() -> None:
    lane_change = Trajectory.from_points(
        [[0.5 * i, 13.0 * i, min(i, 4) * 1.0, 26.0 + i] for i in range(1, 7)]
    )
    clamped = clamp_trajectory(lane_change, 25.0, 25.0, ENV)
    assert clamped.t.tolist() == lane_change.t.tolist()
    assert clamped.v.max() <= 25.0
    accel = np.diff(np.concatenate(([25.0], clamped.v))) / 0.5
    assert accel.max() <= ENV.kinematics.max_accel
    # On the same path: the lateral offset is the original path's at the distance travelled.
    assert clamped.y[-1] == 4.0
    assert math.hypot(clamped.x[0], clamped.y[0]) == pytest.approx(12.5)  # 0.5 s at 25 m/s


def test_a_clamped_trajectory_slows_from_the_current_speed_above_the_cap() -> None:
    # REDUCED caps at 20 m/s while the ego still drives 25 m/s: the clamp must decelerate from
    # 25 within the decel limit (8 m/s² → 4 m/s per 0.5 s step), not start at 20.
    clamped = clamp_trajectory(steady(25.0, seconds=3.0).trajectory, 20.0, 25.0, ENV)  # type: ignore[arg-type]
    assert clamped.v.tolist() == [21.0, 20.0, 20.0, 20.0, 20.0, 20.0]
    assert passes(ENV, world(speed=25.0), clamped, Mode.REDUCED)


# --- the ladder, rung by rung ----------------------------------------------------------------


def test_a_clampable_veto_is_clamped_to_the_hold_action() -> None:
    rung = descend(ENV, world(speed_limit=25.0), action(FASTER), ["speed_cap"], state(), None, True)
    assert rung == ("clamp", IDLE)


def test_a_discrete_clamp_tries_the_comfortable_stop_when_holding_is_not_enough() -> None:
    fast = world(speed=25.0)
    rung = descend(ENV, fast, action(IDLE), ["speed_cap"], state(Mode.REDUCED), None, True)
    assert rung == ("clamp", SLOWER)


def test_a_trajectory_over_the_cap_is_clamped_after_escalation() -> None:
    rung, command = descend(
        ENV, world(speed=25.0), steady(25.0), ["speed_cap"], state(Mode.REDUCED), None, False
    )
    assert rung == "clamp"
    assert isinstance(command, Trajectory)
    assert command.v[-1] == 20.0


@pytest.mark.parametrize("veto", sorted({"confidence", "odd", "plausibility", "watchdog"}))
def test_a_veto_no_clamp_can_fix_skips_the_clamp(veto: str) -> None:
    assert veto not in CLAMPABLE
    last = (NOW - 0.125, IDLE)
    rung = descend(ENV, world(), action(FASTER), ["speed_cap", veto], state(), last, True)
    assert rung == ("last_valid", IDLE)


@pytest.mark.parametrize(("age", "rung"), [(1.0, "last_valid"), (1.0 + 1 / 64, "comfortable_stop")])
def test_the_last_valid_command_is_used_only_while_fresh(age: float, rung: str) -> None:
    last = (NOW - age, IDLE)
    assert descend(ENV, world(), action(IDLE), ["confidence"], state(), last, True)[0] == rung


def test_the_last_valid_command_must_pass_the_proposal_rules_again() -> None:
    last = (NOW - 0.125, FASTER)  # fine a moment ago, over the legal limit now
    rung = descend(ENV, world(speed_limit=25.0), action(IDLE), ["confidence"], state(), last, True)
    assert rung == ("comfortable_stop", SLOWER)


def test_a_last_valid_trajectory_is_shifted_along_its_own_path() -> None:
    previous = Trajectory.from_points([[0.25 * i, 2.5 * i, 0.0, 10.0] for i in range(1, 9)])
    rung, command = descend(
        ENV,
        world(speed=10.0),
        steady(10.0),
        ["confidence"],
        state(),
        (NOW - 0.125, previous),
        False,
    )
    assert rung == "last_valid"
    assert isinstance(command, Trajectory)
    # 0.125 s later at 10 m/s the vehicle is 1.25 m along: the first waypoint is 1.25 m ahead.
    assert command.t.tolist() == [0.25 * i - 0.125 for i in range(1, 9)]
    assert command.x.tolist() == [2.5 * i - 1.25 for i in range(1, 9)]


def test_a_last_valid_trajectory_too_short_to_shift_is_skipped() -> None:
    previous = Trajectory.from_points([[0.25 * i, 2.5 * i, 0.0, 10.0] for i in range(1, 4)])
    rung, _ = descend(
        ENV, world(speed=10.0), steady(10.0), ["confidence"], state(), (NOW - 0.5, previous), False
    )
    assert rung == "comfortable_stop"


def test_without_a_last_valid_command_the_ladder_stops_comfortably() -> None:
    rung, command = descend(ENV, world(), steady(25.0), ["confidence"], state(), None, False)
    assert rung == "comfortable_stop"
    assert isinstance(command, Trajectory)
    assert np.diff(command.v).tolist() == pytest.approx([-0.4] * 14)  # 2 m/s² in 0.2 s steps


def test_minimal_risk_when_a_comfortable_stop_would_not_be_a_proper_response() -> None:
    close = world(speed=25.0, objects=[obj(30.0, 15.0)])
    rung, command = descend(
        ENV, close, steady(25.0), ["rss", "confidence"], state(Mode.REDUCED), None, False
    )
    assert rung == "minimal_risk"
    assert isinstance(command, Trajectory)
    assert command.v[0] == pytest.approx(25.0 - 4.0 * 0.2)  # the minimal-risk 4 m/s²


def test_fail_closed_skips_the_clamp_and_the_last_valid_command() -> None:
    last = (NOW - 0.125, IDLE)
    rung = descend(ENV, world(), action(FASTER), ["speed_cap"], state(Mode.FAIL_CLOSED), last, True)
    assert rung == ("comfortable_stop", SLOWER)


def test_without_a_readable_world_the_last_valid_command_is_used_unchecked() -> None:
    last = (NOW - 0.125, FASTER)
    assert descend(ENV, None, None, ["input_integrity"], state(), last, True) == (
        "last_valid",
        FASTER,
    )


@pytest.mark.parametrize("discrete", [True, False])
def test_without_a_readable_world_or_a_last_command_the_floor_is_minimal_risk(
    discrete: bool,
) -> None:
    rung, command = descend(ENV, None, None, ["input_integrity"], state(), None, discrete)
    assert rung == "minimal_risk"
    if discrete:
        assert command == SLOWER
    else:
        assert isinstance(command, Trajectory)
        assert not command.v.any()  # standing still: nothing known about the speed


def test_the_minimal_risk_action_is_the_envelopes_own() -> None:
    document_changes = {
        "actions__table": {
            "0": {"name": "IDLE"},
            "1": {"name": "SLOWER", "speed_delta_mps": -2.0},
            "2": {"name": "BRAKE", "speed_delta_mps": -6.0},
        },
        "actions__hold": 0,
        "actions__comfortable_stop": 1,
        "actions__minimal_risk": 2,
    }
    env = envelope(**document_changes)
    assert descend(env, None, None, ["input_integrity"], state(), None, True) == (
        "minimal_risk",
        2,
    )


# --- through the gate ------------------------------------------------------------------------


def test_the_ladder_through_the_gate_clamps_then_repeats_then_stops() -> None:
    g, drive = gate(), Drive(speed=18.0)
    rungs = []
    proposals = [action(IDLE), action(FASTER)] + [action(IDLE, confidence=0.25)] * 10
    for proposal in proposals:
        moment = Proposal(drive.t, proposal.confidence, action=proposal.action)
        decision = g.decide(drive.world(speed_limit=20.0), moment, now=drive.t)
        rungs.append((decision.rung, decision.command))
        drive.step()
    assert rungs[0] == (None, IDLE)  # accepted
    assert rungs[1] == ("clamp", IDLE)  # 21 m/s is over 20: hold instead
    # The clamped command stays the last valid one for a second (8 cycles at 8 Hz)…
    assert rungs[2:10] == [("last_valid", IDLE)] * 8
    # …and then it is too old: stop.
    assert rungs[10:] == [("comfortable_stop", SLOWER)] * 2


def test_a_ladder_that_fails_takes_its_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(
        env: Envelope, world_: WorldState, proposal: Proposal, intent: Intent, state_: CycleState
    ) -> RuleResult:
        raise ArithmeticError("overflow in a re-check")

    monkeypatch.setattr(fallback_module, "PROPOSAL_RULES", (broken,))
    decision = gate().decide(world(speed_limit=25.0), action(FASTER), now=NOW)
    assert decision.vetoes == ("speed_cap",)
    assert (decision.rung, decision.command) == ("minimal_risk", SLOWER)


def test_a_trajectory_breaking_several_clampable_limits_is_clamped_within_all_of_them() -> None:
    close = world(speed=25.0, objects=[obj(60.0, 20.0)])
    surging = path([[0.5 * i, 13.0 * i, 0.0, 26.0 + i] for i in range(1, 7)])
    decision = gate().decide(close, surging, now=NOW)
    assert decision.vetoes == ("speed_cap", "kinematics", "rss")
    assert decision.mode is Mode.REDUCED
    assert decision.rung == "clamp"
    assert isinstance(decision.command, Trajectory)
    assert decision.command.v.tolist() == [21.0, 20.0, 20.0, 20.0, 20.0, 20.0]
    assert passes(ENV, close, decision.command, Mode.REDUCED)
