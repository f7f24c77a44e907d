"""The ODD file: parsing with errors that name file, section and attribute; membership; cells."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from modelsteward.errors import InvalidInput
from modelsteward.odd.spec import MAX_CELLS, Cell, Enumeration, NumericRange, OddSpec
from odd_factories import HIGHWAY_ODD, SCENARIO, write_odd

WEATHER = "environment.weather"
SPEED = "dynamic_elements.ego_speed_mps"
ROAD = "scenery.road_type"


@pytest.fixture
def odd(tmp_path: Path) -> OddSpec:
    return OddSpec.from_path(write_odd(tmp_path))


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(HIGHWAY_ODD)
    return data


def _tags(**changes: Any) -> dict[str, Any]:
    return {**SCENARIO["odd"], **changes}


# --- parsing -------------------------------------------------------------------------------


def test_the_draft_odd_parses_into_three_groups(odd: OddSpec) -> None:
    groups = {g: [a.key for a in attrs] for g, attrs in odd.groups.items()}
    assert groups["environment"] == [WEATHER, "environment.time_of_day"]
    assert len(odd.attributes) == 9
    speed = odd.attribute(SPEED)
    assert isinstance(speed, NumericRange)
    assert speed.labels == ("0–20", "20–30", "30–36")
    assert speed.unit == "m/s"
    assert isinstance(odd.attribute("scenery.lanes"), Enumeration)


def test_bins_get_min_and_max_as_outer_edges() -> None:
    raw = {"odd": "x", "dynamic_elements": {"v": {"range": {"min": 0, "max": 40}, "bins": [10]}}}
    attribute = OddSpec.from_mapping(raw).attribute("dynamic_elements.v")
    assert attribute.labels == ("0–10", "10–40")


def test_a_range_without_bins_is_one_cell() -> None:
    raw = {"odd": "x", "dynamic_elements": {"v": {"range": {"min": 0.5, "max": 2.5}}}}
    assert [c.label for c in OddSpec.from_mapping(raw).cells()] == ["dynamic_elements.v=0.5–2.5"]


def _broken(path: list[str | int], value: Any) -> dict[str, Any]:
    raw = _raw()
    target: Any = raw
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


_DELETE = object()

BROKEN = [
    pytest.param(["weather"], {"rain": {"values": [1]}}, "unknown group 'weather'", id="group"),
    pytest.param(
        ["environment", "weather", "values"], [], "environment.weather.values", id="empty"
    ),
    pytest.param(
        ["dynamic_elements", "ego_speed_mps", "range"],
        {"min": 40, "max": 36},
        "dynamic_elements.ego_speed_mps.range: min (40) must be below max (36)",
        id="min-above-max",
    ),
    pytest.param(
        ["dynamic_elements", "ego_speed_mps", "bins"],
        [0, 20, 50],
        "dynamic_elements.ego_speed_mps.bins: edge 50 is outside the range 0–36",
        id="bins-outside",
    ),
    pytest.param(
        ["dynamic_elements", "ego_speed_mps", "bins"],
        [0, 30, 20],
        "dynamic_elements.ego_speed_mps.bins must be strictly increasing",
        id="bins-order",
    ),
    pytest.param(
        ["exclude", 0],
        {"environment.snow": "yes"},
        "exclude[0]: unknown attribute 'environment.snow'",
        id="condition-attribute",
    ),
    pytest.param(
        ["exclude", 0],
        {WEATHER: "snow"},
        "exclude[0]: environment.weather: 'snow' is not a value of environment.weather",
        id="condition-value",
    ),
    pytest.param(
        ["conditional", 0, "then"],
        {SPEED: {"max": 50}},
        "conditional[0].then: dynamic_elements.ego_speed_mps: 50 is outside the range 0–36",
        id="condition-outside-range",
    ),
    pytest.param(
        ["conditional", 0],
        {"when": {WEATHER: "rain"}},
        "conditional[0] must have exactly the keys when and then",
        id="conditional-keys",
    ),
    pytest.param(
        ["environment", "weather"],
        {"values": ["clear"], "range": {"min": 0, "max": 1}},
        "environment.weather needs exactly one of values or range",
        id="values-and-range",
    ),
    pytest.param(
        ["environment", "weather"],
        {"valuse": ["clear"]},
        "environment.weather: unknown key 'valuse'",
        id="attribute-key",
    ),
    pytest.param(
        ["environment", "weather", "values"],
        ["clear", "Clear"],
        "environment.weather.values lists 'Clear' twice",
        id="duplicate-value",
    ),
    pytest.param(
        ["environment", "street_lights"],
        {"values": [True, False]},
        "environment.street_lights.values: True is read as a boolean",
        id="boolean",
    ),
    pytest.param(
        ["environment", "weather", "bins"], [1], "environment.weather.bins needs a range", id="bins"
    ),
    pytest.param(["include"], [], "include must be a non-empty list", id="empty-include"),
    pytest.param(
        ["scenery", "Road"], {"values": ["x"]}, "scenery: attribute name 'Road'", id="name"
    ),
    pytest.param(["odd"], "", "odd (the ODD's name) must be a non-empty string", id="no-name"),
    pytest.param(
        ["odd"], _DELETE, "odd (the ODD's name) must be a non-empty string", id="name-missing"
    ),
    pytest.param(["version"], 0, "version must be a whole number", id="version"),
]


@pytest.mark.parametrize(("path", "value", "message"), BROKEN)
def test_malformed_odd_names_file_section_and_attribute(
    tmp_path: Path, path: list[str | int], value: Any, message: str
) -> None:
    file = write_odd(tmp_path, yaml.safe_dump(_broken(path, value), sort_keys=False))
    with pytest.raises(InvalidInput) as caught:
        OddSpec.from_path(file)
    assert caught.value.message.startswith(f"{file}: ")
    assert message in caught.value.message
    assert caught.value.exit_code == 3


def test_unknown_attribute_names_file_and_key(tmp_path: Path) -> None:
    raw = _broken(["exclude", 0], {"environment.wether": "fog"})
    file = write_odd(tmp_path, yaml.safe_dump(raw))
    with pytest.raises(InvalidInput, match="unknown attribute 'environment.wether'") as caught:
        OddSpec.from_path(file)
    assert str(file) in caught.value.message
    assert caught.value.hint == "did you mean 'environment.weather'?"


def test_unknown_group_suggests_the_nearest(tmp_path: Path) -> None:
    raw = {**_raw(), "dynamic_element": {}}
    with pytest.raises(InvalidInput, match="unknown group 'dynamic_element'") as caught:
        OddSpec.from_mapping(raw, origin="odd.yaml")
    assert "dynamic_elements" in caught.value.hint


def test_an_odd_without_attributes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="lists no attributes"):
        OddSpec.from_mapping({"odd": "empty", "scenery": {}})


def test_a_repeated_yaml_key_is_refused(tmp_path: Path) -> None:
    file = write_odd(tmp_path, HIGHWAY_ODD + "exclude: []\n")
    with pytest.raises(InvalidInput, match="key 'exclude' appears twice"):
        OddSpec.from_path(file)


@pytest.mark.parametrize(
    ("text", "message"),
    [("scenery: [unclosed\n", "not valid YAML"), ("- a list\n", "an ODD file is a mapping")],
)
def test_a_file_that_is_not_an_odd_mapping_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        OddSpec.from_path(write_odd(tmp_path, text))


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        OddSpec.from_path(tmp_path / "nope.yaml")


# --- tags and membership ----------------------------------------------------------------------


def test_the_draft_scenario_tags_are_valid_and_inside(odd: OddSpec) -> None:
    assert odd.check_tags(_tags()) == []
    assert odd.contains(_tags())


def test_fog_excluded_cell_is_outside_the_odd(odd: OddSpec) -> None:
    assert not odd.contains(_tags(**{WEATHER: "fog"}))
    assert odd.outside_reasons(_tags(**{WEATHER: "fog"})) == [
        "excluded by exclude[0]: environment.weather = fog"
    ]
    cells = odd.cells([WEATHER])
    assert Cell(((WEATHER, "fog"),)) not in cells
    assert [c.label for c in cells] == ["environment.weather=clear", "environment.weather=rain"]


def test_include_keeps_urban_roads_out(odd: OddSpec) -> None:
    assert not odd.contains(_tags(**{ROAD: "urban"}))
    assert [c.to_dict()[ROAD] for c in odd.cells([ROAD])] == ["motorway", "rural"]


def test_rain_caps_the_speed(odd: OddSpec) -> None:
    assert odd.contains(_tags(**{WEATHER: "rain", SPEED: 25}))
    assert not odd.contains(_tags(**{WEATHER: "rain", SPEED: 25.5}))
    reasons = odd.outside_reasons(_tags(**{WEATHER: "rain", SPEED: 28}))
    assert reasons == [
        "conditional[0]: when environment.weather = rain, "
        "dynamic_elements.ego_speed_mps ≤ 25 is required"
    ]
    labels = [c.label for c in odd.cells([WEATHER, SPEED])]
    assert "environment.weather=rain, dynamic_elements.ego_speed_mps=20–30" in labels
    assert "environment.weather=rain, dynamic_elements.ego_speed_mps=30–36" not in labels
    assert len(labels) == 5


def test_an_untagged_attribute_an_exclusion_depends_on_is_not_inside(odd: OddSpec) -> None:
    tags = _tags()
    del tags[WEATHER]
    assert not odd.contains(tags)
    assert odd.outside_reasons(tags)[0].endswith("(environment.weather not tagged)")
    del tags["scenery.lanes"]  # no rule mentions lanes: leaving it out changes nothing
    tags[WEATHER] = "clear"
    assert odd.contains(tags)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("environment.snow", "heavy", "unknown ODD attribute 'environment.snow'"),
        (WEATHER, "snow", "environment.weather: 'snow' is not one of clear, rain, fog"),
        (SPEED, 40, "dynamic_elements.ego_speed_mps: 40 is outside the range 0–36"),
        (SPEED, "fast", "dynamic_elements.ego_speed_mps: expected a number, not 'fast'"),
        (WEATHER, True, "environment.weather: expected a string or a number, not True"),
        (WEATHER, [], "environment.weather: the list of values is empty"),
        (WEATHER, {"min": 0, "max": 1}, "environment.weather: a {min, max} range is only for"),
        (SPEED, {"min": 5}, "dynamic_elements.ego_speed_mps: a range is {min: number, max: nu"),
        (SPEED, {"min": 20, "max": 10}, "dynamic_elements.ego_speed_mps: min (20) is above"),
    ],
)
def test_bad_tags_are_named_and_never_inside(
    odd: OddSpec, key: str, value: Any, problem: str
) -> None:
    tags = _tags(**{key: value})
    problems = odd.check_tags(tags)
    assert len(problems) == 1
    assert problems[0].startswith(problem)
    assert not odd.contains(tags)


def test_tags_match_values_case_and_type_insensitively(odd: OddSpec) -> None:
    assert odd.check_tags({WEATHER: " Clear ", "scenery.lanes": "3", SPEED: 28.0}) == []


def test_dataset_tags_may_list_values_and_ranges(odd: OddSpec) -> None:
    dataset = {WEATHER: ["clear", "rain"], SPEED: {"min": 3, "max": 35}, ROAD: "motorway"}
    assert odd.check_tags(dataset) == []
    assert not odd.contains(dataset)  # rain at 30 m/s is outside
    touched = odd.cells_touched(dataset, [WEATHER, SPEED])
    assert [c.label for c in touched] == [c.label for c in odd.cells([WEATHER, SPEED])]
    assert odd.cells_touched({WEATHER: "clear"}, [WEATHER, SPEED]) == []


# --- cells --------------------------------------------------------------------------------------


def test_cell_of_bins_a_range_value(odd: OddSpec) -> None:
    dims = [WEATHER, SPEED]
    labels = {v: odd.cell_of({WEATHER: "clear", SPEED: v}, dims) for v in (0, 19.9, 20, 36)}
    assert {v: c.to_dict()[SPEED] for v, c in labels.items() if c} == {
        0: "0–20",
        19.9: "0–20",
        20: "20–30",
        36: "30–36",
    }
    assert odd.cell_of({WEATHER: "clear"}, dims) is None
    assert odd.cell_of({WEATHER: "clear", SPEED: 37}, dims) is None


def test_all_cells_leave_out_urban_fog_and_fast_rain(odd: OddSpec) -> None:
    assert odd.combinations() == 3 * 3 * 2 * 3 * 2 * 3 * 3 * 3 * 3
    others = 3 * 2 * 2 * 3 * 3 * 3  # lanes, merge, time of day, density, lead vehicle, cut-in
    assert len(odd.cells()) == 2 * others * (3 + 2)  # roads × (clear × 3 bins + rain × 2 bins)


def test_too_many_cells_suggest_dimensions() -> None:
    many = {f"a{i}": {"values": list(range(10))} for i in range(6)}
    odd = OddSpec.from_mapping({"odd": "huge", "scenery": many}, origin="huge.yaml")
    assert odd.combinations() == 10**6 > MAX_CELLS
    with pytest.raises(InvalidInput, match="1,000,000 cells over 6 attributes") as caught:
        odd.cells()
    assert "--dimensions" in caught.value.hint
    assert len(odd.cells(["scenery.a0", "scenery.a1"])) == 100


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (["environment.wether"], "unknown ODD attribute 'environment.wether'"),
        ([WEATHER, WEATHER], "listed twice"),
        ([], "at least one"),
    ],
)
def test_bad_dimensions_are_refused(odd: OddSpec, dimensions: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        odd.cells(dimensions)


# --- identity -----------------------------------------------------------------------------------


def test_digest_ignores_formatting_and_follows_content(tmp_path: Path) -> None:
    first = OddSpec.from_path(write_odd(tmp_path, HIGHWAY_ODD, "a.yaml"))
    reformatted = yaml.safe_dump(_raw(), default_flow_style=False, sort_keys=True)
    second = OddSpec.from_path(
        write_odd(tmp_path, reformatted.replace("max: 36", "max: 36.0"), "b.yaml")
    )
    assert first.digest == second.digest  # attribute order within a group is presentation
    changed = HIGHWAY_ODD.replace("{max: 25}", "{max: 24}")
    assert OddSpec.from_path(write_odd(tmp_path, changed, "c.yaml")).digest != first.digest


def test_to_dict_round_trips(odd: OddSpec) -> None:
    again = OddSpec.from_mapping(odd.to_dict())
    assert again.digest == odd.digest
    assert again.to_dict()["exclude"] == [{WEATHER: ["fog"]}]


# --- properties against a brute-force oracle -----------------------------------------------------

_ROADS = ["motorway", "rural", "urban"]
_WEATHERS = ["clear", "rain", "fog", "snow"]
_GRID = [i / 2 for i in range(73)]  # 0 … 36 by halves: every integer bound and every gap between


@st.composite
def _clauses(draw: st.DrawFn) -> dict[str, Any]:
    clause: dict[str, Any] = {}
    if draw(st.booleans()):
        clause[ROAD] = draw(st.lists(st.sampled_from(_ROADS), min_size=1, unique=True))
    if draw(st.booleans()):
        clause[WEATHER] = draw(st.lists(st.sampled_from(_WEATHERS), min_size=1, unique=True))
    if draw(st.booleans()) or not clause:
        low, high = sorted(draw(st.lists(st.integers(0, 36), min_size=2, max_size=2)))
        clause[SPEED] = draw(
            st.sampled_from([{"min": low, "max": high}, {"min": low}, {"max": high}])
        )
    return clause


@st.composite
def _odds(draw: st.DrawFn) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "odd": "random",
        "scenery": {"road_type": {"values": _ROADS}},
        "environment": {"weather": {"values": _WEATHERS}},
        "dynamic_elements": {"ego_speed_mps": {"range": {"min": 0, "max": 36}, "bins": [20, 30]}},
    }
    if draw(st.booleans()):
        raw["include"] = draw(st.lists(_clauses(), min_size=1, max_size=2))
    raw["exclude"] = draw(st.lists(_clauses(), max_size=2))
    raw["conditional"] = [
        {"when": when, "then": then}
        for when, then in draw(st.lists(st.tuples(_clauses(), _clauses()), max_size=2))
    ]
    return raw


def _holds(clause: dict[str, Any], point: dict[str, Any]) -> bool:
    for key, want in clause.items():
        value = point[key]
        if isinstance(want, dict):
            if not want.get("min", -math.inf) <= value <= want.get("max", math.inf):
                return False
        elif value not in want:
            return False
    return True


def _oracle(raw: dict[str, Any], point: dict[str, Any]) -> bool:
    if raw.get("include") and not any(_holds(c, point) for c in raw["include"]):
        return False
    if any(_holds(c, point) for c in raw["exclude"]):
        return False
    return all(not _holds(r["when"], point) or _holds(r["then"], point) for r in raw["conditional"])


def _points() -> list[dict[str, Any]]:
    grid = itertools.product(_ROADS, _WEATHERS, _GRID)
    return [{ROAD: r, WEATHER: w, SPEED: s} for r, w, s in grid]


_ALL_POINTS = _points()


@settings(max_examples=60, deadline=None)
@given(
    raw=_odds(),
    road=st.sampled_from(_ROADS),
    weather=st.sampled_from(_WEATHERS),
    speed=st.sampled_from(_GRID),
)
def test_contains_agrees_with_direct_evaluation(
    raw: dict[str, Any], road: str, weather: str, speed: float
) -> None:
    odd = OddSpec.from_mapping(raw)
    point = {ROAD: road, WEATHER: weather, SPEED: speed}
    assert odd.contains(point) == _oracle(raw, point)
    if odd.contains(point):
        assert odd.cell_of(point) in odd.cells()


@settings(max_examples=40, deadline=None)
@given(raw=_odds(), weather=st.sampled_from(_WEATHERS))
def test_partial_tags_are_inside_only_if_every_completion_is(
    raw: dict[str, Any], weather: str
) -> None:
    odd = OddSpec.from_mapping(raw)
    completions = [p for p in _ALL_POINTS if p[WEATHER] == weather]
    assert odd.contains({WEATHER: weather}) == all(_oracle(raw, p) for p in completions)


@settings(max_examples=40, deadline=None)
@given(raw=_odds())
def test_cells_are_exactly_those_holding_a_point_inside(raw: dict[str, Any]) -> None:
    odd = OddSpec.from_mapping(raw)
    expected = {odd.cell_of(p) for p in _ALL_POINTS if _oracle(raw, p)}
    assert set(odd.cells()) == expected
    speed_only = {odd.cell_of(p, [SPEED]) for p in _ALL_POINTS if _oracle(raw, p)}
    assert set(odd.cells([SPEED])) == speed_only
