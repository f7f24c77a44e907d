"""What the safety gate sees of a highway-env episode: the simulator state as a ``WorldState``.

highway-env draws its map with ``y`` growing to the *right* of the driving direction (screen
coordinates) and numbers lanes from the left edge, so its lane index grows to the right. The gate
wants a right-handed map frame and a road frame with ``d`` and ``lane`` positive to the *left*
(:mod:`modelsteward.runtime.world`). :class:`WorldObserver` converts:

- ego map pose ``(x, -y)``, heading ``-heading`` (right-handed, counter-clockwise positive);
- every other vehicle within :data:`PERCEPTION_RANGE_M` in the ego lane's coordinates: ``s`` the
  centre distance along the lane (ahead positive), ``d`` the lateral one (left positive),
  ``v_lon``/``v_lat`` its velocity along and across the lane, ``lane`` = ego lane index − its
  lane index (+1 = the next lane to the left), ``oncoming`` 0 (highway-v0 roads are one-way);
- the ego's acceleration from the speed at the previous step, and a two-pose history.

The simulated clock (``step / policy_frequency``) is the gate's clock, so a run is deterministic.

>>> from modelsteward.evaluation._simulator import make_env, reset_env
>>> env = make_env("highway-fast-v0", {"lanes_count": 3, "vehicles_count": 5})
>>> _ = reset_env(env, 1)
>>> world = WorldObserver(dt=1.0).observe(env.unwrapped, 0.0)
>>> world.context.road_type, world.context.speed_limit, world.objects.count > 0
('motorway', 30.0, True)
>>> env.close()
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.runtime.fallback import Command
from modelsteward.runtime.world import Context, Ego, Objects, Proposal, WorldState

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_SPEED_LIMIT_MPS",
    "PERCEPTION_RANGE_M",
    "PLATFORM_MINIMAL_RISK",
    "WorldObserver",
    "action_of",
    "proposal_of",
]

PERCEPTION_RANGE_M = 150.0
"""Vehicles farther than this along the road are not shown to the gate (a long-range radar)."""
DEFAULT_SPEED_LIMIT_MPS = 30.0
"""The legal limit when the lane sets none (highway-v0's lanes set 30 m/s)."""
ACTION_NAMES = ("LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER")
"""highway-env's ``DiscreteMetaAction`` indices, in order."""
PLATFORM_MINIMAL_RISK = 4
"""What the vehicle does when the gate sends ``None`` (no trustworthy envelope): SLOWER, i.e.
brake in lane — the platform's own minimal-risk manoeuvre."""
_MAX_OBJECTS = 64


class WorldObserver:
    """Turns the simulator state into one :class:`WorldState` per decision step.

    Keeps the previous step's speed and pose (for acceleration and the pose history), so use one
    observer per episode and call :meth:`observe` once per step with increasing ``t``.
    """

    def __init__(
        self,
        *,
        dt: float,
        weather: str = "clear",
        time_of_day: str = "day",
        max_objects: int = _MAX_OBJECTS,
    ) -> None:
        self.dt = dt
        self.weather = weather
        self.time_of_day = time_of_day
        self.max_objects = max_objects
        self._previous: tuple[float, float, float, float] | None = None  # t, x, y, speed

    def observe(self, unwrapped: Any, t: float) -> WorldState:
        """The world at simulated time ``t`` (seconds) from ``env.unwrapped``."""
        ego = unwrapped.vehicle
        lane = ego.lane
        long_ego, lat_ego = lane.local_coordinates(ego.position)
        heading = float(lane.heading_at(long_ego))
        x, y = float(ego.position[0]), -float(ego.position[1])
        speed = float(ego.speed)
        previous = self._previous
        accel = 0.0
        poses = [[t, x, y]]
        if previous is not None and t > previous[0]:
            accel = (speed - previous[3]) / (t - previous[0])
            poses.insert(0, [previous[0], previous[1], previous[2]])
        self._previous = (t, x, y, speed)
        limit = getattr(lane, "speed_limit", None)
        context = Context(
            road_type="motorway",
            weather=self.weather,
            time_of_day=self.time_of_day,
            speed_limit=float(limit) if limit else DEFAULT_SPEED_LIMIT_MPS,
            lane_width=float(lane.width_at(long_ego)),
        )
        return WorldState(
            t=t,
            ego=Ego(x=x, y=y, heading=-float(ego.heading), speed=speed, accel=accel),
            objects=Objects.from_rows(self._objects(unwrapped, (long_ego, lat_ego), heading)),
            context=context,
            poses=_read_only(poses),
        )

    def _objects(
        self, unwrapped: Any, origin: tuple[float, float], heading: float
    ) -> list[list[float]]:
        ego = unwrapped.vehicle
        lane, ego_lane = ego.lane, ego.lane_index[2]
        cos, sin = math.cos(heading), math.sin(heading)
        rows: list[list[float]] = []
        for other in unwrapped.road.vehicles:
            if other is ego:
                continue
            longitudinal, lateral = lane.local_coordinates(other.position)
            s = longitudinal - origin[0]
            if abs(s) > PERCEPTION_RANGE_M:
                continue
            vx, vy = other.velocity
            rows.append(
                [
                    s,
                    origin[1] - lateral,  # highway-env's lateral grows to the right
                    float(vx * cos + vy * sin),
                    float(vx * sin - vy * cos),
                    float(other.LENGTH),
                    float(other.WIDTH),
                    float(ego_lane - other.lane_index[2]),
                    0.0,
                ]
            )
        rows.sort(key=lambda row: abs(row[0]))
        return rows[: self.max_objects]


def _read_only(rows: list[list[float]]) -> npt.NDArray[np.float64]:
    array = np.array(rows, dtype=np.float64)
    array.flags.writeable = False
    return array


def proposal_of(t: float, action: int, confidence: float) -> Proposal:
    """The policy's answer as a discrete :class:`Proposal` stamped with the simulated time."""
    return Proposal(t=t, confidence=confidence, action=action)


def action_of(command: Command) -> int:
    """The ``DiscreteMetaAction`` index to apply for what the gate sent.

    ``None`` (no trustworthy envelope) and a trajectory (never produced for discrete proposals)
    both become :data:`PLATFORM_MINIMAL_RISK`.
    """
    if isinstance(command, int):
        return command
    return PLATFORM_MINIMAL_RISK
