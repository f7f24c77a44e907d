"""The runtime envelope: every limit the safety gate enforces, as one validated, hashed document.

An envelope is written as YAML or JSON (see ``docs/envelope.md``), parsed by
:meth:`Envelope.from_dict` — which names the field and the fix for any mistake and refuses
unknown keys — and identified by the SHA-256 of its canonical JSON (:attr:`Envelope.digest`).
Signing and binding it to a model digest is :mod:`modelsteward.runtime.signed`'s job.

    >>> env = Envelope.from_dict(example_envelope())
    >>> env.speed_caps[Mode.REDUCED], env.rss.brake_max, str(env.digest)[:7]
    (20.0, 8.0, 'sha256:')
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.runtime._fields import FieldReader
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rss import RssParameters
from modelsteward.types import Digest

__all__ = [
    "ENVELOPE_SCHEMA",
    "RULE_IDS",
    "ActionSemantics",
    "DiscreteAction",
    "Envelope",
    "FallbackSettings",
    "Geofence",
    "Kinematics",
    "OddLimits",
    "Plausibility",
    "example_envelope",
]

ENVELOPE_SCHEMA = "steward.envelope/v1"
RULE_IDS = (
    "input_integrity",
    "plausibility",
    "confidence",
    "odd",
    "speed_cap",
    "kinematics",
    "rss",
    "ttc",
    "watchdog",
)
"""The nine rules, in evaluation order. ``deadline`` and ``rule_error`` are the gate's own
reasons: a missed cycle deadline and an exception inside a rule."""

_DEFAULT_ESCALATION: dict[str, Mode] = {
    "input_integrity": Mode.SUPERVISED,
    "plausibility": Mode.SUPERVISED,
    "confidence": Mode.REDUCED,
    "odd": Mode.SUPERVISED,
    "speed_cap": Mode.NORMAL,
    "kinematics": Mode.REDUCED,
    "rss": Mode.REDUCED,
    "ttc": Mode.REDUCED,
    "watchdog": Mode.FAIL_CLOSED,
    "deadline": Mode.SUPERVISED,
    "rule_error": Mode.FAIL_CLOSED,
}


@dataclass(frozen=True, slots=True)
class Geofence:
    """Polygons in the map frame (metres); the ego must be inside at least one."""

    polygons: tuple[tuple[tuple[float, float], ...], ...]
    _edges: tuple[tuple[tuple[float, float, float, float, float], ...], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # (x1, y1, dx, dy, 1/|d|²) per edge, so a cycle's check is arithmetic only.
        edges = tuple(
            tuple(
                (x1, y1, x2 - x1, y2 - y1, 1.0 / ((x2 - x1) ** 2 + (y2 - y1) ** 2 or 1.0))
                for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
            )
            for polygon in self.polygons
        )
        object.__setattr__(self, "_edges", edges)

    def margin(self, x: float, y: float) -> float:
        """Signed distance to the fence: positive inside a polygon, negative outside (metres)."""
        best = -math.inf
        for edges in self._edges:
            inside = False
            nearest = math.inf
            for x1, y1, dx, dy, inverse in edges:
                px, py = x - x1, y - y1
                if (y1 > y) != (y1 + dy > y) and px < py * dx / dy:  # ray casting
                    inside = not inside
                t = (px * dx + py * dy) * inverse
                t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
                ex, ey = px - t * dx, py - t * dy
                squared = ex * ex + ey * ey
                if squared < nearest:
                    nearest = squared
            distance = math.sqrt(nearest)
            best = max(best, distance if inside else -distance)
        return best


@dataclass(frozen=True, slots=True)
class OddLimits:
    """Where and when the model may drive."""

    geofence: Geofence
    road_types: frozenset[str]
    weather: frozenset[str]
    time_of_day: frozenset[str]
    max_speed: float


@dataclass(frozen=True, slots=True)
class Kinematics:
    """Limits on a proposed trajectory (SI units)."""

    max_accel: float
    max_decel: float
    max_lateral_accel: float
    max_jerk: float
    max_curvature: float
    max_steering_rate: float
    wheelbase: float


@dataclass(frozen=True, slots=True)
class Plausibility:
    """Range and rate limits on what the sensors report."""

    max_speed: float
    max_accel: float
    max_range: float
    max_speed_mismatch: float


@dataclass(frozen=True, slots=True)
class FallbackSettings:
    """The fallback ladder's parameters."""

    last_valid_max_age: float
    comfortable_decel: float
    minimal_risk_decel: float
    horizon: float


@dataclass(frozen=True, slots=True)
class DiscreteAction:
    """What a discrete action index means: a lane change (+1 left) and a target-speed step."""

    name: str
    lane_change: int = 0
    speed_delta: float = 0.0


@dataclass(frozen=True, slots=True)
class ActionSemantics:
    """The discrete action space, and which actions the fallback ladder may substitute."""

    actions: Mapping[int, DiscreteAction]
    hold: int
    comfortable_stop: int
    minimal_risk: int
    lateral_speed: float = 1.0


@dataclass(frozen=True, slots=True)
class Envelope:
    """Every limit the gate enforces. Build with :meth:`from_dict`; identify by :attr:`digest`."""

    name: str
    vehicle_length: float
    vehicle_width: float
    odd: OddLimits
    speed_caps: Mapping[Mode, float]
    speed_tolerance: float
    kinematics: Kinematics
    rss: RssParameters
    ttc_min: float
    min_confidence: float
    max_input_age: float
    max_objects: int
    plausibility: Plausibility
    heartbeat_timeout: float
    deadline: float
    deescalate_after: int
    escalation: Mapping[str, Mode]
    fallback: FallbackSettings
    actions: ActionSemantics | None
    document: Mapping[str, Any] = field(repr=False, compare=False)
    digest: Digest = field(compare=False)

    @classmethod
    def from_dict(cls, data: object) -> Envelope:
        """Validate a parsed envelope document; :class:`InvalidInput` names the bad field."""
        top = FieldReader(data, "")
        schema = top.text("schema")
        name = top.text("name")
        if schema != ENVELOPE_SCHEMA:
            raise top.error("schema", f"must be {ENVELOPE_SCHEMA!r}, found {schema!r}")
        vehicle = top.sub("vehicle")
        limits = _parse_limits(top)
        length = vehicle.number("length_m", positive=True)
        width = vehicle.number("width_m", positive=True)
        vehicle.done()
        actions = _actions(top.sub("actions")) if top.has("actions") else None
        top.done()
        assert isinstance(data, Mapping)
        canonical = canonical_json(data)
        return cls(
            name=name,
            vehicle_length=length,
            vehicle_width=width,
            actions=actions,
            document=json.loads(canonical),
            digest=Digest(hashlib.sha256(canonical).hexdigest()),
            **limits,
        )

    def to_dict(self) -> dict[str, Any]:
        """The document this envelope was parsed from (a deep copy)."""
        loaded: dict[str, Any] = json.loads(canonical_json(self.document))
        return loaded

    def cap(self, mode: Mode) -> float:
        """The speed cap in ``mode`` (m/s)."""
        return self.speed_caps[mode]


def canonical_json(data: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the bytes an envelope digest and signature cover."""
    try:
        return json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"envelope: cannot be written as JSON ({exc})",
            hint="use only mappings, lists, strings, finite numbers and booleans",
        ) from exc


def _parse_limits(top: FieldReader) -> dict[str, Any]:
    speed = top.sub("speed")
    caps = speed.sub("mode_caps_mps")
    speed_caps = {mode: caps.number(mode.name.lower(), minimum=0.0) for mode in Mode}
    caps.done()
    for looser, stricter in zip(Mode, list(Mode)[1:], strict=False):
        if speed_caps[stricter] > speed_caps[looser]:
            raise caps.error(
                stricter.name.lower(),
                f"must not exceed the {looser.name.lower()} cap: caps must not grow as the mode "
                "gets more restrictive",
            )
    tolerance = speed.number("tolerance_mps", 0.5, minimum=0.0)
    speed.done()
    checks = top.sub("inputs")
    watchdog = top.sub("watchdog")
    modes = top.sub("modes", required=False)
    limits: dict[str, Any] = {
        "odd": _odd(top.sub("odd")),
        "speed_caps": speed_caps,
        "speed_tolerance": tolerance,
        "kinematics": _kinematics(top.sub("kinematics")),
        "rss": _rss(top.sub("rss", required=False)),
        "ttc_min": _single(top, "ttc", "min_s", positive=True),
        "min_confidence": _single(top, "confidence", "min", minimum=0.0, maximum=1.0),
        "max_input_age": checks.number("max_age_s", positive=True),
        "max_objects": checks.integer("max_objects", 64, minimum=1),
        "plausibility": _plausibility(top.sub("plausibility")),
        "heartbeat_timeout": watchdog.number("heartbeat_timeout_s", positive=True),
        "deadline": watchdog.number("deadline_ms", positive=True) / 1000.0,
        "deescalate_after": modes.integer("deescalate_after_cycles", 25, minimum=1),
        "escalation": _escalation(modes),
        "fallback": _fallback(top.sub("fallback", required=False)),
    }
    for reader in (checks, watchdog, modes):
        reader.done()
    return limits


def _single(top: FieldReader, section: str, key: str, **bounds: Any) -> float:
    reader = top.sub(section)
    value = reader.number(key, **bounds)
    reader.done()
    return value


def _odd(reader: FieldReader) -> OddLimits:
    fence = reader.raw("geofence")
    if not isinstance(fence, list) or not fence:
        raise reader.error("geofence", "must be a non-empty list of polygons ([[x, y], …])")
    polygons = tuple(_polygon(reader, index, polygon) for index, polygon in enumerate(fence))
    limits = OddLimits(
        geofence=Geofence(polygons),
        road_types=reader.words("road_types"),
        weather=reader.words("weather"),
        time_of_day=reader.words("time_of_day"),
        max_speed=reader.number("max_speed_mps", positive=True),
    )
    reader.done()
    return limits


def _polygon(reader: FieldReader, index: int, polygon: object) -> tuple[tuple[float, float], ...]:
    where = f"geofence[{index}]"
    if not isinstance(polygon, list) or len(polygon) < 3:
        raise reader.error(where, "must list at least 3 [x, y] points")
    points: list[tuple[float, float]] = []
    for point in polygon:
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
        ):
            raise reader.error(where, f"has a point that is not [x, y]: {point!r}")
        points.append((float(point[0]), float(point[1])))
    area = sum(
        x1 * y2 - x2 * y1
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)
    )
    if abs(area) < 1e-9:
        raise reader.error(where, "has no area (points are collinear or repeated)")
    return tuple(points)


def _kinematics(reader: FieldReader) -> Kinematics:
    limits = Kinematics(
        max_accel=reader.number("max_accel_mps2", positive=True),
        max_decel=reader.number("max_decel_mps2", positive=True),
        max_lateral_accel=reader.number("max_lateral_accel_mps2", positive=True),
        max_jerk=reader.number("max_jerk_mps3", positive=True),
        max_curvature=reader.number("max_curvature_per_m", positive=True),
        max_steering_rate=reader.number("max_steering_rate_radps", positive=True),
        wheelbase=reader.number("wheelbase_m", positive=True),
    )
    reader.done()
    return limits


def _rss(reader: FieldReader) -> RssParameters:
    default = RssParameters()
    values = {
        "response_time_ego": reader.number("response_time_ego_s", default.response_time_ego),
        "response_time_other": reader.number("response_time_other_s", default.response_time_other),
        "accel_max": reader.number("accel_max_mps2", default.accel_max, minimum=0.0),
        "brake_min": reader.number("brake_min_mps2", default.brake_min, positive=True),
        "brake_max": reader.number("brake_max_mps2", default.brake_max, positive=True),
        "brake_min_correct": reader.number(
            "brake_min_correct_mps2", default.brake_min_correct, positive=True
        ),
        "lateral_brake_min": reader.number(
            "lateral_brake_min_mps2", default.lateral_brake_min, positive=True
        ),
        "lateral_accel_max": reader.number(
            "lateral_accel_max_mps2", default.lateral_accel_max, minimum=0.0
        ),
        "lateral_fluctuation_margin": reader.number(
            "lateral_fluctuation_margin_m", default.lateral_fluctuation_margin, minimum=0.0
        ),
    }
    reader.done()
    try:
        return RssParameters(**values)
    except ValueError as exc:
        message = str(exc)
        # Name the document's keys, not the Python fields (longest names first: no partials).
        for name in sorted(_RSS_KEYS, key=len, reverse=True):
            message = re.sub(rf"\b{name}\b", f"rss.{_RSS_KEYS[name]}", message)
        raise InvalidInput(
            f"envelope: {message}",
            hint="braking must satisfy brake_max >= brake_min >= brake_min_correct "
            "(see docs/envelope.md)",
        ) from None


def _plausibility(reader: FieldReader) -> Plausibility:
    limits = Plausibility(
        max_speed=reader.number("max_speed_mps", positive=True),
        max_accel=reader.number("max_accel_mps2", positive=True),
        max_range=reader.number("max_range_m", 300.0, positive=True),
        max_speed_mismatch=reader.number("max_speed_mismatch_mps", positive=True),
    )
    reader.done()
    return limits


def _escalation(modes: FieldReader) -> dict[str, Mode]:
    escalation = dict(_DEFAULT_ESCALATION)
    if not modes.has("escalate"):
        return escalation
    reader = modes.sub("escalate")
    for rule in escalation:
        if reader.has(rule):
            value = reader.text(rule)
            try:
                escalation[rule] = Mode.parse(value)
            except ValueError as exc:
                raise reader.error(rule, str(exc)) from None
    reader.done()
    return escalation


def _fallback(reader: FieldReader) -> FallbackSettings:
    settings = FallbackSettings(
        last_valid_max_age=reader.number("last_valid_max_age_s", 1.0, positive=True),
        comfortable_decel=reader.number("comfortable_decel_mps2", 2.0, positive=True),
        minimal_risk_decel=reader.number("minimal_risk_decel_mps2", 4.0, positive=True),
        horizon=reader.number("horizon_s", 3.0, positive=True),
    )
    reader.done()
    return settings


def _actions(reader: FieldReader) -> ActionSemantics:
    table = reader.raw("table")
    if not isinstance(table, Mapping) or not table:
        raise reader.error("table", "must map action indices to {name, lane_change, speed_delta}")
    actions: dict[int, DiscreteAction] = {}
    for key in table:
        index = int(key) if isinstance(key, int | str) and str(key).isdigit() else None
        if index is None:
            raise reader.error("table", f"has a key that is not an action index: {key!r}")
        entry = FieldReader(table[key], reader.path(f"table.{key}"))
        actions[index] = DiscreteAction(
            name=entry.text("name"),
            lane_change=_lane_change(entry),
            speed_delta=entry.number("speed_delta_mps", 0.0),
        )
        entry.done()
    semantics = ActionSemantics(
        actions=actions,
        hold=reader.integer("hold"),
        comfortable_stop=reader.integer("comfortable_stop"),
        minimal_risk=reader.integer("minimal_risk"),
        lateral_speed=reader.number("lateral_speed_mps", 1.0, positive=True),
    )
    for role in ("hold", "comfortable_stop", "minimal_risk"):
        chosen = getattr(semantics, role)
        if chosen not in actions:
            raise reader.error(role, f"names action {chosen}, which the table does not define")
    reader.done()
    return semantics


def _lane_change(entry: FieldReader) -> int:
    value = entry.number("lane_change", 0, minimum=-1, maximum=1)
    if not value.is_integer():
        raise entry.error("lane_change", f"must be -1, 0 or 1, found {value!r}")
    return int(value)


_RSS_KEYS = {
    "response_time_ego": "response_time_ego_s",
    "response_time_other": "response_time_other_s",
    "accel_max": "accel_max_mps2",
    "brake_min_correct": "brake_min_correct_mps2",
    "brake_min": "brake_min_mps2",
    "brake_max": "brake_max_mps2",
    "lateral_brake_min": "lateral_brake_min_mps2",
    "lateral_accel_max": "lateral_accel_max_mps2",
    "lateral_fluctuation_margin": "lateral_fluctuation_margin_m",
}


def example_envelope() -> dict[str, Any]:
    """A complete envelope for a highway pilot, as a parsed document (used by docs and tests)."""
    return {
        "schema": ENVELOPE_SCHEMA,
        "name": "highway-pilot",
        "vehicle": {"length_m": 5.0, "width_m": 2.0},
        "odd": {
            "geofence": [[[-100.0, -50.0], [5000.0, -50.0], [5000.0, 50.0], [-100.0, 50.0]]],
            "road_types": ["motorway"],
            "weather": ["clear", "rain"],
            "time_of_day": ["day", "night"],
            "max_speed_mps": 30.0,
        },
        "speed": {
            "mode_caps_mps": {
                "normal": 30.0,
                "reduced": 20.0,
                "supervised": 12.0,
                "fail_closed": 0,
            },
            "tolerance_mps": 0.5,
        },
        "kinematics": {
            "max_accel_mps2": 3.0,
            "max_decel_mps2": 8.0,
            "max_lateral_accel_mps2": 3.0,
            "max_jerk_mps3": 15.0,
            "max_curvature_per_m": 0.2,
            "max_steering_rate_radps": 0.7,
            "wheelbase_m": 2.8,
        },
        "rss": {},
        "ttc": {"min_s": 2.0},
        "confidence": {"min": 0.4},
        "inputs": {"max_age_s": 0.3, "max_objects": 64},
        "plausibility": {
            "max_speed_mps": 70.0,
            "max_accel_mps2": 12.0,
            "max_range_m": 300.0,
            "max_speed_mismatch_mps": 3.0,
        },
        "watchdog": {"heartbeat_timeout_s": 0.5, "deadline_ms": 5.0},
        "modes": {"deescalate_after_cycles": 10},
        "fallback": {"last_valid_max_age_s": 1.0, "comfortable_decel_mps2": 2.0},
        "actions": {
            "table": {
                "0": {"name": "LANE_LEFT", "lane_change": 1},
                "1": {"name": "IDLE"},
                "2": {"name": "LANE_RIGHT", "lane_change": -1},
                "3": {"name": "FASTER", "speed_delta_mps": 3.0},
                "4": {"name": "SLOWER", "speed_delta_mps": -3.0},
            },
            "hold": 1,
            "comfortable_stop": 4,
            "minimal_risk": 4,
        },
    }
