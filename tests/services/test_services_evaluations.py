"""Evaluations through the service: digest check first, stored reports, baselines, regressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsteward.bootstrap import Steward
from modelsteward.errors import NotFound, PolicyDenied
from modelsteward.services.intake import IntakeRequest
from modelsteward.types import Digest
from odd_factories import write_odd, write_scenario

pytestmark = pytest.mark.storage

ADAPTER = """kind: python
model: "pol:act"
observation: {type: Kinematics, vehicles_count: 5, features: [presence, x, y, vx, vy]}
action: {type: DiscreteMetaAction, labels: [LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER]}
"""
QUICK = {"lanes_count": 3, "vehicles_count": 8, "duration": 4, "policy_frequency": 5}


def _model(app: Steward, root: Path, name: str, action: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "steward-adapter.yaml").write_text(ADAPTER)
    (folder / "pol.py").write_text(f"def act(observation):\n    return {action}, 0.8\n")
    app.models.add(
        IntakeRequest(
            path=folder, name=name, unsafe_accept_unscanned={"pol.py": "reviewed test policy"}
        )
    )
    return folder


def _suite(root: Path) -> Path:
    suite = root / "suite"
    env = {"simulator": "highway-env", "env_id": "highway-fast-v0", "config": QUICK}
    for i, severity in enumerate(["S3", "S1"]):
        write_scenario(
            suite, id=f"nominal-{i}", environment=env, repetitions=2, seed=10 * i,
            hazard={"severity": severity, "exposure": "E4", "controllability": "C2"},
            criteria={"no_collision": True, "min_route_completion": 0.5}, tolerances=None,
        )  # fmt: skip
    return suite


def test_evaluation_is_stored_and_ledgered(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", 1)
    before = steward.ledger.size()
    outcome = steward.evaluations.run(
        "keeper", _suite(tmp_path), odd=write_odd(tmp_path), workers=2
    )
    assert steward.ledger.size() == before + 1
    assert steward.ledger.tail(1)[0].kind == "evaluation.completed"
    assert outcome.report.model_ref == "keeper@1"
    stored = steward.workspace.blobs.get(Digest.parse(outcome.report_digest))
    assert stored == outcome.report.canonical_json()


def test_changed_model_files_are_refused_before_anything_runs(
    steward: Steward, tmp_path: Path
) -> None:
    folder = _model(steward, tmp_path, "keeper", 1)
    (folder / "pol.py").write_text("def act(observation):\n    return 3, 1.0\n")
    before = steward.ledger.size()
    with pytest.raises(PolicyDenied, match="no longer match"):
        steward.evaluations.run("keeper", _suite(tmp_path))
    assert steward.ledger.size() == before


def test_baseline_and_unknown_baseline(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "keeper", 1)
    suite = _suite(tmp_path)
    outcome = steward.evaluations.run("keeper", suite)
    locked = steward.evaluations.lock_baseline(outcome, "highway")
    assert locked["report"] == outcome.report_digest
    again = steward.evaluations.run("keeper", suite, against="highway")
    assert again.regressions is not None
    assert not again.critical
    with pytest.raises(NotFound, match="no baseline"):
        steward.evaluations.run("keeper", suite, against="nope")
