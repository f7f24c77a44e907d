"""The scenario library: every field validated with errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.scenarios import (
    CRITERIA,
    REPLAY_CRITERIA,
    Scenario,
    ScenarioLibrary,
)
from modelsteward.odd.spec import OddSpec
from odd_factories import SCENARIO, write_odd, write_scenario


@pytest.fixture
def odd(tmp_path: Path) -> OddSpec:
    return OddSpec.from_path(write_odd(tmp_path / "odd"))


def _load_one(folder: Path, **changes: Any) -> Scenario:
    write_scenario(folder, **changes)
    return ScenarioLibrary.from_dir(folder).scenarios[0]


def _refused(folder: Path, message: str, **changes: Any) -> InvalidInput:
    file = write_scenario(folder, "broken.yaml", **changes)
    with pytest.raises(InvalidInput) as caught:
        ScenarioLibrary.from_dir(folder)
    assert caught.value.message.startswith(f"{file}: "), caught.value.message
    assert message in caught.value.message, caught.value.message
    return caught.value


def test_the_draft_scenario_loads(tmp_path: Path, odd: OddSpec) -> None:
    write_scenario(tmp_path / "lib")
    library = ScenarioLibrary.from_dir(tmp_path / "lib", odd=odd)
    scenario = library.get("cut-in-aggressive-dense")
    assert scenario is not None
    assert scenario.asil == "B"
    assert scenario.kind == "closed-loop"
    assert scenario.seeds == (1000, 1001, 1002, 1003)
    assert scenario.environment is not None
    assert scenario.environment.config["lanes_count"] == 3
    assert scenario.criteria.min_ttc_s == 1.5
    assert scenario.criteria.max_lane_departures == 0
    assert scenario.tolerances == {"min_ttc_s": 0.3}
    assert library.outside_odd(odd) == {}
    assert set(scenario.criteria.to_dict()) == set(CRITERIA) - REPLAY_CRITERIA


def test_defaults_are_one_repetition_seed_zero_and_highway_env(tmp_path: Path) -> None:
    scenario = _load_one(
        tmp_path,
        repetitions=None,
        seed=None,
        tolerances=None,
        environment={"env_id": "merge-v0"},
    )
    assert scenario.seeds == (0,)
    assert scenario.environment is not None
    assert scenario.environment.simulator == "highway-env"
    assert scenario.environment.config == {}


def test_a_replay_scenario_points_at_a_file_in_the_library(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "cut-ins.parquet").write_bytes(b"frames")
    replay = {"data": "logs/cut-ins.parquet", "filter": {"scenario": "cut-in"}}
    scenario = _load_one(tmp_path, environment=None, replay=replay)
    assert scenario.kind == "replay"
    assert scenario.replay is not None
    assert scenario.replay.path == (tmp_path / "logs" / "cut-ins.parquet").resolve()
    assert scenario.replay.to_dict()["data_digest"].startswith("sha256:")
    assert scenario.replay.filter == {"scenario": "cut-in"}


def test_changed_replay_data_changes_the_library_digest(tmp_path: Path) -> None:
    data = tmp_path / "frames.parquet"
    data.write_bytes(b"one")
    write_scenario(tmp_path, environment=None, replay={"data": "frames.parquet"})
    before = ScenarioLibrary.from_dir(tmp_path).digest
    data.write_bytes(b"two")
    assert ScenarioLibrary.from_dir(tmp_path).digest != before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("missing.parquet", "replay.data: missing.parquet is not a file in"),
        ("../outside.parquet", "replay.data: '../outside.parquet' is not a path inside"),
        ("/etc/passwd", "replay.data: '/etc/passwd' is not a path inside"),
    ],
)
def test_replay_data_must_exist_inside_the_library(tmp_path: Path, data: str, message: str) -> None:
    (tmp_path / "outside.parquet").write_bytes(b"x")
    _refused(tmp_path / "lib", message, environment=None, replay={"data": data})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"replay": {"data": "x"}}, "environment/replay: give exactly one"),
        ({"environment": None}, "environment/replay: give exactly one"),
        ({"environment": {"env_id": "highway-v0", "lanes": 3}}, "environment: unknown key 'lanes'"),
        ({"environment": {"simulator": "highway-env"}}, "environment: env_id missing"),
        ({"environment": {"env_id": "h", "config": [1]}}, "environment.config: expected a mapping"),
        ({"id": "Cut_In"}, "id: 'Cut_In' is not a scenario id"),
        ({"id": None}, "id: missing"),
        ({"title": ""}, "title: expected a non-empty string"),
        ({"title": "x" * 201}, "title: must be one line of at most 200 characters"),
        ({"description": 3}, "description: expected a non-empty string"),
        (
            {"hazard": {"severity": "S4", "exposure": "E1", "controllability": "C1"}},
            "hazard.severity",
        ),
        ({"criteria": {"min_ttc": 1.5}}, "criteria: unknown criterion 'min_ttc'"),
        ({"criteria": {"min_ttc_s": -1}}, "criteria.min_ttc_s: must be ≥ 0"),
        ({"criteria": {"min_route_completion": 1.5}}, "min_route_completion: must be from 0 to 1"),
        ({"criteria": {"no_collision": "yes"}}, "criteria.no_collision: expected true or false"),
        (
            {"criteria": {"max_lane_departures": 0.5}},
            "criteria.max_lane_departures: expected a whole",
        ),
        ({"criteria": {"no_collision": False}}, "criteria: no criterion is checked"),
        ({"criteria": {}}, "criteria: no criterion is checked"),
        (
            {"tolerances": {"min_headway": 0.1}},
            "tolerances: 'min_headway' is not a numeric criterion",
        ),
        (
            {"tolerances": {"no_collision": 1}},
            "tolerances: 'no_collision' is not a numeric criterion",
        ),
        (
            {"criteria": {"no_collision": True}, "tolerances": {"min_ttc_s": 0.3}},
            "tolerances: 'min_ttc_s' is not a numeric criterion set",
        ),
        ({"tolerances": {"min_ttc_s": -0.3}}, "tolerances.min_ttc_s: must be ≥ 0"),
        ({"repetitions": 0}, "repetitions: expected a whole number from 1 to 1000"),
        ({"repetitions": 1001}, "repetitions: expected a whole number from 1 to 1000"),
        ({"repetitions": True}, "repetitions: expected a whole number"),
        ({"seed": -1}, "seed: expected a whole number from 0"),
        ({"odd": {}}, "odd: tag at least one ODD attribute"),
        ({"odd": {"Weather": "rain"}}, "odd: 'Weather' is not an ODD attribute"),
        (
            {"odd": {"environment.weather": ["rain", "fog"]}},
            "odd.environment.weather: expected one",
        ),
        (
            {"odd": {"environment.street_lights": True}},
            "odd.environment.street_lights: True is read",
        ),
        ({"priority": "high"}, "the file: unknown key 'priority'"),
    ],
)
def test_malformed_scenario_names_file_and_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    _refused(tmp_path, message, **changes)


def test_unknown_key_suggests_the_nearest(tmp_path: Path) -> None:
    error = _refused(tmp_path, "unknown key 'repetition'", repetition=3)
    assert error.hint == "did you mean 'repetitions'?"


def test_odd_tags_are_checked_against_the_odd(tmp_path: Path, odd: OddSpec) -> None:
    lib = tmp_path / "lib"
    file = write_scenario(lib, odd={**SCENARIO["odd"], "environment.weather": "snow"})
    assert len(ScenarioLibrary.from_dir(lib)) == 1  # without an ODD only the shape is checked
    with pytest.raises(InvalidInput) as caught:
        ScenarioLibrary.from_dir(lib, odd=odd)
    assert caught.value.message == (
        f"{file}: odd: environment.weather: 'snow' is not one of clear, rain, fog"
    )


def test_a_scenario_outside_the_odd_loads_but_is_reported(tmp_path: Path, odd: OddSpec) -> None:
    write_scenario(tmp_path / "lib", odd={**SCENARIO["odd"], "environment.weather": "fog"})
    library = ScenarioLibrary.from_dir(tmp_path / "lib", odd=odd)
    assert library.outside_odd(odd) == {
        "cut-in-aggressive-dense": ["excluded by exclude[0]: environment.weather = fog"]
    }


def test_duplicate_ids_name_both_files(tmp_path: Path) -> None:
    first = write_scenario(tmp_path, "a.yaml")
    second = write_scenario(tmp_path, "b.yml", title="Another title")
    with pytest.raises(InvalidInput) as caught:
        ScenarioLibrary.from_dir(tmp_path)
    assert caught.value.message == (
        f"{second}: id: 'cut-in-aggressive-dense' is already used by {first}"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("id: [x\n", "not valid YAML"), ("- 1\n", "the file: expected a")],
)
def test_a_file_that_is_not_a_scenario_mapping_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(InvalidInput, match=message):
        ScenarioLibrary.from_dir(tmp_path)


def test_an_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a scenario")
    with pytest.raises(InvalidInput, match="holds no \\*.yaml scenario files"):
        ScenarioLibrary.from_dir(tmp_path)
    with pytest.raises(InvalidInput, match="is not a folder"):
        ScenarioLibrary.from_dir(tmp_path / "missing")


def _library(folder: Path, names: list[str]) -> ScenarioLibrary:
    for i, name in enumerate(names):
        severity = ("S1", "S3", "S2")[i % 3]
        write_scenario(
            folder,
            name,
            id=f"scenario-{i}",
            hazard={"severity": severity, "exposure": "E4", "controllability": "C3"},
        )
    return ScenarioLibrary.from_dir(folder)


def test_digest_ignores_file_names_and_order(tmp_path: Path) -> None:
    one = _library(tmp_path / "one", ["a.yaml", "b.yaml", "c.yaml"])
    two = _library(tmp_path / "two", ["z.yml", "y.yml", "x.yml"])
    assert one.ids != two.ids  # file-name order differs …
    assert one.digest == two.digest  # … the content does not
    write_scenario(tmp_path / "two", "x.yml", id="scenario-2", seed=7)
    assert ScenarioLibrary.from_dir(tmp_path / "two").digest != one.digest


def test_ranked_puts_the_highest_asil_first(tmp_path: Path) -> None:
    library = _library(tmp_path, ["a.yaml", "b.yaml", "c.yaml"])
    assert [s.asil for s in library.ranked()] == ["D", "C", "B"]
    assert [s["id"] for s in library.to_dict()["scenarios"]] == sorted(library.ids)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"criteria": {"min_accuracy": 0.9}, "tolerances": None},
         "criteria.min_accuracy: this criterion scores logged frames"),
        ({"environment": None, "replay": {"data": "frames.parquet"},
          "criteria": {"no_collision": True}},
         "criteria.no_collision: a logged replay has no closed loop"),
        ({"environment": None, "replay": {"data": "frames.parquet"},
          "criteria": {"min_accuracy": 1.5}},
         "criteria.min_accuracy: must be from 0 to 1"),
    ],
)  # fmt: skip
def test_criteria_must_suit_the_kind_of_scenario(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "frames.parquet").write_bytes(b"PAR1")
    _refused(tmp_path / "lib", message, **changes)
