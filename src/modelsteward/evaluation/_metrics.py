"""Safety measures of one closed-loop episode, read from the simulator state after every step.

The policy sees a normalised observation; the measures below come from the simulator itself
(``env.unwrapped.vehicle`` and ``road``), in SI units:

- **time-to-collision** to the vehicle (or obstacle) ahead in the ego's current lane: bumper gap
  ÷ closing speed while closing, capped at :data:`TTC_CAP_S`; 0 once the gap is gone or the
  ego has crashed;
- **time headway**: bumper gap ÷ ego speed (along the lane), capped at :data:`HEADWAY_CAP_S`,
  counted from :data:`HEADWAY_GRACE_S` after the vehicle ahead last changed (a cut-in, the ego's
  own lane change, the start) — headway measures the distance the ego *keeps*, while
  time-to-collision counts from the first moment;
- **deceleration**: the drop of ego speed between two decision steps ÷ their interval; the step
  on which a crash happens is excluded (a crash zeroes speed by itself);
- **lane departures**: entries of the ego onto no drivable lane (``on_road`` turns false), plus
  lane-change commands towards a lane that does not exist (highway-env ignores them; a real
  vehicle would leave the road);
- **route completion**: distance driven ÷ the distance at :data:`ROUTE_SPEED_MPS` over the
  scenario duration, capped at 1; an environment's own goal (e.g. merge-v0 past the ramp)
  reached without a crash counts as complete.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "HEADWAY_CAP_S",
    "HEADWAY_GRACE_S",
    "ROUTE_SPEED_MPS",
    "TTC_CAP_S",
    "EpisodeMeter",
    "lead_gap",
]

TTC_CAP_S = 10.0
"""Time-to-collision beyond 10 s is no conflict; capping keeps margins finite and stable."""
HEADWAY_CAP_S = 10.0
"""Headway beyond 10 s (or no vehicle ahead) is reported as 10 s."""
HEADWAY_GRACE_S = 2.0
"""Time the ego has to re-establish its headway behind a new vehicle ahead (cf. UN R157)."""
ROUTE_SPEED_MPS = 20.0
"""72 km/h: the least average progress expected of a motorway pilot."""

_LANE_LEFT, _LANE_RIGHT = 0, 2


def _along(vehicle: Any, heading: float) -> float:
    return float(vehicle.speed * math.cos(vehicle.heading - heading))


def lead_gap(ego: Any, road: Any) -> tuple[Any, float, float] | None:
    """(vehicle, bumper gap [m], closing speed [m/s]) ahead in the ego lane, or None."""
    front, _rear = road.neighbour_vehicles(ego, ego.lane_index)
    if front is None:
        return None
    lane = ego.lane
    s_ego = float(lane.local_coordinates(ego.position)[0])
    heading = float(lane.heading_at(s_ego))
    gap = float(ego.lane_distance_to(front, lane)) - (ego.LENGTH + front.LENGTH) / 2
    front_speed = _along(front, heading) if hasattr(front, "speed") else 0.0
    return front, gap, _along(ego, heading) - front_speed


@dataclass
class EpisodeMeter:
    """Accumulates the safety measures of one episode (mutable; one per episode)."""

    dt: float
    min_ttc: float = TTC_CAP_S
    min_headway: float = HEADWAY_CAP_S
    max_decel: float = 0.0
    offroad_events: int = 0
    invalid_lane_changes: int = 0
    distance: float = 0.0
    speeds: list[float] = field(default_factory=list)
    _speed: float | None = None
    _position: np.ndarray | None = None
    _on_road: bool = True
    _lead: int | None = None
    _grace: int = 0

    def start(self, ego: Any, road: Any) -> None:
        """Record the state after ``reset``."""
        self._speed = float(ego.speed)
        self._position = np.array(ego.position, dtype=float)
        self._on_road = bool(ego.on_road)
        self._measure_lead(ego, road)

    def command(self, ego: Any, road: Any, action: int) -> None:
        """Record an action before it is applied (lane changes into non-existent lanes)."""
        if action not in (_LANE_LEFT, _LANE_RIGHT):
            return
        origin, destination, lane_id = ego.target_lane_index
        lanes = len(road.network.graph[origin][destination])
        wanted = lane_id - 1 if action == _LANE_LEFT else lane_id + 1
        if not 0 <= wanted < lanes:
            self.invalid_lane_changes += 1

    def after_step(self, ego: Any, road: Any) -> None:
        """Record the state after one decision step."""
        speed = float(ego.speed)
        if self._speed is not None and not ego.crashed:
            self.max_decel = max(self.max_decel, (self._speed - speed) / self.dt)
        self._speed = speed
        self.speeds.append(speed)
        position = np.array(ego.position, dtype=float)
        if self._position is not None:
            self.distance += float(np.linalg.norm(position - self._position))
        self._position = position
        on_road = bool(ego.on_road)
        if self._on_road and not on_road:
            self.offroad_events += 1
        self._on_road = on_road
        if ego.crashed:  # a collision is time-to-collision 0, whatever the lane geometry says
            self.min_ttc = self.min_headway = 0.0
            return
        self._measure_lead(ego, road)

    def _measure_lead(self, ego: Any, road: Any) -> None:
        lead = lead_gap(ego, road)
        if lead is None:
            self._lead = None
            return
        front, gap, closing = lead
        if id(front) != self._lead:
            self._lead = id(front)
            self._grace = math.ceil(HEADWAY_GRACE_S / self.dt - 1e-9)
        speed = max(float(ego.speed), 0.0)
        if gap <= 0.0:
            ttc = headway = 0.0
        else:
            ttc = gap / closing if closing > 1e-6 else TTC_CAP_S
            headway = gap / speed if speed > 1e-6 else HEADWAY_CAP_S
        self.min_ttc = min(self.min_ttc, ttc)
        if self._grace > 0 and gap > 0.0:
            self._grace -= 1
            return
        self.min_headway = min(self.min_headway, headway)

    def route_completion(self, duration_s: float, goal_reached: bool) -> float:
        """Distance driven over the reference distance (1.0 when the goal was reached)."""
        if goal_reached:
            return 1.0
        reference = ROUTE_SPEED_MPS * duration_s
        return min(1.0, self.distance / reference) if reference > 0 else 0.0
