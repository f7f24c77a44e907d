"""Traffic behaviours the reference scenarios ask highway-env for by class path.

highway-env fills a road with one behaviour class (config key ``other_vehicles_type``). Its own
classes cover ordinary (``IDMVehicle``), aggressive and defensive drivers; two hazards of the
reference library need traffic that slows down on its own:

- :class:`SlowTrafficVehicle` — an IDM driver that wants 12–17 m/s (congestion ahead);
- :class:`BrakingTrafficVehicle` — an IDM driver that cruises, then brakes hard to 5–10 m/s
  for a few seconds, again and again (stop-and-go waves, a braking lead vehicle);

and cut-ins need drivers who move into the ego's lane just ahead of it, which MOBIL's
courteous lane changes (at most 2 m/s² of braking imposed on the new follower) rarely do:

- :class:`GentleCutInVehicle` — some drivers cut in once, 25–40 m ahead of the ego;
- :class:`AggressiveCutInVehicle` — the same, only 12–20 m ahead and up to 5 m/s slower.

Both draw their randomness from the road's seeded generator, so episodes stay deterministic.

>>> SlowTrafficVehicle.TARGET_SPEEDS_MPS, BrakingTrafficVehicle.BRAKE_TO_MPS
((12.0, 17.0), (5.0, 10.0))
>>> AggressiveCutInVehicle.CUT_IN_GAP_M
(12.0, 20.0)
"""

from __future__ import annotations

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from highway_env.vehicle.behavior import IDMVehicle  # noqa: E402
from highway_env.vehicle.controller import MDPVehicle  # noqa: E402

__all__ = [
    "AggressiveCutInVehicle",
    "BrakingTrafficVehicle",
    "GentleCutInVehicle",
    "SlowTrafficVehicle",
]


class SlowTrafficVehicle(IDMVehicle):  # type: ignore[misc]
    """An IDM vehicle whose desired speed is drawn between 12 and 17 m/s."""

    TARGET_SPEEDS_MPS = (12.0, 17.0)

    def randomize_behavior(self) -> None:
        """Draw the IDM exponent (as highway-env does) and a low desired speed."""
        super().randomize_behavior()
        low, high = self.TARGET_SPEEDS_MPS
        self.target_speed = float(self.road.np_random.uniform(low, high))


class BrakingTrafficVehicle(IDMVehicle):  # type: ignore[misc]
    """An IDM vehicle that periodically brakes hard to a low speed, then recovers."""

    CRUISE_S = (4.0, 9.0)
    BRAKE_S = 3.0
    BRAKE_TO_MPS = (5.0, 10.0)
    target_speed: float

    def randomize_behavior(self) -> None:
        """Draw the IDM exponent, the cruise phase and the braking target."""
        super().randomize_behavior()
        rng = self.road.np_random
        self._cruise_speed = float(self.target_speed)
        self._cruise_s = float(rng.uniform(*self.CRUISE_S))
        self._brake_speed = float(rng.uniform(*self.BRAKE_TO_MPS))
        self._clock = float(rng.uniform(0.0, self._cruise_s))

    def step(self, dt: float) -> None:
        """Advance the cruise/brake cycle, then the vehicle."""
        if hasattr(self, "_clock"):
            self._clock = (self._clock + dt) % (self._cruise_s + self.BRAKE_S)
            braking = self._clock >= self._cruise_s
            self.target_speed = self._brake_speed if braking else self._cruise_speed
        super().step(dt)


class GentleCutInVehicle(IDMVehicle):  # type: ignore[misc]
    """An IDM driver that, once, changes into the ego's lane 25–40 m ahead of it.

    Half the drivers of this class are cutters (drawn at creation); a cutter in a lane next to
    the ego's waits until the ego has closed to the trigger gap behind it, then moves over if it
    is at most 3 m/s slower than the ego — the textbook cut-in of Euro NCAP's motorway tests.
    Others drive like ``IDMVehicle``.
    """

    CUT_IN_GAP_M = (25.0, 40.0)
    MAX_SPEED_DEFICIT_MPS = 3.0
    CUTTER_SHARE = 0.5
    target_lane_index: tuple[str, str, int]

    def randomize_behavior(self) -> None:
        """Draw the IDM exponent, whether this driver cuts in, and at which gap."""
        super().randomize_behavior()
        rng = self.road.np_random
        self._cutter = bool(rng.random() < self.CUTTER_SHARE)
        self._trigger_m = float(rng.uniform(*self.CUT_IN_GAP_M))

    def act(self, action: dict[str, float] | str | None = None) -> None:
        """Cut in when the ego is at the trigger gap behind, then drive as IDM/MOBIL."""
        if getattr(self, "_cutter", False) and not self.crashed:
            self._maybe_cut_in()
        super().act(action)

    def _maybe_cut_in(self) -> None:
        ego = next((v for v in self.road.vehicles if isinstance(v, MDPVehicle)), None)
        if ego is None or self.lane_index != self.target_lane_index:
            return
        same_road = ego.lane_index[:2] == self.lane_index[:2]
        if not same_road or abs(ego.lane_index[2] - self.lane_index[2]) != 1:
            return
        gap = ego.lane_distance_to(self) - self.LENGTH
        slower_by = ego.speed - self.speed
        closest = self.CUT_IN_GAP_M[0]
        if closest <= gap <= self._trigger_m and slower_by <= self.MAX_SPEED_DEFICIT_MPS:
            self.target_lane_index = ego.lane_index
            self._cutter = False


class AggressiveCutInVehicle(GentleCutInVehicle):
    """Like :class:`GentleCutInVehicle`, but cutting in 12–20 m ahead, up to 5 m/s slower."""

    CUT_IN_GAP_M = (12.0, 20.0)
    MAX_SPEED_DEFICIT_MPS = 5.0
