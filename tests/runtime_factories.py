"""Builders for the runtime gate's inputs: envelopes, worlds, proposals and gates, all real.

Numbers are chosen so boundaries are exact in binary floating point (0.25 s, 0.5 m/s…): a test
"at the limit" is at it, not a rounding error away.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.runtime.envelope import Envelope, example_envelope
from modelsteward.runtime.gate import SafetyGate
from modelsteward.runtime.records import DecisionRecorder, MemorySink
from modelsteward.runtime.rss import longitudinal_same_direction
from modelsteward.runtime.world import Context, Ego, Objects, Proposal, Trajectory, WorldState

__all__ = [
    "FASTER",
    "IDLE",
    "LANE_LEFT",
    "LANE_RIGHT",
    "SLOWER",
    "Drive",
    "action",
    "envelope",
    "envelope_document",
    "gate",
    "obj",
    "path",
    "recorded_gate",
    "rss_safe_gap",
    "steady",
    "world",
]

# The example envelope's action table.
LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = range(5)

GENEROUS_DEADLINE_MS = 60_000.0
"""Tests judge rules, not the machine's speed: a deadline no test run can miss by accident."""


def envelope_document(**changes: object) -> dict[str, Any]:
    """The example envelope with ``section__key=value`` changes (``ttc__min_s=3.0``).

    The watchdog deadline is generous unless changed; a value of ``None`` deletes the key.
    """
    document = copy.deepcopy(example_envelope())
    document["watchdog"]["deadline_ms"] = GENEROUS_DEADLINE_MS
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = document
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return document


def envelope(**changes: object) -> Envelope:
    """:func:`envelope_document` parsed."""
    return Envelope.from_dict(envelope_document(**changes))


def obj(
    s: float,
    v_lon: float = 0.0,
    *,
    d: float = 0.0,
    v_lat: float = 0.0,
    length: float = 5.0,
    width: float = 2.0,
    lane: int = 0,
    oncoming: bool = False,
) -> tuple[float, ...]:
    """One object row (road frame: ``s`` ahead, ``d`` left, speeds along and across the road)."""
    return (s, d, v_lon, v_lat, length, width, float(lane), 1.0 if oncoming else 0.0)


def world(
    *,
    t: float = 10.0,
    speed: float = 25.0,
    objects: Sequence[Sequence[float]] = (),
    x: float = 100.0,
    y: float = 0.0,
    accel: float = 0.0,
    speed_limit: float = 30.0,
    road_type: str = "motorway",
    weather: str = "clear",
    time_of_day: str = "day",
    lane_width: float = 4.0,
    poses: bool = True,
) -> WorldState:
    """A motorway world; the pose history (0.25 s) agrees with ``speed`` unless ``poses=False``."""
    history = None
    if poses:
        history = [[t - 0.25, x - 0.25 * speed, y], [t, x, y]]
    return WorldState(
        t=t,
        ego=Ego(x=x, y=y, heading=0.0, speed=speed, accel=accel),
        objects=Objects.from_rows([list(row) for row in objects]),
        context=Context(road_type, weather, time_of_day, speed_limit, lane_width),
        poses=None if history is None else _read_only(history),
    )


def _read_only(rows: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    array = np.array(rows, dtype=np.float64)
    array.flags.writeable = False
    return array


def action(index: int, *, t: float = 10.0, confidence: float = 0.9) -> Proposal:
    """A discrete proposal (see the action constants)."""
    return Proposal(t=t, confidence=confidence, action=index, trace="test")


def path(
    points: Sequence[Sequence[float]], *, t: float = 10.0, confidence: float = 0.9
) -> Proposal:
    """A trajectory proposal from ``[t, x, y, v]`` rows."""
    return Proposal(t=t, confidence=confidence, trajectory=Trajectory.from_points(points))


def steady(
    v: float, *, seconds: float = 2.0, step: float = 0.5, t: float = 10.0, lateral: float = 0.0
) -> Proposal:
    """Straight ahead at constant speed ``v`` (first waypoint at ``step``), drifting ``lateral``
    metres to the left by the end."""
    count = round(seconds / step)
    rows = [[step * i, v * step * i, lateral * i / count, v] for i in range(1, count + 1)]
    return path(rows, t=t)


def rss_safe_gap(env: Envelope, v_rear: float, v_front: float) -> float:
    """The RSS safe distance, bumper to bumper, with the envelope's parameters."""
    p = env.rss
    return longitudinal_same_direction(
        v_rear,
        v_front,
        response_time=p.response_time_ego,
        accel_max=p.accel_max,
        brake_min=p.brake_min,
        brake_max=p.brake_max,
    )


def gate(env: Envelope | None = None, **options: Any) -> SafetyGate:
    """An unattested gate on ``env`` (the generous-deadline example by default)."""
    return SafetyGate.unsafe_unattested(env or envelope(), **options)


def recorded_gate(
    env: Envelope | None = None, **options: Any
) -> tuple[SafetyGate, DecisionRecorder, MemorySink]:
    """A gate with a recorder writing to memory."""
    sink = MemorySink()
    recorder = DecisionRecorder(sink)
    return gate(env, recorder=recorder, **options), recorder, sink


class Drive:
    """A vehicle driving at a steady speed, one world per cycle (8 Hz from t = 10 s).

    ``drive.world(objects=…)`` is the world of the current cycle; :meth:`step` advances the clock.
    """

    def __init__(self, speed: float = 25.0, *, dt: float = 0.125, t: float = 10.0) -> None:
        self.speed = speed
        self.dt = dt
        self.t = t
        self.x = 100.0

    def world(self, **options: Any) -> WorldState:
        """This cycle's world."""
        options.setdefault("speed", self.speed)
        return world(t=self.t, x=self.x, **options)

    def step(self) -> None:
        """Advance one cycle."""
        self.t += self.dt
        self.x += self.speed * self.dt
