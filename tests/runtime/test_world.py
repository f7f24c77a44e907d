"""World states and proposals: parsed from JSON shapes, frozen, and every error names its field."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from modelsteward.errors import InvalidInput
from modelsteward.runtime.world import (
    OBJECT_COLUMNS,
    Objects,
    Proposal,
    Trajectory,
    WorldState,
    example_proposal,
    example_world,
)

_DELETE = object()


def _changed(document: dict[str, Any], dotted: str, value: object) -> dict[str, Any]:
    """A copy of ``document`` with the value at ``a.b.0.c`` replaced (or deleted)."""
    changed = copy.deepcopy(document)
    *parents, last = dotted.split(".")
    target: Any = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    index: int | str = int(last) if isinstance(target, list) else last
    if value is _DELETE:
        del target[index]
    else:
        target[index] = value
    return changed


def test_the_example_world_parses_with_object_defaults() -> None:
    world = WorldState.from_dict(example_world())
    assert world.t == 10.0
    assert world.ego.speed == 25.0
    assert world.objects.count == 1
    assert world.objects.data.tolist() == [[120.0, 0.0, 25.0, 0.0, 5.0, 2.0, 0.0, 0.0]]
    assert world.context.lane_width == 4.0
    assert world.poses is not None
    assert world.poses.shape == (2, 3)


def test_a_world_without_objects_has_an_empty_eight_column_array() -> None:
    document = _changed(example_world(), "objects", [])
    world = WorldState.from_dict(document)
    assert world.objects.count == 0
    assert world.objects.data.shape == (0, len(OBJECT_COLUMNS))


def test_a_world_round_trips_through_its_json_shape() -> None:
    document = example_world()
    document["objects"].append(
        {"id": "truck-7", "s": -12.5, "d": 4.0, "v_lon": 22.0, "v_lat": -0.25, "lane": 1}
    )
    world = WorldState.from_dict(document)
    again = WorldState.from_dict(world.to_dict())
    assert again.to_dict() == world.to_dict()
    np.testing.assert_array_equal(again.objects.data, world.objects.data)
    assert again.ego == world.ego
    assert again.context == world.context


def test_a_trajectory_proposal_round_trips_through_its_json_shape() -> None:
    points = [[0.5, 12.5, 0.0, 25.0], [1.0, 25.0, 0.25, 25.0], [1.5, 37.5, 0.5, 25.0]]
    proposal = Proposal.from_dict({"t": 10.0, "confidence": 0.75, "trajectory": points})
    assert proposal.action is None
    assert proposal.trajectory is not None
    assert proposal.trajectory.points() == points
    assert Proposal.from_dict(proposal.to_dict()).to_dict() == proposal.to_dict()


def test_a_discrete_proposal_round_trips_with_its_trace() -> None:
    proposal = Proposal.from_dict(example_proposal(action=3))
    assert proposal.to_dict() == {
        "t": 10.0,
        "confidence": 0.9,
        "action": 3,
        "trajectory": None,
        "trace": "keep lane",
    }
    assert Proposal.from_dict(proposal.to_dict()) == proposal


def test_input_arrays_are_read_only() -> None:
    world = WorldState.from_dict(example_world())
    proposal = Proposal.from_dict(
        {"t": 10.0, "confidence": 0.9, "trajectory": [[0.5, 1, 0, 2], [1, 2, 0, 2], [2, 4, 0, 2]]}
    )
    assert proposal.trajectory is not None
    assert world.poses is not None
    for array in (world.objects.data, world.poses, proposal.trajectory.t, proposal.trajectory.v):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0


def test_objects_from_rows_and_trajectory_from_points_keep_the_column_order() -> None:
    objects = Objects.from_rows([[1, 2, 3, 4, 5, 6, 7, 8]])
    assert dict(zip(OBJECT_COLUMNS, objects.data[0].tolist(), strict=True))["lane"] == 7.0
    path = Trajectory.from_points([[0.5, 1.0, 2.0, 3.0], [1.0, 4.0, 5.0, 6.0]])
    assert path.t.tolist() == [0.5, 1.0]
    assert path.y.tolist() == [2.0, 5.0]
    assert path.v.tolist() == [3.0, 6.0]


@pytest.mark.parametrize(
    ("dotted", "value", "named"),
    [
        ("t", _DELETE, "world.t is required"),
        ("t", "ten", "world.t must be a number"),
        ("t", True, "world.t must be a number"),
        ("t", 10**400, "world.t is too large"),
        ("ego", _DELETE, "world.ego must be a mapping"),
        ("ego", [1, 2], "world.ego must be a mapping"),
        ("ego.speed", _DELETE, "world.ego.speed is required"),
        ("ego.heading", "north", "world.ego.heading must be a number"),
        ("ego.x", 10**400, "world.ego.x is too large"),
        ("context", _DELETE, "world.context must be a mapping"),
        ("context.road_type", "", "world.context.road_type must be a non-empty string"),
        ("context.weather", 3, "world.context.weather must be a non-empty string"),
        ("context.time_of_day", _DELETE, "world.context.time_of_day must be a non-empty"),
        ("context.speed_limit_mps", None, "world.context.speed_limit_mps is required"),
        ("context.lane_width_m", "wide", "world.context.lane_width_m must be a number"),
        ("objects", {"s": 1}, "world.objects must be a list"),
        ("objects.0", 5, "world.objects[0] must be a mapping"),
        ("objects.0.s", _DELETE, "world.objects[0].s is required"),
        ("objects.0.v_lon", "fast", "world.objects[0].v_lon must be a number"),
        ("objects.0.colour", "red", "world.objects[0].colour is not a known field"),
        ("objects.0.lane", 10**400, "world.objects[0].lane is too large"),
        ("poses", [[1.0, 2.0]], "world.poses must be a list of rows of 3 numbers"),
        ("poses", [[1.0, 2.0, "x"]], "world.poses must contain numbers only"),
        ("poses", [[1.0, 2.0, False]], "world.poses must contain numbers only"),
        ("poses", [[1.0, 2.0, 10**400]], "world.poses has a number too large"),
        ("poses", {"t": 1}, "world.poses must be a list of rows"),
    ],
)
def test_a_bad_world_field_is_named(dotted: str, value: object, named: str) -> None:
    with pytest.raises(InvalidInput, match=named.replace("[", r"\[").replace("]", r"\]")):
        WorldState.from_dict(_changed(example_world(), dotted, value))


def test_an_object_with_keys_of_mixed_types_is_refused_naming_one() -> None:
    document = example_world()
    document["objects"][0][7] = 1.0  # not JSON, but an embedding may hand the gate any mapping
    document["objects"][0]["zz"] = 1.0
    with pytest.raises(InvalidInput, match=r"world\.objects\[0\]\.7 is not a known field"):
        WorldState.from_dict(document)


def test_a_world_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput, match="world must be a mapping"):
        WorldState.from_dict([example_world()])


@pytest.mark.parametrize(
    ("dotted", "value", "named"),
    [
        ("t", _DELETE, "proposal.t is required"),
        ("t", 10**400, "proposal.t is too large"),
        ("confidence", _DELETE, "proposal.confidence is required"),
        ("confidence", "high", "proposal.confidence must be a number"),
        ("action", True, "proposal.action must be a whole number"),
        ("action", 1.0, "proposal.action must be a whole number"),
        ("trajectory", [[0.5, 1.0, 0.0]], "proposal.trajectory must be a list of rows of 4"),
        ("trajectory", "straight", "proposal.trajectory must be a list of rows of 4"),
        ("trajectory", [[0.5, 1.0, 0.0, None]], "proposal.trajectory must contain numbers only"),
        ("trajectory", [[0.5, 1.0, 0.0, 10**400]], "proposal.trajectory has a number too large"),
        ("trace", 42, "proposal.trace must be a string"),
    ],
)
def test_a_bad_proposal_field_is_named(dotted: str, value: object, named: str) -> None:
    with pytest.raises(InvalidInput, match=named):
        Proposal.from_dict(_changed(example_proposal(), dotted, value))


def test_a_proposal_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(InvalidInput, match="proposal must be a mapping"):
        Proposal.from_dict("accelerate")


def test_parse_errors_carry_a_hint_to_the_input_format() -> None:
    with pytest.raises(InvalidInput) as caught:
        WorldState.from_dict({})
    assert "docs/runtime.md" in (caught.value.hint or "")
