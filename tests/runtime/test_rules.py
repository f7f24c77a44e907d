"""The nine rules, each at, just inside and just outside its boundary."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from modelsteward.runtime.envelope import Envelope, Geofence
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rss import longitudinal_opposite_direction
from modelsteward.runtime.rules import (
    CycleState,
    Intent,
    RuleResult,
    check_confidence,
    check_inputs,
    check_kinematics,
    check_odd,
    check_plausibility,
    check_rss,
    check_speed_cap,
    check_ttc,
    check_watchdog,
    intent_of,
)
from modelsteward.runtime.world import Objects, Proposal, Trajectory, WorldState
from runtime_factories import (
    FASTER,
    IDLE,
    LANE_LEFT,
    LANE_RIGHT,
    SLOWER,
    action,
    envelope,
    obj,
    path,
    rss_safe_gap,
    steady,
    world,
)

ENV = envelope()
NOW = 10.0
TINY = 1.0 / 64  # exact in binary: "just over" a limit without rounding noise

ProposalRule = Callable[[Envelope, WorldState, Proposal, Intent, CycleState], RuleResult]


def judge(
    rule: ProposalRule,
    world_: WorldState,
    proposal: Proposal,
    *,
    env: Envelope = ENV,
    mode: Mode = Mode.NORMAL,
) -> RuleResult:
    """Run one proposal rule the way the gate does: intent first, then the rule."""
    return rule(env, world_, proposal, intent_of(env, world_, proposal), CycleState(NOW, mode))


def with_poses(world_: WorldState, rows: Sequence[Sequence[float]]) -> WorldState:
    poses = np.array(rows, dtype=np.float64)
    poses.flags.writeable = False
    return dataclasses.replace(world_, poses=poses)


# --- 1. input integrity ----------------------------------------------------------------------


STALE_ENV = envelope(inputs__max_age_s=0.25)


def test_inputs_exactly_max_age_old_pass_with_no_budget_left() -> None:
    result = check_inputs(STALE_ENV, world(t=9.75), action(IDLE, t=9.875), CycleState(NOW))
    assert result == RuleResult("input_integrity", True, 0.0)


def test_inputs_older_than_max_age_are_stale() -> None:
    result = check_inputs(STALE_ENV, world(t=9.75 - TINY), action(IDLE), CycleState(NOW))
    assert not result.ok
    assert result.margin == -TINY
    assert "old" in result.detail


def test_a_stale_proposal_is_stale_even_with_a_fresh_world() -> None:
    result = check_inputs(STALE_ENV, world(t=NOW), action(IDLE, t=9.75 - TINY), CycleState(NOW))
    assert not result.ok
    assert result.margin == -TINY


def test_a_timestamp_up_to_a_millisecond_ahead_is_tolerated_beyond_is_a_clock_fault() -> None:
    ahead = check_inputs(ENV, world(t=NOW + 1 / 1024), action(IDLE), CycleState(NOW))
    assert ahead.ok
    future = check_inputs(ENV, world(t=NOW + 1 / 512), action(IDLE), CycleState(NOW))
    assert not future.ok
    assert "future" in future.detail
    assert not check_inputs(ENV, world(), action(IDLE, t=NOW + 1 / 512), CycleState(NOW)).ok


def test_a_world_timestamp_that_does_not_advance_is_refused() -> None:
    state = CycleState(NOW)
    state.prev_t = 9.875
    assert check_inputs(ENV, world(t=9.875 + TINY), action(IDLE), state).ok
    result = check_inputs(ENV, world(t=9.875), action(IDLE), state)
    assert not result.ok
    assert "did not advance" in result.detail


def test_a_proposal_timestamp_may_repeat_but_never_go_back() -> None:
    state = CycleState(NOW)
    state.prev_proposal_t = 9.875
    assert check_inputs(ENV, world(), action(IDLE, t=9.875), state).ok
    result = check_inputs(ENV, world(), action(IDLE, t=9.875 - TINY), state)
    assert not result.ok
    assert "went back" in result.detail


def _objects(rows: np.ndarray) -> Objects:
    rows.flags.writeable = False
    return Objects(rows)


def _trajectory(
    t: Sequence[float], x: Sequence[float], y: Sequence[float], v: Sequence[float]
) -> Proposal:
    arrays = [np.array(a, dtype=np.float64) for a in (t, x, y, v)]
    return Proposal(NOW, 0.9, trajectory=Trajectory(*arrays))


_NAN, _INF_ = math.nan, math.inf
_FINE = world()
_SCHEMA_FAULTS: list[tuple[str, object, object, str]] = [
    ("a NaN ego speed", world(speed=_NAN), action(IDLE), "world has a NaN or infinite value"),
    ("an infinite position", world(x=_INF_), action(IDLE), "world has a NaN or infinite"),
    ("an infinite speed limit", world(speed_limit=_INF_), action(IDLE), "NaN or infinite"),
    ("a NaN object", world(objects=[obj(50.0, _NAN)]), action(IDLE), "an object has a NaN"),
    (
        "an object with +inf and -inf",
        world(objects=[obj(_INF_, -_INF_)]),
        action(IDLE),
        "an object has a NaN",
    ),
    (
        "seven object columns",
        dataclasses.replace(_FINE, objects=_objects(np.zeros((2, 7)))),
        action(IDLE),
        "objects must be an (n, 8) array",
    ),
    (
        "a NaN in the pose history",
        with_poses(_FINE, [[9.75, _NAN, 0.0], [NOW, 100.0, 0.0]]),
        action(IDLE),
        "pose history",
    ),
    (
        "a pose history of two columns",
        with_poses(_FINE, [[9.75, 93.75], [NOW, 100.0]]),
        action(IDLE),
        "pose history",
    ),
    ("a world that is a mapping", {"t": NOW}, action(IDLE), "world is not a WorldState"),
    ("no proposal", _FINE, None, "no proposal this cycle"),
    ("a proposal that is a mapping", _FINE, {"t": NOW}, "proposal is not a Proposal"),
    ("confidence above 1", _FINE, action(IDLE, confidence=1.5), "confidence must lie in [0, 1]"),
    ("negative confidence", _FINE, action(IDLE, confidence=-0.25), "confidence must lie"),
    ("NaN confidence", _FINE, action(IDLE, confidence=_NAN), "confidence must lie"),
    ("an infinite proposal time", _FINE, action(IDLE, t=_INF_), "its time be finite"),
    (
        "both action and trajectory",
        _FINE,
        dataclasses.replace(steady(25.0), action=IDLE),
        "exactly one of action and trajectory",
    ),
    ("neither action nor trajectory", _FINE, Proposal(NOW, 0.9), "exactly one of action"),
    ("an action outside the table", _FINE, action(9), "action 9 is not in the envelope's"),
    (
        "two waypoints",
        _FINE,
        path([[0.5, 12.5, 0.0, 25.0], [1.0, 25.0, 0.0, 25.0]]),
        "at least 3 waypoints",
    ),
    (
        "a NaN waypoint",
        _FINE,
        path([[0.5, 12.5, 0.0, 25.0], [1.0, _NAN, 0.0, 25.0], [1.5, 37.5, 0.0, 25.0]]),
        "trajectory has a NaN or infinite value",
    ),
    (
        "times that repeat",
        _FINE,
        path([[0.5, 12.5, 0.0, 25.0], [0.5, 25.0, 0.0, 25.0], [1.5, 37.5, 0.0, 25.0]]),
        "increase strictly",
    ),
    (
        "a negative first time",
        _FINE,
        path([[-0.5, 12.5, 0.0, 25.0], [0.5, 25.0, 0.0, 25.0], [1.5, 37.5, 0.0, 25.0]]),
        "start at >= 0",
    ),
    (
        "a negative speed",
        _FINE,
        path([[0.5, 12.5, 0.0, 25.0], [1.0, 25.0, 0.0, -1.0], [1.5, 37.5, 0.0, 25.0]]),
        "speeds must be >= 0",
    ),
    (
        "arrays of unequal length",
        _FINE,
        _trajectory([0.5, 1.0, 1.5], [1.0, 2.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
        "1-D and of equal length",
    ),
    (
        "two-dimensional arrays",
        _FINE,
        _trajectory([[0.5, 1.0, 1.5]], [[1.0, 2.0, 3.0]], [[0.0] * 3], [[1.0] * 3]),
        "1-D and of equal length",
    ),
]


@pytest.mark.parametrize(
    ("world_", "proposal", "says"),
    [case[1:] for case in _SCHEMA_FAULTS],
    ids=[case[0] for case in _SCHEMA_FAULTS],
)
def test_a_schema_fault_is_an_input_integrity_veto_that_says_what(
    world_: object, proposal: object, says: str
) -> None:
    result = check_inputs(ENV, world_, proposal, CycleState(NOW))  # type: ignore[arg-type]
    assert not result.ok
    assert result.margin == -math.inf
    assert says in result.detail


def test_more_objects_than_the_envelope_allows_is_a_schema_fault() -> None:
    env = envelope(inputs__max_objects=2)
    two = world(objects=[obj(50.0, 25.0), obj(80.0, 25.0)])
    assert check_inputs(env, two, action(IDLE), CycleState(NOW)).ok
    three = world(objects=[obj(50.0, 25.0), obj(80.0, 25.0), obj(110.0, 25.0)])
    result = check_inputs(env, three, action(IDLE), CycleState(NOW))
    assert not result.ok
    assert "3 objects, more than the envelope's 2" in result.detail


def test_a_discrete_proposal_needs_an_action_table_in_the_envelope() -> None:
    result = check_inputs(envelope(actions=None), world(), action(IDLE), CycleState(NOW))
    assert not result.ok
    assert "not in the envelope's action table" in result.detail


# --- 2. plausibility -------------------------------------------------------------------------
# The example envelope: speeds up to 70 m/s, accelerations up to 12 m/s², objects within 300 m,
# a speed mismatch of 3 m/s.


def plausibility(world_: WorldState, state: CycleState | None = None) -> RuleResult:
    return check_plausibility(ENV, world_, action(IDLE), state or CycleState(NOW))


@pytest.mark.parametrize(
    ("at_limit", "beyond", "named"),
    [
        (world(speed=70.0, poses=False), world(speed=70.5, poses=False), "ego speed"),
        (world(accel=-12.0, poses=False), world(accel=-12.5, poses=False), "ego acceleration"),
        (
            world(objects=[obj(300.0, 25.0)], poses=False),
            world(objects=[obj(10.0, 25.0, d=-300.5)], poses=False),
            "object distance",
        ),
        (
            world(objects=[obj(-300.0, 25.0)], poses=False),
            world(objects=[obj(300.5, 25.0)], poses=False),
            "object distance",
        ),
        (
            world(objects=[obj(50.0, -70.0)], poses=False),
            world(objects=[obj(50.0, 20.0, v_lat=70.5)], poses=False),
            "object speed",
        ),
    ],
)
def test_a_reading_at_its_plausibility_limit_passes_beyond_it_is_vetoed(
    at_limit: WorldState, beyond: WorldState, named: str
) -> None:
    assert plausibility(at_limit) == RuleResult("plausibility", True, 0.0)
    result = plausibility(beyond)
    assert not result.ok
    assert result.margin < 0
    assert result.detail.startswith(named)


def test_a_negative_ego_speed_is_implausible() -> None:
    result = plausibility(world(speed=-0.5, poses=False))
    assert not result.ok
    assert result.margin == -math.inf


def test_the_speed_may_change_by_max_accel_times_dt_plus_the_mismatch_allowance() -> None:
    state = CycleState(NOW)
    state.prev_t, state.prev_speed = 9.75, 25.0  # allowed: 12 m/s² · 0.25 s + 3 m/s = 6 m/s
    assert plausibility(world(speed=31.0, poses=False), state) == RuleResult(
        "plausibility", True, 0.0
    )
    assert plausibility(world(speed=19.0, poses=False), state).ok
    result = plausibility(world(speed=31.5, poses=False), state)
    assert not result.ok
    assert result.detail.startswith("speed change")


def test_the_first_cycle_has_no_speed_change_to_judge() -> None:
    assert plausibility(world(speed=65.0, poses=False), CycleState(NOW)).ok


@pytest.mark.parametrize(
    ("speed", "ok"), [(23.0, True), (17.0, True), (23.5, False), (16.5, False)]
)
def test_the_speed_derived_from_the_pose_history_must_match_the_reported_speed(
    speed: float, ok: bool
) -> None:
    moved_10_m_in_half_a_second = [[9.5, 90.0, 0.0], [9.75, 95.0, 0.0], [NOW, 100.0, 0.0]]
    result = plausibility(with_poses(world(speed=speed, poses=False), moved_10_m_in_half_a_second))
    assert result.ok is ok
    if not ok:
        assert result.detail.startswith("pose-derived speed")
    else:
        assert result.margin == 0.0


def test_the_pose_history_uses_distance_in_the_plane() -> None:
    diagonal = [[9.5, 100.0, 0.0], [NOW, 103.0, 4.0]]  # 5 m in 0.5 s: 10 m/s
    at_mismatch = plausibility(with_poses(world(speed=13.0, poses=False), diagonal))
    assert at_mismatch == RuleResult("plausibility", True, 0.0)
    assert not plausibility(with_poses(world(speed=13.5, poses=False), diagonal)).ok


def test_a_pose_history_whose_time_does_not_increase_is_implausible() -> None:
    result = plausibility(with_poses(world(poses=False), [[NOW, 95.0, 0.0], [NOW, 100.0, 0.0]]))
    assert not result.ok
    assert "timestamps must increase" in result.detail


def test_the_plausibility_margin_is_the_fraction_of_the_tightest_limit_left() -> None:
    busy = world(speed=35.0, accel=3.0, objects=[obj(150.0, 14.0)], poses=False)
    assert plausibility(busy) == RuleResult("plausibility", True, 0.5)  # 35 of 70, 150 of 300


# --- 3. confidence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "ok", "margin"),
    [(0.4, True, 0.0), (1.0, True, 0.6), (0.375, False, 0.375 - 0.4), (0.0, False, -0.4)],
)
def test_confidence_must_reach_the_threshold(confidence: float, ok: bool, margin: float) -> None:
    result = judge(check_confidence, world(), action(IDLE, confidence=confidence))
    assert result.ok is ok
    assert result.margin == pytest.approx(margin)
    if not ok:
        assert "below 0.400" in result.detail


# --- 4. ODD ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "says"),
    [
        ({"road_type": "urban"}, "road type 'urban'"),
        ({"weather": "snow"}, "weather 'snow'"),
        ({"time_of_day": "dusk"}, "time of day 'dusk'"),
    ],
)
def test_a_context_outside_the_odd_is_vetoed(context: dict[str, str], says: str) -> None:
    result = judge(check_odd, world(**context), action(IDLE))  # type: ignore[arg-type]
    assert not result.ok
    assert result.margin == -math.inf
    assert says in result.detail


@pytest.mark.parametrize(
    ("x", "y", "ok", "margin"),
    [
        (100.0, 0.0, True, 50.0),
        (100.0, 49.0, True, 1.0),
        (100.0, 50.0, True, 0.0),  # on the fence
        (100.0, 50.5, False, -0.5),
        (-100.25, 0.0, False, -0.25),
        (4999.75, -49.5, True, 0.25),
    ],
)
def test_the_ego_must_be_inside_the_geofence(x: float, y: float, ok: bool, margin: float) -> None:
    result = judge(check_odd, world(x=x, y=y), action(IDLE))
    assert result.ok is ok
    assert result.margin == pytest.approx(margin, abs=1e-12)


SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
L_SHAPE = ((0.0, 0.0), (10.0, 0.0), (10.0, 4.0), (4.0, 4.0), (4.0, 10.0), (0.0, 10.0))


@pytest.mark.parametrize(
    ("polygons", "point", "margin"),
    [
        ((SQUARE,), (5.0, 5.0), 5.0),
        ((SQUARE,), (1.0, 5.0), 1.0),
        ((SQUARE,), (-1.0, 5.0), -1.0),
        ((SQUARE,), (13.0, 14.0), -5.0),  # outside a corner: the distance to the vertex
        ((SQUARE[::-1],), (5.0, 9.0), 1.0),  # winding does not matter
        ((L_SHAPE,), (2.0, 8.0), 2.0),
        ((L_SHAPE,), (7.0, 7.0), -3.0),  # in the notch of a concave fence
        ((L_SHAPE,), (5.0, 2.0), 2.0),
        ((SQUARE, ((20.0, 0.0), (30.0, 0.0), (30.0, 10.0))), (26.0, 2.0), 2.0),
        ((SQUARE, ((20.0, 0.0), (30.0, 0.0), (30.0, 10.0))), (15.0, 5.0), -5.0),
    ],
)
def test_geofence_margin_is_the_signed_distance_to_the_nearest_fence(
    polygons: tuple[tuple[tuple[float, float], ...], ...],
    point: tuple[float, float],
    margin: float,
) -> None:
    assert Geofence(polygons).margin(*point) == pytest.approx(margin)


# --- 5. speed cap ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("speed_limit", "mode", "cap"),
    [
        (22.0, Mode.NORMAL, 22.0),  # legal limit
        (35.0, Mode.NORMAL, 30.0),  # ODD limit
        (30.0, Mode.REDUCED, 20.0),  # mode cap
        (30.0, Mode.SUPERVISED, 12.0),
        (10.0, Mode.REDUCED, 10.0),
        (30.0, Mode.FAIL_CLOSED, 0.0),
    ],
)
def test_the_speed_cap_is_the_least_of_legal_odd_and_mode_limits(
    speed_limit: float, mode: Mode, cap: float
) -> None:
    ego = world(speed=0.0, speed_limit=speed_limit)
    at_tolerance = judge(check_speed_cap, ego, steady(cap + 0.5), mode=mode)
    assert at_tolerance == RuleResult("speed_cap", True, -0.5)
    over = judge(check_speed_cap, ego, steady(cap + 0.5 + TINY), mode=mode)
    assert not over.ok
    assert over.margin == -0.5 - TINY
    assert f"cap {cap:.1f} m/s" in over.detail


@pytest.mark.parametrize(("speed", "ok"), [(27.0, True), (27.5, True), (27.5 + TINY, False)])
def test_a_faster_action_may_reach_the_cap_plus_tolerance(speed: float, ok: bool) -> None:
    assert judge(check_speed_cap, world(speed=speed), action(FASTER)).ok is ok


def test_slowing_down_above_the_cap_passes() -> None:
    fast = world(speed=28.0)
    result = judge(check_speed_cap, fast, action(SLOWER), mode=Mode.REDUCED)
    assert result.ok
    assert result.margin == -8.0
    assert result.detail == "slowing towards the cap"
    slowing = path([[0.5, 13.5, 0.0, 26.0], [1.0, 26.5, 0.0, 25.0], [2.0, 50.0, 0.0, 22.0]])
    assert judge(check_speed_cap, fast, slowing, mode=Mode.REDUCED).ok


def test_holding_a_speed_above_the_cap_is_vetoed() -> None:
    result = judge(check_speed_cap, world(speed=28.0), action(IDLE), mode=Mode.REDUCED)
    assert not result.ok
    assert result.detail == "commands 28.0 m/s, cap 20.0 m/s"


def test_speeding_up_before_slowing_down_above_the_cap_is_vetoed() -> None:
    surge = path([[0.5, 14.0, 0.0, 28.5 + TINY], [1.0, 28.0, 0.0, 26.0], [2.0, 50.0, 0.0, 22.0]])
    assert not judge(check_speed_cap, world(speed=28.0), surge, mode=Mode.REDUCED).ok
    within = path([[0.5, 14.0, 0.0, 28.5], [1.0, 28.0, 0.0, 26.0], [2.0, 50.0, 0.0, 22.0]])
    assert judge(check_speed_cap, world(speed=28.0), within, mode=Mode.REDUCED).ok


def test_the_same_proposal_passes_in_normal_and_is_vetoed_in_reduced_mode() -> None:
    cruising = world(speed=25.0)
    assert judge(check_speed_cap, cruising, action(IDLE), mode=Mode.NORMAL).ok
    assert not judge(check_speed_cap, cruising, action(IDLE), mode=Mode.REDUCED).ok


# --- 6. kinematics ---------------------------------------------------------------------------
# The example envelope: accel 3, decel 8, lateral accel 3 m/s², jerk 15 m/s³, curvature 0.2/m,
# steering rate 0.7 rad/s, wheelbase 2.8 m. Trajectories start at t = 0 (the ego's state now).


def straight(v: Sequence[float], dt: float) -> Proposal:
    x, rows = 0.0, []
    for i, speed in enumerate(v):
        if i:
            x += (v[i - 1] + speed) * 0.5 * dt
        rows.append([i * dt, x, 0.0, speed])
    return path(rows)


def turning(turns: Sequence[float], segment: float, v: float) -> Proposal:
    """A path of equal segments; ``turns[i]`` is the heading change after segment ``i``."""
    heading, x, y = 0.0, 0.0, 0.0
    rows = [[0.0, 0.0, 0.0, v]]
    for i, turn in enumerate((0.0, *turns)):
        heading += turn
        x, y = x + segment * math.cos(heading), y + segment * math.sin(heading)
        rows.append([(i + 1) * segment / v, x, y, v])
    return path(rows)


def kinematics(proposal: Proposal, speed: float | None = None) -> RuleResult:
    assert proposal.trajectory is not None
    first = float(proposal.trajectory.v[0]) if speed is None else speed
    return judge(check_kinematics, world(speed=first, poses=False), proposal)


@pytest.mark.parametrize(
    ("at_limit", "beyond", "named"),
    [
        (straight([10.0, 11.5, 13.0], 0.5), straight([10.0, 11.75, 13.5], 0.5), "acceleration"),
        (straight([20.0, 16.0, 12.0], 0.5), straight([20.0, 15.75, 11.5], 0.5), "deceleration"),
        (straight([20.0, 20.0, 19.0625], 0.25), straight([20.0, 20.0, 19.0], 0.25), "jerk"),
    ],
)
def test_a_longitudinal_limit_reached_passes_exceeded_is_vetoed(
    at_limit: Proposal, beyond: Proposal, named: str
) -> None:
    assert kinematics(at_limit) == RuleResult("kinematics", True, 0.0)
    result = kinematics(beyond)
    assert not result.ok
    assert result.margin < 0
    assert result.detail.startswith(named)


EDGE = 1e-6  # trigonometry is not exact: "at the limit" means within a millionth of it


@pytest.mark.parametrize(("scale", "ok"), [(1 - EDGE, True), (1 + EDGE, False)])
def test_curvature_around_its_limit(scale: float, ok: bool) -> None:
    result = kinematics(turning([0.2 * scale], segment=1.0, v=2.0))  # κ = turn / segment
    assert result.ok is ok
    assert result.margin == pytest.approx(0.0, abs=1e-5)
    if not ok:
        assert result.detail.startswith("curvature")


@pytest.mark.parametrize(("scale", "ok"), [(1 - EDGE, True), (1 + EDGE, False)])
def test_lateral_acceleration_around_its_limit(scale: float, ok: bool) -> None:
    v = math.sqrt(3.0 / 0.1 * scale)  # v² κ = 3 m/s² on a 0.1/m curve
    result = kinematics(turning([0.1], segment=1.0, v=v))
    assert result.ok is ok
    assert result.margin == pytest.approx(0.0, abs=1e-5)
    if not ok:
        assert result.detail.startswith("lateral acceleration")


@pytest.mark.parametrize(("scale", "ok"), [(1 - EDGE, True), (1 + EDGE, False)])
def test_steering_rate_around_its_limit(scale: float, ok: bool) -> None:
    # Straight, then a turn: the steering angle atan(L κ) appears within one 0.5 s segment.
    dt = 0.5
    turn = math.tan(0.7 * scale * dt) / 2.8  # segment 1 m, so κ = turn
    result = kinematics(turning([0.0, turn], segment=1.0, v=1.0 / dt))
    assert result.ok is ok
    assert result.margin == pytest.approx(0.0, abs=1e-5)
    if not ok:
        assert result.detail.startswith("steering rate")


def test_a_discrete_action_has_no_kinematic_limit_to_break() -> None:
    assert judge(check_kinematics, world(), action(FASTER)) == RuleResult(
        "kinematics", True, math.inf
    )


def test_a_trajectory_starting_later_is_joined_to_the_current_speed() -> None:
    later = path([[0.5, 6.0, 0.0, 12.0], [1.0, 12.0, 0.0, 12.0], [1.5, 18.0, 0.0, 12.0]])
    assert kinematics(later, speed=11.0).ok  # 1 m/s in 0.5 s
    result = kinematics(later, speed=10.0)  # 2 m/s in 0.5 s: 4 m/s²
    assert not result.ok
    assert result.detail == "acceleration 4 exceeds 3"


def test_the_kinematics_margin_is_the_fraction_of_the_tightest_limit_left() -> None:
    result = kinematics(straight([10.0, 10.75, 11.5], 0.5))  # 1.5 m/s² of 3
    assert result == RuleResult("kinematics", True, 0.5)


def test_stopping_on_a_slanted_path_is_not_a_turn() -> None:
    slant = [[1.0, 1.0, 0.125, 1.0], [2.0, 1.5, 0.1875, 0.0], [3.0, 1.5, 0.1875, 0.0]]
    assert kinematics(path([[0.0, 0.0, 0.0, 2.0], *slant])) == RuleResult("kinematics", True, 0.875)


def test_moving_off_along_a_slanted_path_is_not_a_turn() -> None:
    rows = [[0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [2.0, 0.5, 0.0625, 1.0]]
    assert kinematics(path([*rows, [3.0, 1.5, 0.1875, 1.0]])).ok


def test_a_change_of_heading_across_a_stop_is_still_a_turn() -> None:
    kink = [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [2.0, 1.0, 0.0, 0.0], [3.0, 1.0, 1.0, 1.0]]
    result = kinematics(path(kink))
    assert not result.ok
    assert result.detail.startswith("curvature")


# --- 7. RSS ----------------------------------------------------------------------------------
# Vehicles are 5 m long: a lead vehicle's centre is its bumper-to-bumper gap + 5 m ahead.


def lead_at(gap: float, v_lead: float, *, speed: float = 20.0) -> WorldState:
    return world(speed=speed, objects=[obj(gap + 5.0, v_lead)])


def test_a_lead_vehicle_exactly_at_the_rss_distance_passes() -> None:
    gap = rss_safe_gap(ENV, 20.0, 10.0)
    assert gap == 84.53125
    result = judge(check_rss, lead_at(gap, 10.0), action(IDLE))
    assert result == RuleResult("rss", True, 0.0)


def test_a_lead_inside_the_rss_distance_is_vetoed_unless_braking() -> None:
    inside = lead_at(rss_safe_gap(ENV, 20.0, 10.0) - 0.01, 10.0)
    result = judge(check_rss, inside, action(IDLE))
    assert not result.ok
    assert result.margin == pytest.approx(-0.01)
    assert "does not brake" in result.detail
    braking = judge(check_rss, inside, action(SLOWER))
    assert braking.ok
    assert braking.detail == "proper response"


def test_a_trajectory_braking_at_brake_min_is_the_proper_response_a_gentle_one_is_not() -> None:
    inside = lead_at(rss_safe_gap(ENV, 20.0, 10.0) - 0.01, 10.0)
    firm = path([[0.5, 9.5, 0.0, 18.0], [1.0, 18.0, 0.0, 16.0], [2.0, 30.0, 0.0, 12.0]])
    gentle = path([[0.5, 9.5, 0.0, 18.25], [1.0, 18.0, 0.0, 16.25], [2.0, 30.0, 0.0, 12.0]])
    assert judge(check_rss, inside, firm).detail == "proper response"
    assert not judge(check_rss, inside, gentle).ok


def test_speeding_up_needs_the_rss_distance_of_the_higher_speed() -> None:
    at_distance = lead_at(rss_safe_gap(ENV, 20.0, 10.0), 10.0)
    assert not judge(check_rss, at_distance, action(FASTER)).ok
    assert judge(check_rss, lead_at(rss_safe_gap(ENV, 23.0, 10.0), 10.0), action(FASTER)).ok


def test_a_lead_vehicle_reversing_is_no_safer_than_a_stopped_one() -> None:
    gap = rss_safe_gap(ENV, 20.0, 3.0)
    assert judge(check_rss, lead_at(gap, 3.0), action(IDLE)).ok
    assert not judge(check_rss, lead_at(gap, -3.0), action(IDLE)).ok


ALONGSIDE_LEFT = world(objects=[obj(0.0, 25.0, d=4.0, lane=1)])
ALONGSIDE_RIGHT = world(objects=[obj(-1.0, 25.0, d=-4.0, lane=-1)])


def test_a_lane_change_towards_a_car_alongside_is_vetoed() -> None:
    result = judge(check_rss, ALONGSIDE_LEFT, action(LANE_LEFT))
    assert not result.ok
    assert "lateral move towards the object at s=0.0 m, d=4.0 m" in result.detail
    assert not judge(check_rss, ALONGSIDE_RIGHT, action(LANE_RIGHT)).ok


def test_keeping_the_lane_or_moving_away_from_a_car_alongside_passes() -> None:
    for proposal in (action(IDLE), action(LANE_RIGHT), action(SLOWER)):
        assert judge(check_rss, ALONGSIDE_LEFT, proposal).ok
    assert judge(check_rss, ALONGSIDE_RIGHT, action(LANE_LEFT)).ok


def test_a_trajectory_drifting_towards_a_car_alongside_is_vetoed() -> None:
    assert not judge(check_rss, ALONGSIDE_LEFT, steady(25.0, lateral=2.0)).ok
    assert judge(check_rss, ALONGSIDE_LEFT, steady(25.0, lateral=-2.0)).ok


def test_braking_does_not_excuse_moving_towards_a_car_alongside() -> None:
    # Braking hard while swerving left: still a lateral move towards the car.
    swerve = path([[0.5, 11.0, 0.5, 19.0], [1.0, 20.0, 1.0, 17.0], [2.0, 33.0, 2.5, 13.0]])
    assert not judge(check_rss, world(speed=21.0, objects=[obj(0.0, 21.0, d=4.0)]), swerve).ok


def test_a_car_in_the_next_lane_close_ahead_is_laterally_clear() -> None:
    next_lane = world(objects=[obj(12.0, 15.0, d=4.0, lane=1)])
    result = judge(check_rss, next_lane, action(IDLE))
    assert result.ok
    assert result.detail == ""


def test_a_tailgater_inside_its_safe_distance_does_not_veto_keeping_the_lane() -> None:
    result = judge(check_rss, world(objects=[obj(-10.0, 25.0)]), action(IDLE))
    assert result.ok
    assert result.margin < 0
    assert result.detail == "proper response"


def test_an_oncoming_vehicle_in_our_lane_needs_the_opposite_direction_distance() -> None:
    p = ENV.rss
    distance = longitudinal_opposite_direction(
        20.0,
        10.0,
        response_time_correct=p.response_time_ego,
        response_time_opposite=p.response_time_other,
        accel_max=p.accel_max,
        brake_min_correct=p.brake_min_correct,
        brake_min=p.brake_min,
    )

    def oncoming(gap: float) -> WorldState:
        return world(speed=20.0, objects=[obj(gap + 5.0, -10.0, oncoming=True)])

    assert judge(check_rss, oncoming(distance + 0.01), action(IDLE)).ok
    assert not judge(check_rss, oncoming(distance - 0.01), action(IDLE)).ok
    assert judge(check_rss, oncoming(distance - 0.01), action(SLOWER)).ok


def test_the_rss_margin_is_the_tightest_objects_clearance() -> None:
    near = rss_safe_gap(ENV, 20.0, 10.0) + 1.0
    scene = world(speed=20.0, objects=[obj(near + 5.0, 10.0), obj(near + 25.0, 10.0)])
    assert judge(check_rss, scene, action(IDLE)).margin == pytest.approx(1.0)
    assert judge(check_rss, world(speed=20.0), action(IDLE)).margin == math.inf


# --- 8. time to collision --------------------------------------------------------------------
# The example floor: 2 s. Gap = s - 2.5 - 2.5 for two 5 m vehicles.


@pytest.mark.parametrize(
    ("s", "ok", "margin"), [(25.0, True, 0.0), (26.0, True, 0.1), (24.875, False, -0.0125)]
)
def test_time_to_collision_at_and_around_the_floor(s: float, ok: bool, margin: float) -> None:
    closing_at_10 = world(speed=20.0, objects=[obj(s, 10.0)])
    result = judge(check_ttc, closing_at_10, action(IDLE))
    assert result.ok is ok
    assert result.margin == pytest.approx(margin)
    if not ok:
        assert result.detail == "time to collision 1.99 s below 2.00 s"


def test_braking_under_the_ttc_floor_is_the_proper_response() -> None:
    result = judge(check_ttc, world(speed=20.0, objects=[obj(20.0, 10.0)]), action(SLOWER))
    assert result.ok
    assert result.detail == "proper response"


def test_ttc_uses_the_highest_speed_the_proposal_reaches() -> None:
    assert not judge(check_ttc, world(speed=20.0, objects=[obj(25.0, 10.0)]), action(FASTER)).ok


def test_ttc_counts_the_ego_lane_and_the_target_lane_only() -> None:
    left = world(speed=20.0, objects=[obj(20.0, 10.0, d=4.0, lane=1)])
    assert judge(check_ttc, left, action(IDLE)).margin == math.inf
    assert judge(check_ttc, left, action(LANE_RIGHT)).margin == math.inf
    assert not judge(check_ttc, left, action(LANE_LEFT)).ok


def test_objects_behind_or_pulling_away_have_no_time_to_collision() -> None:
    scene = world(speed=20.0, objects=[obj(-8.0, 30.0), obj(10.0, 20.0), obj(30.0, 25.0)])
    assert judge(check_ttc, scene, action(IDLE)) == RuleResult("ttc", True, math.inf)


def test_an_oncoming_vehicle_closes_at_the_sum_of_the_speeds() -> None:
    for v_lon in (-10.0, 10.0):  # its speed along the road, either sign
        scene = world(speed=20.0, objects=[obj(65.0, v_lon, oncoming=True)])
        assert judge(check_ttc, scene, action(IDLE)).margin == 0.0  # 60 m at 30 m/s


def test_an_overlapping_vehicle_ahead_has_zero_time_to_collision() -> None:
    result = judge(check_ttc, world(speed=20.0, objects=[obj(3.0, 10.0)]), action(IDLE))
    assert result.margin == -2.0


# --- 9. watchdog -----------------------------------------------------------------------------
# The example heartbeat timeout: 0.5 s.


def watchdog(proposal: Proposal | None, *, heartbeat: float, now: float = NOW) -> RuleResult:
    state = CycleState(now)
    state.heartbeat = heartbeat
    return check_watchdog(ENV, world(), proposal, state)  # type: ignore[arg-type]


def test_a_heartbeat_exactly_timeout_old_passes_older_is_vetoed() -> None:
    assert watchdog(None, heartbeat=9.5) == RuleResult("watchdog", True, 0.0)
    result = watchdog(None, heartbeat=9.5 - TINY)
    assert not result.ok
    assert result.margin == -TINY
    assert result.detail == "model heartbeat missed"


def test_a_proposal_is_a_heartbeat() -> None:
    assert watchdog(action(IDLE, t=9.75), heartbeat=-math.inf).margin == 0.25
    assert watchdog(action(IDLE, t=9.0), heartbeat=9.75).margin == 0.25


def test_an_engaged_kill_switch_is_a_watchdog_veto() -> None:
    state = CycleState(NOW)
    state.heartbeat = NOW
    state.kill_reason = "operator pressed stop"
    result = check_watchdog(ENV, world(), action(IDLE), state)
    assert not result.ok
    assert result.margin == -math.inf
    assert result.detail == "kill switch: operator pressed stop"


# --- what a proposal intends -----------------------------------------------------------------


def test_discrete_actions_mean_what_the_envelope_table_says() -> None:
    cruising = world(speed=25.0)
    assert intent_of(ENV, cruising, action(IDLE)) == Intent(25.0, 25.0, 0, 0.0, False, False)
    assert intent_of(ENV, cruising, action(FASTER)) == Intent(28.0, 25.0, 0, 0.0, False, False)
    assert intent_of(ENV, cruising, action(SLOWER)) == Intent(25.0, 22.0, 0, 0.0, True, True)
    assert intent_of(ENV, cruising, action(LANE_LEFT)) == Intent(25.0, 25.0, 1, 1.0, False, False)
    assert intent_of(ENV, cruising, action(LANE_RIGHT)).lateral_speed == -1.0


def test_slower_at_standstill_stays_at_zero() -> None:
    assert intent_of(ENV, world(speed=1.0), action(SLOWER)).v_min == 0.0


@pytest.mark.parametrize(("v_at_1s", "braking"), [(16.0, True), (15.0, True), (16.125, False)])
def test_a_trajectory_brakes_when_it_sheds_brake_min_in_its_first_second(
    v_at_1s: float, braking: bool
) -> None:
    proposal = path([[0.5, 9.5, 0.0, 18.0], [1.0, 18.0, 0.0, v_at_1s], [2.0, 30.0, 0.0, 10.0]])
    assert intent_of(ENV, world(speed=20.0), proposal).braking is braking


@pytest.mark.parametrize(("y_end", "lane_change"), [(2.25, 1), (-2.25, -1), (1.75, 0)])
def test_a_trajectory_changes_lane_when_it_ends_beyond_half_a_lane(
    y_end: float, lane_change: int
) -> None:
    proposal = steady(25.0, lateral=y_end)
    assert intent_of(ENV, world(), proposal).lane_change == lane_change


def test_a_coarse_trajectory_is_judged_from_the_speed_the_ego_has_now() -> None:
    # Waypoints every 2 s, shedding 2 m/s²: a comfortable stop, not the proper response.
    gentle = path([[2.0, 36.0, 0.0, 16.0], [4.0, 64.0, 0.0, 12.0], [6.0, 84.0, 0.0, 8.0]])
    assert not intent_of(ENV, world(speed=20.0), gentle).braking
    firm = path([[2.0, 32.0, 0.0, 12.0], [4.0, 48.0, 0.0, 4.0], [6.0, 52.0, 0.0, 0.0]])
    assert intent_of(ENV, world(speed=20.0), firm).braking  # 4 m/s²
    drifting = path([[2.0, 40.0, 0.5, 20.0], [4.0, 80.0, 1.0, 20.0], [6.0, 120.0, 1.5, 20.0]])
    assert intent_of(ENV, world(speed=20.0), drifting).lateral_speed == 0.25
