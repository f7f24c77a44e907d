"""ODD coverage through the service (fail closed, newest evidence, one library) and the stored
evaluations it reads (report prefixes, locking a stored report as a baseline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from factories import write_drive_logs
from modelsteward.bootstrap import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.services.coverage import CoverageResult
from modelsteward.services.datasets import DatasetRequest
from modelsteward.services.intake import IntakeRequest
from modelsteward.storage.tables import evaluation_reports
from odd_factories import SCENARIO, write_odd, write_scenario

pytestmark = pytest.mark.storage

ADAPTER = """kind: python
model: "pol:act"
observation: {type: Kinematics, vehicles_count: 5, features: [presence, x, y, vx, vy]}
action: {type: DiscreteMetaAction, labels: [LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER]}
"""
QUICK = {"lanes_count": 2, "vehicles_count": 3, "duration": 3, "policy_frequency": 5}
ENV = {"simulator": "highway-env", "env_id": "highway-fast-v0", "config": QUICK}
IDLE, LANE_LEFT = 1, 0  # IDLE keeps its lane; LANE_LEFT soon asks for a lane that is not there
DIMENSIONS = ["environment.weather", "environment.time_of_day"]
CLEAR_DAY = "environment.time_of_day=day, environment.weather=clear"


def _model(app: Steward, root: Path, name: str, action: int) -> None:
    folder = root / "models" / name
    folder.mkdir(parents=True)
    (folder / "steward-adapter.yaml").write_text(ADAPTER)
    (folder / "pol.py").write_text(f"def act(observation):\n    return {action}, 0.8\n")
    app.models.add(
        IntakeRequest(
            path=folder, name=name, unsafe_accept_unscanned={"pol.py": "reviewed test policy"}
        )
    )


def _suite(root: Path, name: str = "suite") -> Path:
    """One S3 lane-keeping scenario in clear daylight, one repetition."""
    suite = root / name
    write_scenario(
        suite, id=f"lane-keeping-{name}", environment=ENV, repetitions=1, seed=3,
        odd={**SCENARIO["odd"], "environment.weather": "clear", "environment.time_of_day": "day"},
        hazard={"severity": "S3", "exposure": "E4", "controllability": "C2"},
        criteria={"max_lane_departures": 0}, tolerances=None,
    )  # fmt: skip
    return suite


def _cells(result: CoverageResult) -> dict[str, Any]:
    return {cell.key: cell for cell in result.coverage.cells}


def _dataset(app: Steward, root: Path, name: str, tags: str | None, seed: int) -> None:
    odd_tags = None
    if tags is not None:
        odd_tags = root / f"{name}-tags.yaml"
        odd_tags.write_text(tags)
    app.datasets.add(
        DatasetRequest(
            path=write_drive_logs(root / name / "logs", rows=60, seed=seed).parent,
            name=name,
            license="CC-BY-4.0",
            tier="partner",
            consent="contract",
            collected="2026-01-01..2026-03-31",
            geography="DE",
            retention_days=3650,
            source="partner fleet export",
            odd_tags=odd_tags,
        )
    )


# -- compute -------------------------------------------------------------------------------------


def test_without_an_evaluation_nothing_counts_as_passing(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", IDLE)
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    result = steward.coverage.compute(odd, suite, dimensions=DIMENSIONS)
    assert (result.evaluation, result.model) == (None, None)
    assert result.warnings[0].startswith("no stored evaluation of this library")
    assert len(result.coverage.cells) == 4
    assert not any(cell.covered for cell in result.coverage.cells)
    assert len(result.coverage.gaps) == 4
    assert _cells(result)[CLEAR_DAY].failing == ("lane-keeping-suite",)  # tried, not passed
    assert result.dimensions == tuple(DIMENSIONS)
    with pytest.raises(NotFound, match="no evaluation of keeper on this scenario library"):
        steward.coverage.compute(odd, suite, model="keeper", dimensions=DIMENSIONS)


def test_the_newest_evaluation_decides(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", IDLE)
    _model(steward, tmp_path, "lefty", LANE_LEFT)
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    kept = steward.evaluations.run("keeper", suite, odd=odd, workers=1)
    first = steward.coverage.compute(odd, suite, dimensions=DIMENSIONS)
    assert (first.evaluation, first.model) == (kept.report_digest, "keeper@1")
    assert first.warnings == ()
    assert _cells(first)[CLEAR_DAY].passing == ("lane-keeping-suite",)

    drifted = steward.evaluations.run("lefty", suite, odd=odd, workers=1)
    newest = steward.coverage.compute(odd, suite, dimensions=DIMENSIONS)
    assert (newest.evaluation, newest.model) == (drifted.report_digest, "lefty@1")
    assert _cells(newest)[CLEAR_DAY].failing == ("lane-keeping-suite",)
    assert not any(cell.covered for cell in newest.coverage.cells)

    by_model = steward.coverage.compute(odd, suite, model="keeper", dimensions=DIMENSIONS)
    assert by_model.evaluation == kept.report_digest
    by_report = steward.coverage.compute(odd, suite, report=kept.report_digest[7:19])
    assert by_report.evaluation == kept.report_digest
    assert len(by_report.dimensions) == 9  # every ODD attribute unless told otherwise


def test_a_report_of_another_library_is_a_conflict(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", IDLE)
    suite, other, odd = _suite(tmp_path), _suite(tmp_path, "other"), write_odd(tmp_path)
    outcome = steward.evaluations.run("keeper", suite, workers=1)
    with pytest.raises(Conflict, match="evaluated another scenario library"):
        steward.coverage.compute(odd, other, report=outcome.report_digest, dimensions=DIMENSIONS)
    with pytest.raises(NotFound, match="no evaluation of keeper"):
        steward.coverage.compute(odd, other, model="keeper", dimensions=DIMENSIONS)
    unrelated = steward.coverage.compute(odd, other, dimensions=DIMENSIONS)
    assert unrelated.evaluation is None  # evidence about one library says nothing of another
    with pytest.raises(NotFound):
        steward.coverage.compute(odd, suite, report="0" * 64)


def test_datasets_cover_what_their_odd_tags_reach(steward: Steward, tmp_path: Path) -> None:
    suite, odd = _suite(tmp_path), write_odd(tmp_path)
    _dataset(steward, tmp_path, "untagged", None, seed=1)
    _dataset(steward, tmp_path, "weather-only", "environment.weather: [clear, rain]\n", seed=2)
    _dataset(
        steward, tmp_path, "rainy",
        "environment.weather: [rain]\nenvironment.time_of_day: [day, night]\n", seed=3,
    )  # fmt: skip
    result = steward.coverage.compute(
        odd, suite, datasets=["untagged", "weather-only", "rainy"], dimensions=DIMENSIONS
    )
    warned = [w for w in result.warnings if w.startswith("dataset ")]
    assert len(warned) == 2
    assert "dataset untagged: its ODD tags reach no cell" in warned[0]
    assert "dataset weather-only: its ODD tags reach no cell" in warned[1]  # time_of_day missing
    covered = {cell.key: cell.datasets for cell in result.coverage.cells}
    assert covered == {
        CLEAR_DAY: (),
        "environment.time_of_day=night, environment.weather=clear": (),
        "environment.time_of_day=day, environment.weather=rain": ("rainy",),
        "environment.time_of_day=night, environment.weather=rain": ("rainy",),
    }
    assert result.coverage.datasets == ("rainy", "untagged", "weather-only")  # sorted
    assert not any(cell.covered for cell in result.coverage.cells)  # data is not a verdict
    only_weather = steward.coverage.compute(
        odd, suite, datasets=["weather-only"], dimensions=["environment.weather"]
    )
    assert [c.datasets for c in only_weather.coverage.cells] == [("weather-only",)] * 2
    with pytest.raises(NotFound):
        steward.coverage.compute(odd, suite, datasets=["nope"], dimensions=DIMENSIONS)


# -- stored evaluations --------------------------------------------------------------------------


def test_lock_stored_refuses_a_report_of_another_model(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", IDLE)
    _model(steward, tmp_path, "lefty", LANE_LEFT)
    outcome = steward.evaluations.run("keeper", _suite(tmp_path), workers=1)
    before = steward.ledger.size()
    with pytest.raises(InvalidInput, match="evaluated keeper@1, not lefty@1"):
        steward.evaluations.lock_stored("lefty", outcome.report_digest, "lefty")
    with pytest.raises(InvalidInput, match="baseline name"):
        steward.evaluations.lock_stored("keeper", outcome.report_digest, "bad name!")
    assert steward.ledger.size() == before
    assert steward.evaluations.baselines() == []

    locked = steward.evaluations.lock_stored("keeper", outcome.report_digest[7:20], "ref/keeper")
    assert locked["report"] == outcome.report_digest
    assert locked["model"] == "keeper@1"
    assert steward.ledger.size() == before + 1
    assert steward.ledger.tail(1)[0].kind == "evaluation.baseline.locked"
    assert [b["name"] for b in steward.evaluations.baselines()] == ["ref/keeper"]
    assert len(steward.evaluations.list()) == 1  # nothing was re-run


def test_stored_accepts_digests_and_unique_prefixes(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", IDLE)
    outcome = steward.evaluations.run("keeper", _suite(tmp_path), workers=1)
    digest = outcome.report_digest
    hexed = digest.removeprefix("sha256:")
    for name in (digest, hexed, hexed[:8], f"sha256:{hexed[:8]}", f"  {hexed[:10]}  "):
        stored = steward.evaluations.stored(name)
        assert stored.digest == digest
        assert stored.report == outcome.report
        assert stored.record["html"] == outcome.html_digest
    for bad in (hexed[:7], "sha256:", "xyz12345", "g" * 64):
        with pytest.raises(InvalidInput, match="^report ") as refused:
            steward.evaluations.stored(bad)
        assert "8+ of its hex digits" in refused.value.hint
    other = ("0" if hexed[0] != "0" else "1") + hexed[1:8]
    with pytest.raises(NotFound, match="no stored evaluation"):
        steward.evaluations.stored(other)

    # Two stored reports whose digests share their first 8 hex digits (a real collision is
    # 1 in 2**32, so the second row is written straight into the store).
    twin = "sha256:" + hexed[:8] + ("f" if hexed[8] != "f" else "e") + hexed[9:]
    row = {
        "digest": twin,
        "model_digest": outcome.report.model_digest,
        "suite_digest": outcome.report.suite_digest,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "record": "{}",
    }
    with steward.db.write() as conn:
        conn.execute(insert(evaluation_reports).values(**row))
    with pytest.raises(InvalidInput, match="is ambiguous"):
        steward.evaluations.stored(hexed[:8])
    assert steward.evaluations.stored(hexed[:9]).digest == digest  # one more digit decides
    assert steward.evaluations.stored(digest).digest == digest
