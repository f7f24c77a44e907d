"""Datasets, training runs and reproduction through the services (real store, real subprocesses)."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from factories import make_hf_snapshot, write_drive_logs, write_finetune_script
from modelsteward.bootstrap import Steward
from modelsteward.errors import CommandFailed, Conflict, InvalidInput, NotFound, PolicyDenied
from modelsteward.services.datasets import DatasetRequest
from modelsteward.services.intake import IntakeRequest
from modelsteward.services.runs import RunRequest
from modelsteward.training.records import Outcome

pytestmark = pytest.mark.storage


def _dataset_request(path: Path, **kw: object) -> DatasetRequest:
    values: dict[str, object] = {
        "path": path,
        "name": "fleet-logs",
        "license": "CC-BY-4.0",
        "tier": "partner",
        "consent": "contract",
        "collected": "2026-01-01..2026-03-31",
        "geography": "DE,FR",
        "retention_days": 3650,
        "source": "partner fleet export",
    }
    values.update(kw)
    return DatasetRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return write_drive_logs(tmp_path / "logs").parent


@pytest.fixture
def base(steward: Steward, tmp_path: Path) -> str:
    snap = make_hf_snapshot(tmp_path / "base", card=None)
    return steward.models.add(IntakeRequest(path=snap, name="drive-base")).version.ref


def _run_request(tmp_path: Path, **kw: object) -> RunRequest:
    script = write_finetune_script(tmp_path / "code" / "train.py")
    values: dict[str, object] = {
        "name": "brake-head",
        "base": "drive-base",
        "output": tmp_path / "out",
        "datasets": ("fleet-logs",),
        "command": (sys.executable, str(script)),
        "seed": 11,
        "code_rev": "abc123",
        "workdir": script.parent,
        "metrics_file": "metrics.json",
    }
    values.update(kw)
    return RunRequest(**values)  # type: ignore[arg-type]


# -- datasets ------------------------------------------------------------------------------------


def test_dataset_records_profile_curation_and_pii(
    steward: Steward, logs: Path, tmp_path: Path
) -> None:
    curation = tmp_path / "curation.yaml"
    curation.write_text(
        "inclusion:\n  - {rule: 'fleet in (partner-a, partner-b)', reason: contracted fleets}\n"
        "exclusion:\n  - {rule: 'speed_mps > 60', reason: sensor glitch, removed: 42}\n"
    )
    odd = tmp_path / "odd.yaml"
    odd.write_text("scenery.road_type: [motorway, urban]\nenvironment.weather: [clear, rain]\n")
    before = steward.ledger.size()
    snap = steward.datasets.add(
        _dataset_request(logs, exclusions=curation, odd_tags=odd, source_column="fleet")
    ).snapshot
    assert snap.rows == 400
    table = snap.tables["drive_logs.csv"]
    assert sum(table["source_counts"].values()) == 400
    assert snap.curation.removed_total == 42
    assert snap.odd_tags.tags["scenery.road_type"] == ["motorway", "urban"]
    assert snap.pii["counts"]["email"] == 8
    assert snap.expires_on == (date(2026, 3, 31) + timedelta(days=3650)).isoformat()
    assert steward.ledger.size() == before + 1
    assert steward.datasets.get("fleet-logs").digest == snap.digest


def test_same_dataset_again_changes_nothing(steward: Steward, logs: Path) -> None:
    steward.datasets.add(_dataset_request(logs))
    before = steward.ledger.size()
    again = steward.datasets.add(_dataset_request(logs))
    assert not again.created
    assert again.ignored == ()
    assert steward.ledger.size() == before
    other_terms = steward.datasets.add(_dataset_request(logs, license="MIT", retention_days=30))
    assert [line.split(":")[0] for line in other_terms.ignored] == ["license", "retention_days"]
    assert steward.datasets.get("fleet-logs").license == "CC-BY-4.0"


def test_dataset_name_used_for_other_content_is_a_conflict(
    steward: Steward, logs: Path, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    other = write_drive_logs(tmp_path / "other", rows=10).parent
    before = steward.ledger.size()
    with pytest.raises(Conflict, match="already used for other content"):
        steward.datasets.add(_dataset_request(other))
    assert steward.ledger.size() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("license", "Apache-2.0-ish", "Apache-2.0-ish"),
        ("collected", "2026-13-01", "not a date"),
        ("retention_days", -5, "must be 1 or more"),
        ("tier", "secret", "unknown dataset tier"),
        ("consent", "maybe", "unknown consent basis"),
        ("geography", "XX", "not an ISO 3166"),
        ("path", Path("/nonexistent/steward"), "no such file"),
    ],
)
def test_bad_dataset_input_names_the_field_and_writes_nothing(
    steward: Steward, logs: Path, field: str, value: object, message: str
) -> None:
    before = steward.ledger.size()
    with pytest.raises(InvalidInput, match=message):
        steward.datasets.add(replace(_dataset_request(logs), **{field: value}))
    assert steward.ledger.size() == before
    assert steward.datasets.list() == []


def test_expiring_lists_expired_and_soon_expiring_only(
    steward: Steward, logs: Path, tmp_path: Path
) -> None:
    old = (date.today() - timedelta(days=40)).isoformat()
    steward.datasets.add(_dataset_request(logs, name="old", collected=old, retention_days=10))
    soon = write_drive_logs(tmp_path / "soon", rows=20).parent
    steward.datasets.add(_dataset_request(soon, name="soon", collected=old, retention_days=60))
    fresh = write_drive_logs(tmp_path / "fresh", rows=30).parent
    steward.datasets.add(_dataset_request(fresh, name="fresh"))
    assert [d.name for d in steward.datasets.list(expiring_days=30)] == ["old", "soon"]
    assert steward.datasets.get("old").expired()


# -- runs ------------------------------------------------------------------------------------------


def test_run_exec_registers_output_with_provenance(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    result = steward.runs.exec(_run_request(tmp_path))
    run = result.run
    assert result.version.ref == "brake-head@1"
    assert {i.role for i in run.inputs} == {"base-model", "dataset", "code"}
    assert run.metrics["accuracy"] > 0.8
    assert run.environment["packages"]
    statement = steward.runs.provenance(run)
    assert statement["subject"][0]["digest"]["sha256"] == result.version.digest.hex
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert {d["annotations"]["role"] for d in deps} == {"base-model", "dataset", "code"}
    assert steward.runs.flags(result.version) == []
    assert steward.runs.get("brake-head").id == run.id
    lineage = steward.models.lineage(result.version)
    (edge,) = lineage.runs
    assert {(i["role"], i["name"]) for i in edge["inputs"]} == {
        ("base-model", "drive-base@1"),
        ("dataset", "fleet-logs"),
    }
    assert f'label="{run.id}"' in lineage.to_dot()


def test_run_reproduces_bit_exact(steward: Steward, logs: Path, base: str, tmp_path: Path) -> None:
    steward.datasets.add(_dataset_request(logs))
    run = steward.runs.exec(_run_request(tmp_path)).run
    before = steward.ledger.size()
    rep, _ = steward.runs.reproduce(run.id)
    assert rep.outcome == Outcome.BIT_EXACT
    assert steward.ledger.size() == before + 1
    assert steward.runs.reproductions(run.id)[-1].outcome == Outcome.BIT_EXACT


def test_nondeterministic_run_is_a_mismatch_naming_the_file(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"jitter": 1e-3}))
    run = steward.runs.exec(_run_request(tmp_path, config=config)).run
    rep, _ = steward.runs.reproduce(run.id)
    assert rep.outcome == Outcome.MISMATCH
    assert rep.changed == ("model.safetensors",)


def test_declared_tolerance_accepts_metric_level_reproduction(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"jitter": 1e-3}))
    request = _run_request(tmp_path, config=config, tolerances={"accuracy": 0.01})
    run = steward.runs.exec(request).run
    rep, _ = steward.runs.reproduce("brake-head")
    assert rep.outcome == Outcome.WITHIN_TOLERANCE
    assert run.tolerances == {"accuracy": 0.01}


def test_changed_input_files_block_reproduction(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    run = steward.runs.exec(_run_request(tmp_path)).run
    (logs / "drive_logs.csv").write_text("frame,speed_mps,gap_m\n1,2,3\n")
    with pytest.raises(PolicyDenied, match="no longer match"):
        steward.runs.reproduce(run.id)


def test_expired_dataset_cannot_be_used_and_flags_models(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    old = (date.today() - timedelta(days=40)).isoformat()
    steward.datasets.add(_dataset_request(logs, collected=old, retention_days=10))
    before = steward.ledger.size()
    with pytest.raises(PolicyDenied, match="expired on"):
        steward.runs.exec(_run_request(tmp_path))
    assert steward.ledger.size() == before
    assert not (tmp_path / "out").exists()


def test_failed_command_registers_nothing_but_is_in_the_ledger(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    before = steward.ledger.size()
    request = _run_request(tmp_path, command=(sys.executable, "-c", "raise SystemExit(3)"))
    with pytest.raises(CommandFailed, match="exited with 3"):
        steward.runs.exec(request)
    assert steward.ledger.size() == before + 1
    assert steward.ledger.tail(1)[0].kind == "run.failed"
    with pytest.raises(NotFound):
        steward.models.get("brake-head")


def test_nonempty_output_folder_is_refused(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.bin").write_bytes(b"x")
    with pytest.raises(InvalidInput, match="not empty"):
        steward.runs.exec(_run_request(tmp_path))


def test_run_record_registers_existing_output(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    steward.runs.exec(_run_request(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "out", elsewhere)
    (elsewhere / "extra.txt").write_text("trained on the cluster")
    result = steward.runs.record(_run_request(tmp_path, output=elsewhere, command=()))
    assert result.version.ref == "brake-head@2"
    assert any("cannot be reproduced" in g for g in result.run.gaps)
    assert any("environment" in g for g in result.run.gaps)


def test_model_claiming_a_base_without_a_run_is_an_untracked_derivation(
    steward: Steward, base: str, tmp_path: Path
) -> None:
    folder = tmp_path / "derived"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlicense: mit\nbase_model: drive-base\n---\n# d\n")
    (folder / "config.json").write_text("{}")
    version = steward.models.add(IntakeRequest(path=folder, name="derived")).version
    flags = steward.runs.flags(version)
    assert flags
    assert flags[0].startswith("untracked derivation")


def test_missing_source_column_or_bad_curation_file_writes_nothing(
    steward: Steward, logs: Path, tmp_path: Path
) -> None:
    before = steward.ledger.size()
    with pytest.raises(InvalidInput, match="vendor"):
        steward.datasets.add(_dataset_request(logs, source_column="vendor"))
    bad = tmp_path / "curation.yaml"
    bad.write_text("exclusion:\n  - {rule: blurry frames, reason: unreadable}\n")
    with pytest.raises(InvalidInput, match="removed"):
        steward.datasets.add(_dataset_request(logs, exclusions=bad))
    assert steward.ledger.size() == before
    assert steward.datasets.list() == []


def test_output_inside_the_working_folder_still_reproduces(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    code = tmp_path / "code"
    run = steward.runs.exec(_run_request(tmp_path, output=code / "out", workdir=code)).run
    rep, _ = steward.runs.reproduce(run.id)
    assert rep.outcome == Outcome.BIT_EXACT


def test_inputs_found_by_path_are_remembered_for_reproduction(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    moved = tmp_path / "moved-base"
    shutil.move(str(tmp_path / "base"), moved)
    with pytest.raises(NotFound, match="no copy of base model"):
        steward.runs.exec(_run_request(tmp_path))
    run = steward.runs.exec(_run_request(tmp_path, base_path=moved)).run
    rep, _ = steward.runs.reproduce(run.id)
    assert rep.outcome == Outcome.BIT_EXACT


def test_a_dataset_named_twice_is_one_input(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    snap = steward.datasets.add(_dataset_request(logs)).snapshot
    run = steward.runs.exec(_run_request(tmp_path, datasets=("fleet-logs", str(snap.digest)))).run
    assert len(run.datasets) == 1


def test_run_record_rejects_a_time_without_a_zone(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    steward.datasets.add(_dataset_request(logs))
    out = write_drive_logs(tmp_path / "model-out", rows=5).parent
    before = steward.ledger.size()
    with pytest.raises(InvalidInput, match="--started"):
        steward.runs.record(_run_request(tmp_path, output=out, started_at="yesterday"))
    assert steward.ledger.size() == before


def test_ai_bom_pins_the_datasets_of_the_run_that_produced_the_model(
    steward: Steward, logs: Path, base: str, tmp_path: Path
) -> None:
    snap = steward.datasets.add(_dataset_request(logs)).snapshot
    result = steward.runs.exec(_run_request(tmp_path))
    document = json.loads(steward.trust.bom(result.version.ref))
    (data,) = [c for c in document["components"] if c["type"] == "data"]
    assert data["name"] == "fleet-logs"
    assert data["hashes"] == [{"alg": "SHA-256", "content": snap.digest.hex}]
    assert data["licenses"] == [{"license": {"id": "CC-BY-4.0"}}]
    assert result.run.id in data["properties"][0]["value"]
