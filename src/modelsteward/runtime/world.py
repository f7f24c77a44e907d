"""What the gate is shown each cycle: the world as perceived, and the model's proposal.

Frames and units (SI throughout):

- The ego pose (``x``, ``y``, ``heading``) is in the *map* frame; the geofence uses it.
- Surrounding objects are in the ego's *road* frame: ``s`` is the longitudinal distance between
  centres along the road (ahead positive), ``d`` the lateral distance (left positive),
  ``v_lon``/``v_lat`` their speeds along and across the road, ``lane`` their lane relative to
  the ego's (+1 is the next lane to the left), ``oncoming`` 1 for traffic driving towards us.
- A trajectory's waypoints are relative to the ego at proposal time: ``t`` seconds after the
  proposal's timestamp, ``x`` metres ahead, ``y`` metres to the left, ``v`` m/s.

Objects are one ``(n, 8)`` float array (columns :data:`OBJECT_COLUMNS`) so a cycle checks them
with a handful of vectorised operations. Inputs are frozen and their arrays made read-only: a
decision record keeps references to them rather than copies, off the control loop's clock.

    >>> world = WorldState.from_dict(example_world())
    >>> world.objects.count, world.context.road_type
    (1, 'motorway')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from modelsteward.errors import InvalidInput

__all__ = [
    "OBJECT_COLUMNS",
    "Context",
    "Ego",
    "Objects",
    "Proposal",
    "Trajectory",
    "WorldState",
    "example_proposal",
    "example_world",
]

FloatArray = npt.NDArray[np.float64]
OBJECT_COLUMNS = ("s", "d", "v_lon", "v_lat", "length", "width", "lane", "oncoming")
S, D, V_LON, V_LAT, LENGTH, WIDTH, LANE, ONCOMING = range(8)


def _frozen(values: object, columns: int | None = None) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    if columns is not None and array.size == 0:
        array = array.reshape(0, columns)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class Ego:
    """The ego vehicle: map pose, speed along its heading, longitudinal acceleration."""

    x: float
    y: float
    heading: float
    speed: float
    accel: float = 0.0


@dataclass(frozen=True, slots=True)
class Context:
    """Where the ego is: road type, weather, time of day, legal limit, lane width."""

    road_type: str
    weather: str
    time_of_day: str
    speed_limit: float
    lane_width: float = 4.0


@dataclass(frozen=True, slots=True)
class Objects:
    """Surrounding objects as one read-only ``(n, 8)`` array; see :data:`OBJECT_COLUMNS`."""

    data: FloatArray

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[float]]) -> Objects:
        """Build from rows ordered as :data:`OBJECT_COLUMNS`."""
        return cls(_frozen(rows, len(OBJECT_COLUMNS)))

    @property
    def count(self) -> int:
        """How many objects."""
        return int(self.data.shape[0])


@dataclass(frozen=True, slots=True)
class WorldState:
    """One perceived world: timestamp, ego, objects, context and recent ego poses ``(t, x, y)``."""

    t: float
    ego: Ego
    objects: Objects
    context: Context
    poses: FloatArray | None = None

    @classmethod
    def from_dict(cls, data: object) -> WorldState:
        """Parse a JSON-shaped world (docs/runtime.md); :class:`InvalidInput` names the field."""
        top = _mapping(data, "world")
        ego = _mapping(top.get("ego"), "world.ego")
        context = _mapping(top.get("context"), "world.context")
        rows = top.get("objects", [])
        if not isinstance(rows, list):
            raise _bad("world.objects", "must be a list of objects")
        poses = top.get("poses")
        return cls(
            t=_number(top, "t", "world"),
            ego=Ego(
                x=_number(ego, "x", "world.ego"),
                y=_number(ego, "y", "world.ego"),
                heading=_number(ego, "heading", "world.ego"),
                speed=_number(ego, "speed", "world.ego"),
                accel=_number(ego, "accel", "world.ego", 0.0),
            ),
            objects=Objects.from_rows([_object_row(row, i) for i, row in enumerate(rows)]),
            context=Context(
                road_type=_text(context, "road_type", "world.context"),
                weather=_text(context, "weather", "world.context"),
                time_of_day=_text(context, "time_of_day", "world.context"),
                speed_limit=_number(context, "speed_limit_mps", "world.context"),
                lane_width=_number(context, "lane_width_m", "world.context", 4.0),
            ),
            poses=None if poses is None else _matrix(poses, "world.poses", 3),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape :meth:`from_dict` reads (used by decision records and replay)."""
        document: dict[str, Any] = {
            "t": self.t,
            "ego": {
                "x": self.ego.x,
                "y": self.ego.y,
                "heading": self.ego.heading,
                "speed": self.ego.speed,
                "accel": self.ego.accel,
            },
            "objects": [
                dict(zip(OBJECT_COLUMNS, map(float, row), strict=True))
                for row in self.objects.data.tolist()
            ],
            "context": {
                "road_type": self.context.road_type,
                "weather": self.context.weather,
                "time_of_day": self.context.time_of_day,
                "speed_limit_mps": self.context.speed_limit,
                "lane_width_m": self.context.lane_width,
            },
        }
        if self.poses is not None:
            document["poses"] = self.poses.tolist()
        return document


@dataclass(frozen=True, slots=True)
class Trajectory:
    """Waypoints relative to the ego at proposal time: ``t``, ``x`` ahead, ``y`` left, ``v``."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    v: FloatArray

    @classmethod
    def from_points(cls, points: Sequence[Sequence[float]]) -> Trajectory:
        """Build from ``[t, x, y, v]`` rows."""
        matrix = np.array(points, dtype=np.float64).reshape(-1, 4)
        return cls(*(_frozen(matrix[:, column]) for column in range(4)))

    def points(self) -> list[list[float]]:
        """The ``[t, x, y, v]`` rows."""
        return np.stack([self.t, self.x, self.y, self.v], axis=1).tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the model wants: a discrete ``action`` *or* a ``trajectory``, with its confidence.

    ``trace`` (the model's reasoning, if it gives one) is stored with the decision and never
    read by any rule.
    """

    t: float
    confidence: float
    action: int | None = None
    trajectory: Trajectory | None = None
    trace: str | None = None

    @classmethod
    def from_dict(cls, data: object) -> Proposal:
        """Parse a JSON-shaped proposal; :class:`InvalidInput` names the field."""
        top = _mapping(data, "proposal")
        action = top.get("action")
        if action is not None and (isinstance(action, bool) or not isinstance(action, int)):
            raise _bad("proposal.action", f"must be a whole number, found {action!r}")
        points = top.get("trajectory")
        trace = top.get("trace")
        if trace is not None and not isinstance(trace, str):
            raise _bad("proposal.trace", "must be a string")
        return cls(
            t=_number(top, "t", "proposal"),
            confidence=_number(top, "confidence", "proposal"),
            action=action,
            trajectory=None
            if points is None
            else Trajectory.from_points(_matrix(points, "proposal.trajectory", 4).tolist()),
            trace=trace,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape :meth:`from_dict` reads."""
        return {
            "t": self.t,
            "confidence": self.confidence,
            "action": self.action,
            "trajectory": None if self.trajectory is None else self.trajectory.points(),
            "trace": self.trace,
        }


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field} {message}", hint="see docs/runtime.md for the input format")


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(field, "must be a mapping")
    return value


def _number(data: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if value is None:
        raise _bad(f"{where}.{key}", "is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{where}.{key}", f"must be a number, found {value!r}")
    try:
        return float(value)
    except OverflowError:  # a JSON integer beyond float range
        raise _bad(f"{where}.{key}", "is too large for a 64-bit float") from None


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"{where}.{key}", f"must be a non-empty string, found {value!r}")
    return value


def _object_row(row: object, index: int) -> list[float]:
    where = f"world.objects[{index}]"
    data = _mapping(row, where)
    unknown = sorted(str(key) for key in data if key not in OBJECT_COLUMNS and key != "id")
    if unknown:
        raise _bad(f"{where}.{unknown[0]}", "is not a known field")
    defaults = {"v_lat": 0.0, "length": 5.0, "width": 2.0, "lane": 0.0, "oncoming": 0.0}
    return [_number(data, key, where, defaults.get(key)) for key in OBJECT_COLUMNS]


def _matrix(value: object, field: str, columns: int) -> FloatArray:
    if not isinstance(value, list) or not all(
        isinstance(row, list) and len(row) == columns for row in value
    ):
        raise _bad(field, f"must be a list of rows of {columns} numbers")
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) for row in value for v in row
    ):
        raise _bad(field, "must contain numbers only")
    try:
        return _frozen(value, columns)
    except OverflowError:  # a JSON integer beyond float range
        raise _bad(field, "has a number too large for a 64-bit float") from None


def example_world(t: float = 10.0, speed_limit: float = 30.0) -> dict[str, Any]:
    """A motorway world, one car 120 m ahead beyond the RSS distance (for docs and tests)."""
    return {
        "t": t,
        "ego": {"x": 100.0, "y": 0.0, "heading": 0.0, "speed": 25.0, "accel": 0.0},
        "objects": [{"s": 120.0, "d": 0.0, "v_lon": 25.0}],
        "context": {
            "road_type": "motorway",
            "weather": "clear",
            "time_of_day": "day",
            "speed_limit_mps": speed_limit,
        },
        "poses": [[t - 0.2, 95.0, 0.0], [t, 100.0, 0.0]],
    }


def example_proposal(t: float = 10.0, action: int = 1) -> dict[str, Any]:
    """A confident discrete proposal (used by docs and tests)."""
    return {"t": t, "confidence": 0.9, "action": action, "trace": "keep lane"}
