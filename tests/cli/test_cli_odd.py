"""`steward odd check` and `steward scenarios check`, run on their Typer groups directly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelsteward.cli._common import console
from modelsteward.cli.odd import odd_app, scenario_app
from modelsteward.errors import InvalidInput
from odd_factories import HIGHWAY_ODD, SCENARIO, write_odd, write_scenario

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich reads no terminal under CliRunner and wraps at 80 columns."""
    monkeypatch.setattr(console, "_width", 200)


def test_odd_check_shows_groups_attributes_and_cells(tmp_path: Path) -> None:
    result = runner.invoke(odd_app, ["check", str(write_odd(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "highway-pilot" in result.output
    assert "dynamic_elements │ ego_speed_mps" in result.output
    assert "exclude[0]   environment.weather = fog" in result.output
    assert "cells        3,240 of 8,748 combinations over 9 attributes" in result.output


def test_odd_check_json_counts_cells_over_chosen_dimensions(tmp_path: Path) -> None:
    args = ["check", str(write_odd(tmp_path)), "--json", "--dimensions", "environment.weather"]
    result = runner.invoke(odd_app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["combinations"], data["cells"]) == (3, 2)
    assert data["digest"].startswith("sha256:")
    assert data["spec"]["exclude"] == [{"environment.weather": ["fog"]}]


def test_odd_check_says_when_there_are_too_many_cells(tmp_path: Path) -> None:
    many = "".join(f"  a{i}: {{values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}}\n" for i in range(6))
    file = write_odd(tmp_path, "odd: huge\nscenery:\n" + many)
    result = runner.invoke(odd_app, ["check", str(file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["cells"] is None
    text = runner.invoke(odd_app, ["check", str(file)]).output
    assert "more than 100,000, choose fewer with --dimensions" in text


def test_odd_check_of_an_invalid_file_raises_invalid_input(tmp_path: Path) -> None:
    file = write_odd(tmp_path, HIGHWAY_ODD.replace("max: 36}", "max: -1}"))
    result = runner.invoke(odd_app, ["check", str(file)])
    assert isinstance(result.exception, InvalidInput)  # the root maps it to exit 3
    assert result.exception.exit_code == 3
    assert str(file) in result.exception.message


def test_scenarios_check_lists_scenarios_riskiest_first(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    write_scenario(lib)
    write_scenario(
        lib,
        id="slow-lead-rain",
        hazard={"severity": "S3", "exposure": "E4", "controllability": "C3"},
        odd={**SCENARIO["odd"], "environment.weather": "rain"},
        repetitions=2,
    )
    odd = write_odd(tmp_path)
    result = runner.invoke(scenario_app, ["check", str(lib), "--odd", str(odd)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    first = next(i for i, line in enumerate(lines) if "slow-lead-rain" in line)
    second = next(i for i, line in enumerate(lines) if "cut-in-aggressive-dense" in line)
    assert first < second
    assert "│ D    │ S3/E4/C3 │ highway-env highway-v0 │ 2" in lines[first]
    assert "outside the ODD: slow-lead-rain: conditional[0]" in result.output


def test_scenarios_check_json(tmp_path: Path) -> None:
    write_scenario(tmp_path / "lib")
    args = ["check", str(tmp_path / "lib"), "--odd", str(write_odd(tmp_path)), "--json"]
    result = runner.invoke(scenario_app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["count"] == 1
    row = data["scenarios"][0]
    assert (row["asil"], row["kind"], row["in_odd"]) == ("B", "closed-loop", True)
    assert data["odd_digest"].startswith("sha256:")


def test_scenarios_check_of_a_bad_library_raises_invalid_input(tmp_path: Path) -> None:
    file = write_scenario(tmp_path / "lib", odd={"environment.weather": "snow"})
    odd = write_odd(tmp_path)
    result = runner.invoke(scenario_app, ["check", str(tmp_path / "lib"), "--odd", str(odd)])
    assert isinstance(result.exception, InvalidInput)  # the root maps it to exit 3
    assert result.exception.exit_code == 3
    assert result.exception.message == (
        f"{file}: odd: environment.weather: 'snow' is not one of clear, rain, fog"
    )
