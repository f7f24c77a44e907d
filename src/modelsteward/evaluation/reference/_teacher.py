"""The honest teacher: a rule-based driver that reads the simulator state (not the observation).

Longitudinal (IDM-like): in each lane the teacher finds the vehicle ahead — counting vehicles
already entering the lane, so cut-ins and merges are seen early — and derives the speed that
keeps a 1.5 s time gap plus 6 m at standstill and can still stop behind that vehicle braking at
4 m/s². It picks the ``DiscreteMetaAction`` whose resulting target speed comes closest to that
speed from below.

What lies ahead the teacher takes only from the vehicles the policy's observation shows too (the
nine nearest, as highway-env's ``Kinematics`` picks them) — in exact simulator coordinates —
so that its labels are something the policy can learn; the safety check of the gap behind
before a lane change uses every vehicle.

Lateral (MOBIL-like): at most once a second, and never mid-change, it moves to an adjacent lane
when that lane allows at least 3 m/s more and both the gap ahead and the gap to the vehicle
behind (given its closing speed) are safe. Braking for a threat ahead always wins.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["Teacher"]

LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = range(5)
HEADWAY_S = 1.5
JAM_GAP_M = 6.0
BRAKE_MPS2 = 4.0
EMERGENCY_TTC_S = 2.5
SPEED_SLACK_MPS = 0.5
SPEED_STEP_MPS = 3.0
LANE_GAIN_MPS = 3.0
CHANGE_COOLDOWN_STEPS = 5
OBSERVED_VEHICLES = 9  # the policy observes itself and nine others
_HALF_LANE_M = 2.0
_HORIZON_M = 150.0


def _occupants(ego: Any, lane: Any, others: Any) -> tuple[Any, Any]:
    """(vehicle ahead, vehicle behind) in ``lane``, each as (gap [m], speed along the lane)."""
    s_ego = float(lane.local_coordinates(ego.position)[0])
    ahead: tuple[float, float] | None = None
    behind: tuple[float, float] | None = None
    for other in others:
        if other is ego:
            continue
        s, lateral = lane.local_coordinates(other.position)
        if abs(s - s_ego) > _HORIZON_M:
            continue
        heading = float(lane.heading_at(s))
        speed = float(getattr(other, "speed", 0.0))
        drift = speed * math.sin(other.heading - heading)
        if abs(lateral) > _HALF_LANE_M + 0.3 and abs(lateral + drift) > _HALF_LANE_M - 0.2:
            continue
        along = speed * math.cos(other.heading - heading)
        gap = abs(s - s_ego) - (ego.LENGTH + other.LENGTH) / 2
        if s >= s_ego and (ahead is None or gap < ahead[0]):
            ahead = (gap, along)
        elif s < s_ego and (behind is None or gap < behind[0]):
            behind = (gap, along)
    return ahead, behind


def _safe_speed(ahead: tuple[float, float] | None, limit: float) -> float:
    if ahead is None:
        return limit
    gap, lead_speed = ahead
    room = gap - JAM_GAP_M
    if room <= 0:
        return 0.0
    keep_gap = room / HEADWAY_S
    can_stop = math.sqrt(max(lead_speed, 0.0) ** 2 + 2 * BRAKE_MPS2 * room)
    return float(min(limit, keep_gap, can_stop))


class Teacher:
    """Chooses ``DiscreteMetaAction`` indices from the simulator state of a highway-env env."""

    def __init__(self) -> None:
        """A teacher with no lane change behind it."""
        self._since_change = CHANGE_COOLDOWN_STEPS

    def executed(self, action: int) -> None:
        """Tell the teacher which action was actually applied (noise may replace its own)."""
        self._since_change = 0 if action in (LANE_LEFT, LANE_RIGHT) else self._since_change + 1

    def act(self, env: Any) -> int:
        """The teacher's action for the current state of ``env`` (an unwrapped highway-env)."""
        ego, road = env.vehicle, env.road
        limit = float(np.max(ego.target_speeds))
        visible = road.close_objects_to(
            ego, env.PERCEPTION_DISTANCE, count=OBSERVED_VEHICLES, see_behind=False, sort=True
        )
        lanes = {ego.lane_index, ego.target_lane_index}
        network = road.network
        threats = [_occupants(ego, network.get_lane(index), visible)[0] for index in lanes]
        wanted = min(_safe_speed(ahead, limit) for ahead in threats)
        if any(_ttc(ahead, ego.speed) < EMERGENCY_TTC_S for ahead in threats):
            return SLOWER
        lateral = self._lane_change(env, visible, wanted, limit)
        if lateral is not None:
            return lateral
        if ego.speed > wanted + SPEED_SLACK_MPS:
            return SLOWER
        if ego.speed < min(wanted, limit) - SPEED_STEP_MPS - SPEED_SLACK_MPS:
            return FASTER
        return IDLE

    def _lane_change(self, env: Any, visible: Any, wanted: float, limit: float) -> int | None:
        ego, road = env.vehicle, env.road
        if self._since_change < CHANGE_COOLDOWN_STEPS or ego.lane_index != ego.target_lane_index:
            return None
        best: tuple[float, int] | None = None
        for index in road.network.side_lanes(ego.lane_index):
            lane = road.network.get_lane(index)
            if not lane.is_reachable_from(ego.position):
                continue
            ahead = _occupants(ego, lane, visible)[0]
            behind = _occupants(ego, lane, (*road.vehicles, *road.objects))[1]
            if not _gap_is_safe(ahead, behind, ego.speed):
                continue
            gain = _safe_speed(ahead, limit) - wanted
            action = LANE_LEFT if index[2] < ego.lane_index[2] else LANE_RIGHT
            if gain >= LANE_GAIN_MPS and (best is None or gain > best[0]):
                best = (gain, action)
        return best[1] if best else None


def _ttc(ahead: tuple[float, float] | None, speed: float) -> float:
    if ahead is None:
        return math.inf
    gap, lead_speed = ahead
    closing = speed - lead_speed
    if gap <= 0:
        return 0.0
    return gap / closing if closing > 1e-6 else math.inf


def _gap_is_safe(ahead: Any, behind: Any, speed: float) -> bool:
    if ahead is not None and ahead[0] < JAM_GAP_M + 0.6 * speed:
        return False
    if behind is None:
        return True
    gap, rear_speed = behind
    return bool(gap >= JAM_GAP_M + 2.5 * max(0.0, rear_speed - speed) + 0.3 * rear_speed)
