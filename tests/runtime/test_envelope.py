"""Envelope documents: the example is valid, every bad value is refused naming its field."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.runtime.envelope import Envelope, Geofence, example_envelope
from modelsteward.runtime.modes import Mode

_DELETE = object()


def _with(path: str, value: object) -> dict[str, Any]:
    """The example envelope with the value at dotted ``path`` replaced (or deleted)."""
    document = copy.deepcopy(example_envelope())
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return document


def _reversed(value: Any) -> Any:
    """The same document with every mapping's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def test_the_example_envelope_is_valid() -> None:
    envelope = Envelope.from_dict(example_envelope())
    assert envelope.name == "highway-pilot"
    assert [envelope.cap(mode) for mode in Mode] == [30.0, 20.0, 12.0, 0.0]
    assert envelope.deadline == pytest.approx(0.005)
    assert envelope.actions is not None
    assert envelope.actions.actions[4].speed_delta == -3.0
    assert str(envelope.digest).startswith("sha256:")


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("schema", "steward.envelope/v0", "schema"),
        ("name", "", "name"),
        ("vehicle.length_m", 0, "vehicle.length_m"),
        ("vehicle.width_m", "2", "vehicle.width_m"),
        ("odd", "motorway", "odd"),
        ("odd.geofence", [], "odd.geofence"),
        ("odd.geofence", [[[0, 0], [1, 1]]], "odd.geofence[0]"),
        ("odd.geofence", [[[0, 0], [1, 1], [2, 2]]], "odd.geofence[0]"),
        ("odd.geofence", [[[0, 0], [1, 0], [1]]], "odd.geofence[0]"),
        ("odd.road_types", ["motorway", "motorway"], "odd.road_types"),
        ("odd.max_speed_mps", -1, "odd.max_speed_mps"),
        ("odd.speed_limit_mps", 3, "odd.speed_limit_mps"),
        ("speed.mode_caps_mps.normal", _DELETE, "speed.mode_caps_mps.normal"),
        ("speed.tolerance_mps", -0.1, "speed.tolerance_mps"),
        ("kinematics.max_jerk_mps3", float("nan"), "kinematics.max_jerk_mps3"),
        ("kinematics.max_accel_mps2", True, "kinematics.max_accel_mps2"),
        ("kinematics.wheelbase_m", _DELETE, "kinematics.wheelbase_m"),
        ("rss", {"brake_min_mps2": 9.0}, "brake_min"),
        ("rss", {"brake_min_correct_mps2": 5.0}, "brake_min_correct"),
        ("rss", {"response_time_ego_s": -1}, "response_time_ego"),
        ("rss", {"brake_max": 8.0}, "rss.brake_max"),
        ("ttc.min_s", 0, "ttc.min_s"),
        ("confidence.min", 1.5, "confidence.min"),
        ("inputs", _DELETE, "inputs"),
        ("inputs.max_objects", 0, "inputs.max_objects"),
        ("inputs.max_objects", 2.5, "inputs.max_objects"),
        ("plausibility.max_range_m", 0, "plausibility.max_range_m"),
        ("watchdog.deadline_ms", 0, "watchdog.deadline_ms"),
        ("modes.deescalate_after_cycles", 0, "modes.deescalate_after_cycles"),
        ("modes.escalate", {"odd": "panic"}, "modes.escalate.odd"),
        ("modes.escalate", {"oddd": "reduced"}, "modes.escalate.oddd"),
        ("fallback.horizon_s", 0, "fallback.horizon_s"),
        ("actions.hold", 9, "actions.hold"),
        ("actions.table", {"x": {"name": "A"}}, "actions.table"),
        ("actions.table.0.lane_change", 2, "actions.table.0.lane_change"),
        ("extra_section", {}, "extra_section"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(path: str, value: object, named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(named)):
        Envelope.from_dict(_with(path, value))


@pytest.mark.parametrize("document", [None, [], "envelope", 3])
def test_a_document_that_is_not_a_mapping_is_refused(document: object) -> None:
    with pytest.raises(InvalidInput, match="must be a mapping"):
        Envelope.from_dict(document)


@pytest.mark.parametrize(
    "caps",
    [
        {"normal": 20.0, "reduced": 25.0, "supervised": 12.0, "fail_closed": 0},
        {"normal": 30.0, "reduced": 20.0, "supervised": 21.0, "fail_closed": 0},
        {"normal": 30.0, "reduced": 20.0, "supervised": 12.0, "fail_closed": 13.0},
    ],
)
def test_speed_caps_that_grow_with_a_more_restrictive_mode_are_refused(
    caps: dict[str, float],
) -> None:
    with pytest.raises(InvalidInput, match=r"speed\.mode_caps_mps.*must not grow"):
        Envelope.from_dict(_with("speed.mode_caps_mps", caps))


def test_equal_caps_across_modes_are_allowed() -> None:
    caps = {"normal": 10.0, "reduced": 10.0, "supervised": 10.0, "fail_closed": 0}
    assert Envelope.from_dict(_with("speed.mode_caps_mps", caps)).cap(Mode.SUPERVISED) == 10.0


def test_defaults_fill_optional_sections() -> None:
    document = example_envelope()
    for optional in ("rss", "modes", "fallback", "actions"):
        del document[optional]
    envelope = Envelope.from_dict(document)
    assert envelope.deescalate_after == 25
    assert envelope.escalation["watchdog"] is Mode.FAIL_CLOSED
    assert envelope.fallback.horizon == 3.0
    assert envelope.actions is None


def test_escalation_overrides_only_the_named_rules() -> None:
    envelope = Envelope.from_dict(_with("modes.escalate", {"confidence": "supervised"}))
    assert envelope.escalation["confidence"] is Mode.SUPERVISED
    assert envelope.escalation["odd"] is Mode.SUPERVISED
    assert envelope.escalation["speed_cap"] is Mode.NORMAL


SQUARE = Geofence((((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)),))


@pytest.mark.parametrize(
    ("x", "y", "margin"),
    [
        (5.0, 5.0, 5.0),
        (1.0, 5.0, 1.0),
        (15.0, 5.0, -5.0),
        (-3.0, -4.0, -5.0),
    ],
)
def test_geofence_margin_is_positive_inside_and_negative_outside(
    x: float, y: float, margin: float
) -> None:
    assert SQUARE.margin(x, y) == pytest.approx(margin)


@pytest.mark.parametrize(("x", "y"), [(10.0, 5.0), (5.0, 0.0), (0.0, 0.0), (10.0, 10.0)])
def test_geofence_margin_is_zero_on_the_edge(x: float, y: float) -> None:
    assert SQUARE.margin(x, y) == pytest.approx(0.0, abs=1e-9)


def test_geofence_margin_takes_the_best_polygon() -> None:
    fence = Geofence(
        (
            ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)),
            ((20.0, 0.0), (40.0, 0.0), (40.0, 20.0), (20.0, 20.0)),
        )
    )
    assert fence.margin(30.0, 10.0) == pytest.approx(10.0)
    assert fence.margin(15.0, 5.0) == pytest.approx(-5.0)


def test_digest_is_stable_under_key_order() -> None:
    document = example_envelope()
    shuffled = _reversed(document)
    assert list(shuffled) != list(document)
    assert Envelope.from_dict(shuffled).digest == Envelope.from_dict(document).digest


def test_digest_survives_a_round_trip_and_changes_with_any_value() -> None:
    envelope = Envelope.from_dict(example_envelope())
    assert Envelope.from_dict(envelope.to_dict()).digest == envelope.digest
    assert Envelope.from_dict(json.loads(json.dumps(envelope.to_dict()))).digest == envelope.digest
    changed = Envelope.from_dict(_with("ttc.min_s", 2.5))
    assert changed.digest != envelope.digest


def test_integer_action_keys_from_yaml_give_the_same_digest() -> None:
    document = example_envelope()
    yaml_like = copy.deepcopy(document)
    yaml_like["actions"]["table"] = {int(k): v for k, v in document["actions"]["table"].items()}
    assert Envelope.from_dict(yaml_like).digest == Envelope.from_dict(document).digest
