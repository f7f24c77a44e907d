"""The nine rules of the runtime gate. Each returns a :class:`RuleResult`: verdict, margin, id.

Margins are positive inside the envelope and negative outside, in the rule's own unit:

================  =====================================================================
input_integrity   seconds of staleness budget left (``-inf`` for a schema fault)
plausibility      fraction of the tightest range/rate limit left (1 = far from it)
confidence        confidence above the threshold
odd               metres inside the geofence (``-inf`` for a wrong road/weather/time)
speed_cap         m/s below the cap
kinematics        fraction of the tightest kinematic limit left (``inf`` for an action)
rss               metres by which the tightest object clears *either* safe distance
ttc               seconds above the time-to-collision floor (``inf`` if nothing closes)
watchdog          seconds of heartbeat budget left (``-inf`` while the kill switch is on)
================  =====================================================================

RSS and TTC judge the proposal, not just the scene: inside an unsafe distance the *proper
response* (braking, and no lateral move towards the object) passes, everything else is vetoed.

    >>> from modelsteward.runtime.envelope import Envelope, example_envelope
    >>> from modelsteward.runtime.world import Proposal, WorldState, example_proposal, example_world
    >>> env = Envelope.from_dict(example_envelope())
    >>> world = WorldState.from_dict(example_world())
    >>> proposal = Proposal.from_dict(example_proposal())
    >>> intent = intent_of(env, world, proposal)
    >>> check_confidence(env, world, proposal, intent, CycleState(now=10.0))
    RuleResult(rule='confidence', ok=True, margin=0.5, detail='')
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rss import RssParameters, lateral, longitudinal_opposite_direction
from modelsteward.runtime.world import (
    Proposal,
    Trajectory,
    WorldState,
)

__all__ = [
    "PROPOSAL_RULES",
    "RULES",
    "CycleState",
    "Intent",
    "RuleResult",
    "check_confidence",
    "check_inputs",
    "check_kinematics",
    "check_odd",
    "check_plausibility",
    "check_rss",
    "check_speed_cap",
    "check_ttc",
    "check_watchdog",
    "intent_of",
]

_INF = math.inf


class RuleResult(NamedTuple):
    """One rule's verdict on one cycle."""

    rule: str
    ok: bool
    margin: float
    detail: str = ""


class Intent(NamedTuple):
    """What a proposal asks the vehicle to do, reduced to what the rules need."""

    v_max: float
    v_min: float
    lane_change: int
    lateral_speed: float
    braking: bool
    decelerating: bool


class CycleState:
    """The gate's memory between cycles that rules read: clocks, previous inputs, mode, kill."""

    __slots__ = (
        "heartbeat",
        "kill_reason",
        "mode",
        "now",
        "prev_proposal_t",
        "prev_speed",
        "prev_t",
        "rows",
        "rows_of",
    )

    def __init__(self, now: float, mode: Mode = Mode.NORMAL) -> None:
        self.now = now
        self.mode = mode
        self.prev_t = -_INF
        self.prev_speed = math.nan
        self.prev_proposal_t = -_INF
        self.heartbeat = -_INF
        self.kill_reason: str | None = None
        self.rows: list[list[float]] = []
        self.rows_of: object = None


def _fail(rule: str, margin: float, detail: str) -> RuleResult:
    return RuleResult(rule, False, margin, detail)


def intent_of(env: Envelope, world: WorldState, proposal: Proposal) -> Intent:
    """Reduce a (well-formed) proposal to speeds, lane change, lateral speed and braking."""
    speed = world.ego.speed
    if proposal.trajectory is None:
        assert env.actions is not None
        assert proposal.action is not None
        action = env.actions.actions[proposal.action]
        target = max(0.0, speed + action.speed_delta)
        braking = action.speed_delta < 0.0 and action.lane_change == 0
        return Intent(
            max(speed, target),
            min(speed, target),
            action.lane_change,
            action.lane_change * env.actions.lateral_speed,
            braking,
            target < speed,
        )
    return _trajectory_intent(env, world, proposal.trajectory)


def _trajectory_intent(env: Envelope, world: WorldState, path: Trajectory) -> Intent:
    speed = world.ego.speed
    v = path.v
    window = min(1.0, float(path.t[-1]))
    first = float(path.t[0])
    if window < first:  # no waypoint inside the window: the path runs from the ego's state now
        share = window / first
        v_window = speed + (float(v[0]) - speed) * share
        y_window = float(path.y[0]) * share
    else:
        v_window = float(np.interp(window, path.t, v)) if window > 0 else float(v[0])
        y_window = float(np.interp(window, path.t, path.y)) if window > 0 else 0.0
    decel = (speed - v_window) / window if window > 0 else 0.0
    lateral = y_window / window if window > 0 else 0.0
    half_lane = world.context.lane_width * 0.5
    lane_change = int(math.copysign(1, path.y[-1])) if abs(path.y[-1]) > half_lane else 0
    return Intent(
        max(speed, float(v.max())),
        min(speed, float(v.min())),
        lane_change,
        lateral,
        decel >= env.rss.brake_min and abs(lateral) < 0.2,
        float(v[-1]) < speed,
    )


def check_inputs(
    env: Envelope, world: WorldState, proposal: Proposal | None, state: CycleState
) -> RuleResult:
    """Rule 1: schema, NaN/Inf, monotonic timestamps, staleness."""
    fault = _schema_fault(env, world, proposal, state)
    if fault:
        return _fail("input_integrity", -_INF, fault)
    assert proposal is not None
    now = state.now
    if world.t <= state.prev_t:
        return _fail("input_integrity", -_INF, f"world timestamp {world.t} did not advance")
    if proposal.t < state.prev_proposal_t:
        return _fail("input_integrity", -_INF, f"proposal timestamp {proposal.t} went back")
    if world.t > now + 1e-3 or proposal.t > now + 1e-3:
        return _fail("input_integrity", -_INF, "timestamp from the future (clock fault)")
    margin = env.max_input_age - (now - min(world.t, proposal.t))
    if margin < 0:
        return _fail("input_integrity", margin, f"input {-margin + env.max_input_age:.3f} s old")
    return RuleResult("input_integrity", True, margin)


def _schema_fault(env: Envelope, world: object, proposal: object, state: CycleState) -> str:
    if not isinstance(world, WorldState):
        return "world is not a WorldState"
    ego, context, data = world.ego, world.context, world.objects.data
    total = world.t + ego.x + ego.y + ego.heading + ego.speed + ego.accel
    if not math.isfinite(total + context.speed_limit + context.lane_width):
        return "world has a NaN or infinite value"
    if data.ndim != 2 or data.shape[1] != 8:
        return f"objects must be an (n, 8) array, found shape {data.shape}"
    if data.shape[0] > env.max_objects:
        return f"{data.shape[0]} objects, more than the envelope's {env.max_objects}"
    poses = world.poses
    if poses is not None and (
        poses.ndim != 2
        or poses.shape[1] != 3
        or not math.isfinite(sum(map(sum, poses.tolist())))  # cheaper than numpy's sum
    ):  # plausibility reads them; a NaN would slip through its comparisons
        return "pose history must be finite (t, x, y) rows"
    # One sum: NaN and ±inf propagate (an overflow to inf is implausible input anyway).
    if data.shape[0] and not math.isfinite(sum(map(sum, _rows(world, state)))):
        return "an object has a NaN or infinite value"
    if proposal is None:
        return "no proposal this cycle"
    if not isinstance(proposal, Proposal):
        return "proposal is not a Proposal"
    if not (0.0 <= proposal.confidence <= 1.0) or not math.isfinite(proposal.t):
        return "proposal confidence must lie in [0, 1] and its time be finite"
    if (proposal.action is None) == (proposal.trajectory is None):
        return "a proposal carries exactly one of action and trajectory"
    if proposal.trajectory is None:
        if env.actions is None or proposal.action not in env.actions.actions:
            return f"action {proposal.action!r} is not in the envelope's action table"
        return ""
    return _trajectory_fault(proposal.trajectory)


def _trajectory_fault(path: Trajectory) -> str:
    t = path.t
    if not (t.ndim == 1 and t.shape == path.x.shape == path.y.shape == path.v.shape):
        return "trajectory arrays must be 1-D and of equal length"
    if t.shape[0] < 3:
        return "a trajectory needs at least 3 waypoints"
    stacked = np.stack((t, path.x, path.y, path.v))
    if not np.isfinite(stacked).all():
        return "trajectory has a NaN or infinite value"
    if t[0] < 0 or not (np.diff(t) > 0).all():
        return "trajectory times must start at >= 0 and increase strictly"
    if path.v.min() < 0:
        return "trajectory speeds must be >= 0"
    return ""


def check_plausibility(
    env: Envelope, world: WorldState, proposal: Proposal | None, state: CycleState
) -> RuleResult:
    """Rule 2: range and rate limits; speed from the pose history against reported speed.

    The margin is the fraction of the tightest limit left: ``1 - value / limit``.
    """
    limits = env.plausibility
    ego = world.ego
    if ego.speed < 0:
        return _fail("plausibility", -_INF, f"ego speed {ego.speed:.3g} is negative")
    distance = speed = 0.0
    for s, d, v_lon, v_lat, *_ in _rows(world, state):  # comparisons: cheaper than max()
        far = s if s > d else d
        if -s > far:
            far = -s
        if -d > far:
            far = -d
        if far > distance:
            distance = far
        fast = v_lon if v_lon > v_lat else v_lat
        if -v_lon > fast:
            fast = -v_lon
        if -v_lat > fast:
            fast = -v_lat
        if fast > speed:
            speed = fast
    margin, name, value, limit = _tightest(
        ("ego speed", ego.speed, limits.max_speed),
        ("ego acceleration", abs(ego.accel), limits.max_accel),
        ("object distance", distance, limits.max_range),
        ("object speed", speed, limits.max_speed),
    )
    dt = world.t - state.prev_t
    if 0 < dt < _INF and state.prev_speed == state.prev_speed:
        change = abs(ego.speed - state.prev_speed)
        allowed = limits.max_accel * dt + limits.max_speed_mismatch
        if 1.0 - change / allowed < margin:
            margin, name, value, limit = 1.0 - change / allowed, "speed change", change, allowed
    poses = world.poses
    if poses is not None and poses.shape[0] >= 2:
        (t0, x0, y0), (t1, x1, y1) = poses[0].tolist(), poses[-1].tolist()
        if t1 <= t0:
            return _fail("plausibility", -_INF, "pose history timestamps must increase")
        mismatch = abs(math.hypot(x1 - x0, y1 - y0) / (t1 - t0) - ego.speed)
        if 1.0 - mismatch / limits.max_speed_mismatch < margin:
            margin, name, value = (
                1.0 - mismatch / limits.max_speed_mismatch,
                "pose-derived speed",
                mismatch,
            )
            limit = limits.max_speed_mismatch
    if margin < 0:
        return _fail("plausibility", margin, f"{name} {value:.3g} exceeds {limit:.3g}")
    return RuleResult("plausibility", True, margin)


def _tightest(*checks: tuple[str, float, float]) -> tuple[float, str, float, float]:
    """``(margin, name, value, limit)`` of the check with the least fraction of its limit left."""
    best = (_INF, "", 0.0, 1.0)
    for name, value, limit in checks:
        margin = 1.0 - value / limit
        if margin < best[0]:
            best = (margin, name, value, limit)
    return best


def check_confidence(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 3: the model's confidence must reach the envelope's threshold."""
    margin = proposal.confidence - env.min_confidence
    if margin < 0:
        return _fail(
            "confidence",
            margin,
            f"confidence {proposal.confidence:.3f} below {env.min_confidence:.3f}",
        )
    return RuleResult("confidence", True, margin)


def check_odd(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 4: inside the geofence, on an allowed road type, weather and time of day."""
    odd, context = env.odd, world.context
    for name, value, allowed in (
        ("road type", context.road_type, odd.road_types),
        ("weather", context.weather, odd.weather),
        ("time of day", context.time_of_day, odd.time_of_day),
    ):
        if value not in allowed:
            return _fail("odd", -_INF, f"{name} {value!r} is outside the ODD")
    margin = odd.geofence.margin(world.ego.x, world.ego.y)
    if margin < 0:
        return _fail("odd", margin, f"{-margin:.1f} m outside the geofence")
    return RuleResult("odd", True, margin)


def check_speed_cap(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 5: commanded speed ≤ min(legal limit, ODD limit, the mode's cap).

    Above the cap, a proposal that slows down is accepted: it converges on the cap.
    """
    cap = min(world.context.speed_limit, env.odd.max_speed, env.speed_caps[state.mode])
    margin = cap - intent.v_max
    if margin >= -env.speed_tolerance:
        return RuleResult("speed_cap", True, margin)
    if intent.decelerating and intent.v_max <= world.ego.speed + env.speed_tolerance:
        return RuleResult("speed_cap", True, margin, "slowing towards the cap")
    return _fail("speed_cap", margin, f"commands {intent.v_max:.1f} m/s, cap {cap:.1f} m/s")


def check_kinematics(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 6: acceleration, lateral acceleration, jerk, curvature, steering rate (trajectory)."""
    path = proposal.trajectory
    if path is None:
        return RuleResult("kinematics", True, _INF)
    k = env.kinematics
    t, x, y, v = path.t, path.x, path.y, path.v
    if t[0] > 1e-6:  # the trajectory starts from where the ego is now
        t, x, y, v = (
            np.concatenate(((start,), a))
            for start, a in ((0.0, t), (0.0, x), (0.0, y), (world.ego.speed, v))
        )
    dt = np.diff(t)
    accel = np.diff(v) / dt
    dt_mid = (dt[1:] + dt[:-1]) * 0.5
    jerk = np.diff(accel) / dt_mid
    dx, dy = np.diff(x), np.diff(y)
    ds = np.hypot(dx, dy)
    heading = np.arctan2(dy, dx)
    moving = ds > 1e-6
    if not moving.all():  # a standing segment has no heading: it keeps the one before (or after)
        index = np.where(moving, np.arange(ds.shape[0]), -1)
        np.maximum.accumulate(index, out=index)
        index[index < 0] = int(moving.argmax())
        heading = heading[index]
    turn = np.diff(heading)
    turn = (turn + math.pi) % (2 * math.pi) - math.pi
    ds_mid = (ds[1:] + ds[:-1]) * 0.5
    curvature = np.divide(turn, ds_mid, out=np.zeros_like(turn), where=ds_mid > 1e-6)
    steering = np.arctan(k.wheelbase * curvature)
    margin, name, value, limit = _tightest(
        ("acceleration", float(accel.max()), k.max_accel),
        ("deceleration", float(-accel.min()), k.max_decel),
        ("jerk", float(np.abs(jerk).max()), k.max_jerk),
        ("curvature", float(np.abs(curvature).max()), k.max_curvature),
        (
            "lateral acceleration",
            float((v[1:-1] ** 2 * np.abs(curvature)).max()),
            k.max_lateral_accel,
        ),
        (
            "steering rate",
            float(np.abs(np.diff(steering) / dt[1:-1]).max()) if steering.shape[0] > 1 else 0.0,
            k.max_steering_rate,
        ),
    )
    if margin < 0:
        return _fail("kinematics", margin, f"{name} {value:.3g} exceeds {limit:.3g}")
    return RuleResult("kinematics", True, margin)


def check_rss(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 7: RSS safe distances to every object, longitudinal and lateral.

    An object is dangerous when it is inside *both* its longitudinal and its lateral safe
    distance. Then the proposal must be a proper response: brake if the object is ahead, and not
    move laterally towards it. A plain loop: for the tens of objects around a vehicle it beats
    numpy's per-call overhead, and objects that cannot be the tightest skip the lateral formula.
    """
    p, length, width = env.rss, env.vehicle_length, env.vehicle_width
    v_max, v_min = intent.v_max, intent.v_min
    rho_ego, rho_other, accel = p.response_time_ego, p.response_time_other, p.accel_max
    two_b_min, two_b_max = 2.0 * p.brake_min, 2.0 * p.brake_max
    # The ego as the rear vehicle: its part of the same-direction formula is fixed this cycle.
    v_resp = v_max + accel * rho_ego
    ego_rear = (v_max + v_resp) * 0.5 * rho_ego + v_resp * v_resp / two_b_min
    ego_front = v_min * v_min / two_b_max
    # ad-rss counts lateral speed positive to the right; the world frame counts it to the left.
    ego_right = -intent.lateral_speed
    worst, worst_s, worst_d = _INF, 0.0, 0.0
    lateral_toward = ahead_danger = False
    for s, d, v_lon, v_lat, obj_length, obj_width, _lane, oncoming in _rows(world, state):
        v_obj = -v_lon if v_lon < 0 else v_lon
        if s <= 0:  # the object is behind: it is the rear vehicle
            v_resp = v_obj + accel * rho_other
            lon = (v_obj + v_resp) * 0.5 * rho_other + v_resp * v_resp / two_b_min - ego_front
        elif oncoming > 0.5:
            lon = _opposite(v_max, v_obj, p)
        elif v_lon > 0:
            lon = ego_rear - v_lon * v_lon / two_b_max
        else:  # a lead vehicle standing or reversing leaves no braking distance to share
            lon = ego_rear
        if lon < 0.0:
            lon = 0.0
        clearance = (s if s > 0 else -s) - (length + obj_length) * 0.5 - lon
        if clearance >= worst and clearance >= 0:
            continue  # cannot be the tightest, and is safe whatever its lateral clearance
        if d > 0:  # the object is on the left
            lat = _lateral(-v_lat, ego_right, p.response_time_other, p.response_time_ego, p)
        else:
            lat = _lateral(ego_right, -v_lat, p.response_time_ego, p.response_time_other, p)
        lateral_clearance = (d if d > 0 else -d) - (width + obj_width) * 0.5 - lat
        if lateral_clearance > clearance:
            clearance = lateral_clearance
        if clearance < 0:
            ahead_danger = ahead_danger or s > 0
            lateral_toward = lateral_toward or d * intent.lateral_speed > 0
        if clearance < worst:
            worst, worst_s, worst_d = clearance, s, d
    if worst >= 0:
        return RuleResult("rss", True, worst)
    if lateral_toward:
        return _fail(
            "rss",
            worst,
            f"lateral move towards the object at s={worst_s:.1f} m, "
            f"d={worst_d:.1f} m, inside its safe distance",
        )
    if ahead_danger and not intent.braking:
        return _fail(
            "rss",
            worst,
            f"object {worst_s:.1f} m ahead is {-worst:.1f} m inside "
            "the safe distance and the proposal does not brake",
        )
    return RuleResult("rss", True, worst, "proper response")


def _opposite(v_ego: float, v_obj: float, p: RssParameters) -> float:
    return longitudinal_opposite_direction(
        v_ego,
        v_obj,
        response_time_correct=p.response_time_ego,
        response_time_opposite=p.response_time_other,
        accel_max=p.accel_max,
        brake_min_correct=p.brake_min_correct,
        brake_min=p.brake_min,
    )


def _lateral(
    v_left: float, v_right: float, rho_left: float, rho_right: float, p: RssParameters
) -> float:
    return lateral(
        v_left,
        v_right,
        response_time_left=rho_left,
        response_time_right=rho_right,
        accel_max=p.lateral_accel_max,
        brake_min=p.lateral_brake_min,
        fluctuation_margin=p.lateral_fluctuation_margin,
    )


def check_ttc(
    env: Envelope, world: WorldState, proposal: Proposal, intent: Intent, state: CycleState
) -> RuleResult:
    """Rule 8: time to collision with objects ahead in the ego's and the target lane."""
    v_max, target, half = intent.v_max, intent.lane_change, env.vehicle_length * 0.5
    ttc = _INF
    for s, _d, v_lon, _v_lat, obj_length, _width, lane, oncoming in _rows(world, state):
        if s <= 0 or (lane != 0 and lane != target):
            continue
        closing = v_max + (-v_lon if v_lon < 0 else v_lon) if oncoming > 0.5 else v_max - v_lon
        if closing > 1e-9:
            gap = s - half - obj_length * 0.5
            time_to = (gap if gap > 0 else 0.0) / closing
            if time_to < ttc:
                ttc = time_to
    margin = ttc - env.ttc_min
    if margin >= 0:
        return RuleResult("ttc", True, margin)
    if intent.braking:
        return RuleResult("ttc", True, margin, "proper response")
    return _fail("ttc", margin, f"time to collision {ttc:.2f} s below {env.ttc_min:.2f} s")


def _rows(world: WorldState, state: CycleState) -> list[list[float]]:
    """The object rows as Python floats, converted once per world and shared by the rules."""
    if state.rows_of is not world:
        state.rows = world.objects.data.tolist()
        state.rows_of = world
    return state.rows


def check_watchdog(
    env: Envelope, world: WorldState, proposal: Proposal | None, state: CycleState
) -> RuleResult:
    """Rule 9: the kill switch is off and the model's heartbeat is fresh."""
    if state.kill_reason is not None:
        return _fail("watchdog", -_INF, f"kill switch: {state.kill_reason}")
    beat = state.heartbeat
    if isinstance(proposal, Proposal) and proposal.t > beat:
        beat = proposal.t
    margin = env.heartbeat_timeout - (state.now - beat)
    if margin < 0:
        return _fail("watchdog", margin, "model heartbeat missed")
    return RuleResult("watchdog", True, margin)


PROPOSAL_RULES = (check_speed_cap, check_kinematics, check_rss, check_ttc)
"""The rules that judge the proposal itself; the fallback ladder re-runs them on substitutes."""
RULES = (check_confidence, check_odd, *PROPOSAL_RULES)
"""The rules that need well-formed inputs, after input integrity and plausibility."""
