"""`steward eval run|baseline|list|show` and `steward odd coverage` as users run them.

Real highway-env episodes, kept short: a two-lane road with three other vehicles for 3 s, one
repetition per scenario. The policies are one-line Python models: ``keeper`` always answers IDLE
(never leaves its lane), ``lefty`` always answers LANE_LEFT, which in a two-lane road asks for a
lane that does not exist within a few steps, so ``max_lane_departures: 0`` fails every time.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import ledger_size, steward
from factories import write_drive_logs
from odd_factories import SCENARIO, write_odd, write_scenario

pytestmark = pytest.mark.xdist_group("cli-eval")

ADAPTER = """kind: python
model: "pol:act"
observation: {type: Kinematics, vehicles_count: 5, features: [presence, x, y, vx, vy]}
action: {type: DiscreteMetaAction, labels: [LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER]}
"""
QUICK = {"lanes_count": 2, "vehicles_count": 3, "duration": 3, "policy_frequency": 5}
ENV = {"simulator": "highway-env", "env_id": "highway-fast-v0", "config": QUICK}
IDLE, LANE_LEFT = 1, 0
DIMENSIONS = "environment.weather,environment.time_of_day"
WIDE = {"COLUMNS": "250"}  # rich wraps at 80 columns without a terminal


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "ws"
    done = steward(home, "init")
    assert done.returncode == 0, done.stderr
    return home


def _model(home: Path, root: Path, name: str, action: int) -> None:
    """Register a Python policy that always answers ``action``."""
    folder = root / "models" / name.replace("/", "-")
    folder.mkdir(parents=True)
    (folder / "steward-adapter.yaml").write_text(ADAPTER)
    (folder / "pol.py").write_text(f"def act(observation):\n    return {action}, 0.8\n")
    done = steward(
        home, "model", "add", str(folder), "--name", name,
        "--unsafe-accept-unscanned", "pol.py", "--reason", "reviewed test policy",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _suite(root: Path, name: str = "suite", *, with_s1: bool = False) -> Path:
    """One S3 lane-keeping scenario (plus an S1 one when asked), one repetition each; a suite
    not called ``suite`` gets its name in the scenario ids, so it is another library."""
    suite = root / name
    ratings = [("lane-keeping", "S3")] + ([("lane-keeping-minor", "S1")] if with_s1 else [])
    for scenario_id, severity in ratings:
        write_scenario(
            suite, id=f"{scenario_id}-{name}" if name != "suite" else scenario_id,
            environment=ENV, repetitions=1, seed=3,
            hazard={"severity": severity, "exposure": "E4", "controllability": "C2"},
            criteria={"max_lane_departures": 0}, tolerances=None,
        )  # fmt: skip
    return suite


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def _tail(home: Path, n: int) -> list[dict[str, Any]]:
    done = steward(home, "ledger", "tail", "-n", str(n), "--json")
    assert done.returncode == 0, done.stderr
    entries: list[dict[str, Any]] = json.loads(done.stdout)
    return entries


# -- eval baseline -------------------------------------------------------------------------------


def test_baseline_is_named_after_the_model_and_ledgered(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    before = ledger_size(home)
    done = steward(
        home, "eval", "baseline", "acme/keeper", "--suite", str(suite), "--odd", str(odd),
        "--workers", "1", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = _json(done)
    locked, evaluation = data["baseline"], data["evaluation"]
    assert locked["name"] == "acme/keeper"
    assert locked["model"] == "acme/keeper@1"
    assert locked["report"] == evaluation["report_digest"]
    assert locked["seq"] == before + 1
    assert evaluation["report"]["totals"]["passed"] == 1
    entries = _tail(home, 2)
    assert [e["kind"] for e in entries] == ["evaluation.completed", "evaluation.baseline.locked"]
    assert entries[0]["payload"]["report"] == evaluation["report_digest"]
    assert entries[1]["subject"] == "baseline:acme/keeper"


def test_baseline_from_a_stored_report_runs_nothing(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    run = steward(
        home, "eval", "run", "acme/keeper", "--suite", str(_suite(tmp_path)), "--workers", "1",
        "--json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    digest = _json(run)["report_digest"]
    done = steward(
        home, "eval", "baseline", "acme/keeper", "--report", digest[7:19], "--name", "highway/v2",
        env=WIDE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "locked baseline highway/v2 = acme/keeper@1" in done.stdout
    assert f"report {digest}" in done.stdout
    kinds = [e["kind"] for e in _tail(home, 2)]
    assert kinds == ["evaluation.completed", "evaluation.baseline.locked"]
    listed = _json(steward(home, "eval", "list", "--json"))
    assert [e["digest"] for e in listed["evaluations"]] == [digest]  # no second evaluation
    assert [b["name"] for b in listed["baselines"]] == ["highway/v2"]


# -- eval run --against --------------------------------------------------------------------------


def test_critical_regression_exits_6_and_names_the_scenario(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    _model(home, tmp_path, "acme/lefty", LANE_LEFT)
    suite = _suite(tmp_path, with_s1=True)
    base = ["--suite", str(suite), "--workers", "1"]
    locked = steward(home, "eval", "baseline", "acme/keeper", *base, "--name", "highway")
    assert locked.returncode == 0, locked.stderr

    done = steward(home, "eval", "run", "acme/lefty", *base, "--against", "highway", env=WIDE)
    assert done.returncode == 6, done.stdout + done.stderr
    assert "1 critical regression(s) against baseline highway: lane-keeping" in done.stderr
    assert "lane-keeping-minor" not in done.stderr  # S1: a regression, not a critical one
    assert "max_lane_departures fails" in done.stdout
    entry = _tail(home, 1)[0]
    assert entry["kind"] == "evaluation.completed"  # the failing evaluation is still recorded
    assert entry["payload"]["critical_regressions"] == ["lane-keeping"]
    assert entry["payload"]["baseline"] == "highway"

    as_json = steward(home, "eval", "run", "acme/lefty", *base, "--against", "highway", "--json")
    assert as_json.returncode == 6, as_json.stderr
    data = _json(as_json)
    assert data["critical_regressions"] == ["lane-keeping"]
    assert data["baseline"] == "highway"
    regressions = data["regressions"]
    assert [r["id"] for r in regressions["critical"]] == ["lane-keeping"]
    assert [r["id"] for r in regressions["non_critical"]] == ["lane-keeping-minor"]
    assert regressions["critical"][0]["pass_to_fail"] is True
    shown = steward(home, "eval", "show", data["report_digest"], "--json")
    assert shown.returncode == 0, shown.stderr  # showing a stored report is not a gate
    record = _json(shown)["record"]
    assert (record["baseline"], record["critical_regressions"]) == ("highway", ["lane-keeping"])
    # The stored regression document comes back with the report, and --out writes it again.
    assert _json(shown)["critical_regressions"] == ["lane-keeping"]
    assert _json(shown)["regressions"]["critical"][0]["id"] == "lane-keeping"
    again = steward(home, "eval", "show", data["report_digest"].upper(), "--out",
                    str(tmp_path / "again"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "regressions.json").is_file()


# -- eval run --out, show, list ------------------------------------------------------------------


def test_reports_are_written_shown_and_listed(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    locked = steward(
        home, "eval", "baseline", "acme/keeper", "--suite", str(suite), "--workers", "1", "--json"
    )
    assert locked.returncode == 0, locked.stderr
    first = _json(locked)["evaluation"]["report_digest"]

    out = tmp_path / "out"
    done = steward(
        home, "eval", "run", "acme/keeper", "--suite", str(suite), "--odd", str(odd),
        "--workers", "1", "--out", str(out), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    second = _json(done)["report_digest"]
    raw = (out / "report.json").read_bytes()
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == second  # the stored blob, byte for byte
    report = json.loads(raw)
    assert report["$schema"].startswith("https://modelsteward.dev/schemas/evaluation-report/")
    assert report["model"]["ref"] == "acme/keeper@1"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Evaluation of acme/keeper@1" in html
    assert not (out / "regressions.json").exists()  # no --against, no comparison

    shown = steward(home, "eval", "show", second[7:20], "--json")
    assert shown.returncode == 0, shown.stderr
    data = _json(shown)
    assert data["report_digest"] == second
    assert data["record"]["model"] == "acme/keeper@1"
    assert data["report"] == report
    copy = tmp_path / "copy"
    assert steward(home, "eval", "show", second, "--out", str(copy)).returncode == 0
    assert (copy / "report.json").read_bytes() == raw

    listed = _json(steward(home, "eval", "list", "--json"))
    assert [e["digest"] for e in listed["evaluations"]] == [second, first]  # newest first
    assert [b["name"] for b in listed["baselines"]] == ["acme/keeper"]
    assert listed["baselines"][0]["report"] == first
    by_model = _json(steward(home, "eval", "list", "--model", "acme/keeper", "--json"))
    assert len(by_model["evaluations"]) == 2
    text = steward(home, "eval", "list", env=WIDE)
    assert text.returncode == 0, text.stderr
    assert second[:19] in text.stdout
    assert "acme/keeper" in text.stdout


# -- bad input changes nothing -------------------------------------------------------------------


def test_bad_input_exits_early_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    suite = str(_suite(tmp_path))
    broken = tmp_path / "broken-suite"
    broken.mkdir()
    (broken / "bad.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    missing_odd = str(tmp_path / "missing-odd.yaml")
    cases: list[tuple[list[str], int, str]] = [
        (["run", "acme/keeper", "--suite", str(broken)], 3, "not valid YAML"),
        (["run", "acme/keeper", "--suite", suite, "--odd", missing_odd], 3, "does not exist"),
        (["run", "acme/nobody", "--suite", suite], 4, "acme/nobody"),
        (["list", "--model", "acme/nobody"], 4, "acme/nobody"),
        (
            ["baseline", "acme/keeper", "--report", "deadbeef", "--odd", missing_odd],
            3,
            "--odd and --model-dir apply to a new evaluation",
        ),
        (["run", "acme/keeper", "--suite", suite, "--against", "nope"], 4, "no baseline"),
        (["run", "acme/keeper", "--suite", suite, "--workers", "0"], 3, "--workers 0"),
        (["baseline", "acme/keeper", "--suite", suite, "--name", "bad name!"], 3, "bad name!"),
        (["baseline", "acme/keeper"], 3, "exactly one of --suite"),
        (["baseline", "acme/keeper", "--suite", suite, "--report", "deadbeef"], 3, "exactly one"),
        (["baseline", "acme/keeper", "--report", "deadbeef"], 4, "no stored evaluation"),
        (["show", "deadbeef"], 4, "no stored evaluation 'deadbeef'"),
        (["show", "xyz"], 3, "8+ of its hex digits"),
    ]
    before = ledger_size(home)
    for args, code, message in cases:
        done = steward(home, "eval", *args, env=WIDE)
        assert (done.returncode, args) == (code, args), done.stdout + done.stderr
        assert message in done.stderr, (args, done.stderr)
    assert ledger_size(home) == before
    listed = _json(steward(home, "eval", "list", "--json"))
    assert listed == {"evaluations": [], "baselines": []}


# -- odd coverage --------------------------------------------------------------------------------


def _coverage(home: Path, odd: Path, suite: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return steward(
        home, "odd", "coverage", "--odd", str(odd), "--suite", str(suite),
        "--dimensions", DIMENSIONS, *extra, env=WIDE,
    )  # fmt: skip


def _night(root: Path, suite: Path) -> None:
    """A second scenario, at night (so two of the four weather × time-of-day cells are tried)."""
    write_scenario(
        suite, id="lane-keeping-night", environment=ENV, repetitions=1, seed=4,
        odd={**SCENARIO["odd"], "environment.time_of_day": "night"},
        hazard={"severity": "S2", "exposure": "E3", "controllability": "C2"},
        criteria={"max_lane_departures": 0}, tolerances=None,
    )  # fmt: skip


def test_coverage_without_evaluation_is_all_gaps(home: Path, tmp_path: Path) -> None:
    suite, odd, out = _suite(tmp_path), write_odd(tmp_path), tmp_path / "coverage"
    done = _coverage(home, odd, suite, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "warning: no stored evaluation of this library" in done.stdout
    assert "cells covered by a passing scenario: 0/4 (0.0%); gaps: 4" in done.stdout
    assert f"wrote {out / 'coverage.json'}" in done.stdout
    data = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
    assert data["$schema"] == "https://modelsteward.dev/schemas/odd-coverage/v1"
    assert data["totals"] == {"cells": 4, "covered": 0, "gaps": 4, "covered_fraction": 0.0}
    assert all(not cell["covered"] and not cell["passing"] for cell in data["cells"])
    assert data["evaluation"] == {"report": None, "model": None}
    assert data["dimensions"] == ["environment.weather", "environment.time_of_day"]
    assert data["warnings"][0].startswith("no stored evaluation")
    html = (out / "coverage.html").read_text(encoding="utf-8")
    assert "ODD coverage of highway-pilot" in html


def test_coverage_after_an_evaluation(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    _night(tmp_path, suite)
    run = steward(
        home, "eval", "run", "acme/keeper", "--suite", str(suite), "--odd", str(odd),
        "--workers", "2", "--json",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    digest = _json(run)["report_digest"]
    done = _coverage(home, odd, suite, "--model", "acme/keeper", "--json")
    assert done.returncode == 0, done.stderr
    data = _json(done)
    assert data["warnings"] == []
    assert data["evaluation"] == {"report": digest, "model": "acme/keeper@1"}
    passing = {
        (c["cell"]["environment.weather"], c["cell"]["environment.time_of_day"]): c["passing"]
        for c in data["cells"]
    }
    assert passing == {
        ("clear", "day"): ["lane-keeping"],
        ("clear", "night"): ["lane-keeping-night"],
        ("rain", "day"): [],
        ("rain", "night"): [],
    }
    assert sorted(g["key"] for g in data["gaps"]) == [
        "environment.time_of_day=day, environment.weather=rain",
        "environment.time_of_day=night, environment.weather=rain",
    ]
    by_report = _coverage(home, odd, suite, "--report", digest[7:17])
    assert by_report.returncode == 0, by_report.stderr
    assert f"verdicts of acme/keeper@1 (report {digest})" in by_report.stdout
    assert "warning" not in by_report.stdout
    assert "cells covered by a passing scenario: 2/4 (50.0%); gaps: 2" in by_report.stdout


def test_coverage_counts_datasets_through_their_odd_tags(home: Path, tmp_path: Path) -> None:
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    logs = write_drive_logs(tmp_path / "logs").parent
    tags = tmp_path / "tags.yaml"
    tags.write_text("environment.weather: [clear, rain]\nenvironment.time_of_day: [night]\n")
    added = steward(
        home, "dataset", "add", str(logs), "--name", "night-logs", "--license", "CC-BY-4.0",
        "--tier", "partner", "--consent", "contract", "--collected", "2026-06-01..2026-08-31",
        "--geography", "DE", "--retention-days", "730", "--source", "partner export",
        "--odd-tags", str(tags),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    done = _coverage(home, odd, suite, "--dataset", "night-logs", "--json")
    assert done.returncode == 0, done.stderr
    data = _json(done)
    datasets = {
        (c["cell"]["environment.weather"], c["cell"]["environment.time_of_day"]): c["datasets"]
        for c in data["cells"]
    }
    assert datasets == {
        ("clear", "day"): [],
        ("clear", "night"): ["night-logs"],
        ("rain", "day"): [],
        ("rain", "night"): ["night-logs"],
    }
    assert data["datasets"] == ["night-logs"]
    assert data["totals"]["covered"] == 0  # training data is no evidence of passing
    unknown = _coverage(home, odd, suite, "--dataset", "nope")
    assert unknown.returncode == 4, unknown.stderr


def test_coverage_refuses_bad_dimensions_and_missing_evidence(home: Path, tmp_path: Path) -> None:
    _model(home, tmp_path, "acme/keeper", IDLE)
    suite, other, odd = _suite(tmp_path), _suite(tmp_path, "other"), write_odd(tmp_path)
    bad = _coverage(home, odd, suite, "--dimensions", "environment.moon_phase")
    assert bad.returncode == 3, bad.stdout + bad.stderr
    assert "environment.moon_phase" in bad.stderr
    no_eval = _coverage(home, odd, suite, "--model", "acme/keeper")
    assert no_eval.returncode == 4, no_eval.stderr
    assert "no evaluation of acme/keeper on this scenario library" in no_eval.stderr

    run = steward(
        home, "eval", "run", "acme/keeper", "--suite", str(suite), "--workers", "1", "--json"
    )
    assert run.returncode == 0, run.stderr
    digest = _json(run)["report_digest"]
    other_suite = _coverage(home, odd, other, "--report", digest)
    assert other_suite.returncode == 5, other_suite.stderr
    assert "evaluated another scenario library" in other_suite.stderr
    still_none = _coverage(home, odd, other, "--model", "acme/keeper")
    assert still_none.returncode == 4, still_none.stderr


def test_examples_driving_refuses_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine", encoding="utf-8")
    done = steward(tmp_path / "unused-home", "examples", "driving", "--out", str(taken))
    assert done.returncode == 5, done.stderr
    assert "already exists and is not empty" in done.stderr
    assert sorted(p.name for p in taken.iterdir()) == ["keep.txt"]
    fresh = tmp_path / "fresh"
    done = steward(tmp_path / "unused-home", "examples", "driving", "--out", str(fresh),
                   "--episodes", "0")  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "episodes and workers must be at least 1" in done.stderr
    assert not fresh.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
