"""Licence review along the registered lineage, and the legal register (real store)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from factories import make_hf_snapshot, write_drive_logs, write_finetune_script
from modelsteward.bootstrap import Steward
from modelsteward.errors import InvalidInput
from modelsteward.services.datasets import DatasetRequest
from modelsteward.services.intake import IntakeRequest
from modelsteward.services.runs import RunRequest

pytestmark = pytest.mark.storage

CARD = "---\nlicense: {license}\n{extra}---\n# model\n"


def _model(app: Steward, root: Path, name: str, license: str, extra: str = "") -> str:
    folder = root / name.replace("/", "_")
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "tiny"}')
    (folder / "README.md").write_text(CARD.format(license=license, extra=extra))
    return app.models.add(IntakeRequest(path=folder, name=name)).version.ref


def _dataset(app: Steward, root: Path, name: str, license: str) -> None:
    folder = write_drive_logs(root / name, rows=60, pii=False).parent
    app.datasets.add(
        DatasetRequest(
            path=folder,
            name=name,
            license=license,
            tier="licensed",
            consent="license",
            collected="2026-01-01",
            geography="DE",
            retention_days=3650,
            source="vendor",
        )  # fmt: skip
    )


def _finetune(app: Steward, tmp_path: Path, base: str, data: str, license: str) -> str:
    script = write_finetune_script(tmp_path / "code" / "train.py")
    config = tmp_path / "config.json"
    config.write_text(f'{{"license": "{license}"}}')
    result = app.runs.exec(
        RunRequest(
            name="brake-head",
            base=base,
            output=tmp_path / "out",
            datasets=(data,),
            command=(sys.executable, str(script)),
            seed=3,
            code_rev="abc",
            config=config,
            workdir=script.parent,
        )  # fmt: skip
    )
    return result.version.ref


def test_non_commercial_run_dataset_blocks_commercial_use(steward: Steward, tmp_path: Path) -> None:
    base = make_hf_snapshot(tmp_path / "base", card=CARD.format(license="apache-2.0", extra=""))
    steward.models.add(IntakeRequest(path=base, name="drive-base"))
    _dataset(steward, tmp_path, "nc-logs", "CC-BY-NC-4.0")
    model = _finetune(steward, tmp_path, "drive-base", "nc-logs", "apache-2.0")
    commercial = steward.licenses.review(model, use="commercial")
    assert commercial.review.verdict == "incompatible"
    assert not commercial.allowed
    reason = next(r for r in commercial.review.reasons if r.level == "incompatible")
    assert reason.label == "nc-logs"
    assert "CC-BY-NC-4.0" in (reason.normalized or reason.license or "")
    research = steward.licenses.review(model, use="research")
    assert research.allowed
    labels = {n.label for n in commercial.review.nodes}
    assert {"nc-logs", "drive-base@1", "brake-head@1"} <= labels


def test_unregistered_base_model_is_unknown_and_blocks(steward: Steward, tmp_path: Path) -> None:
    model = _model(steward, tmp_path, "derived", "mit", "base_model: someone/unregistered\n")
    decision = steward.licenses.review(model, use="research")
    assert decision.review.verdict == "unknown"
    assert not decision.allowed


def test_declared_base_models_are_walked_recursively(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "grandparent", "cc-by-nc-4.0")
    _model(steward, tmp_path, "parent", "mit", "base_model: grandparent\n")
    child = _model(steward, tmp_path, "child", "mit", "base_model: parent\n")
    decision = steward.licenses.review(child, use="commercial")
    assert decision.review.verdict == "incompatible"
    assert any(r.label == "grandparent@1" for r in decision.review.reasons)


def test_card_datasets_are_part_of_the_lineage(steward: Steward, tmp_path: Path) -> None:
    _dataset(steward, tmp_path, "research-set", "CC-BY-NC-SA-4.0")
    model = _model(steward, tmp_path, "m", "mit", "datasets:\n- research-set\n")
    decision = steward.licenses.review(model, use="commercial")
    assert decision.review.verdict == "incompatible"


def test_approval_holds_until_the_lineage_changes(steward: Steward, tmp_path: Path) -> None:
    _model(steward, tmp_path, "parent", "other")
    child = _model(steward, tmp_path, "child", "mit", "base_model: parent\n")
    assert not steward.licenses.review(child, use="commercial").allowed
    before = steward.ledger.size()
    approval = steward.licenses.approve(
        child, use="commercial", by="Dana (legal)", note="bespoke licence FL-9 signed"
    )
    assert steward.ledger.size() == before + 1
    decision = steward.licenses.review(child, use="commercial")
    assert decision.allowed
    assert decision.approval is not None
    assert decision.approval["review_digest"] == approval["review_digest"]
    assert not steward.licenses.review(child, use="commercial", distribution="weights").allowed
    # a newer version of the parent now resolves as the declared base: the lineage changed
    parent2 = tmp_path / "parent-v2"
    parent2.mkdir()
    (parent2 / "config.json").write_text('{"model_type": "tiny", "v": 2}')
    (parent2 / "README.md").write_text(CARD.format(license="other", extra=""))
    steward.models.add(IntakeRequest(path=parent2, name="parent"))
    after = steward.licenses.review(child, use="commercial")
    assert not after.allowed
    assert after.voided
    assert after.voided[0]["approved_by"] == "Dana (legal)"


def test_bad_use_is_invalid_input_and_approval_writes_nothing(
    steward: Steward, tmp_path: Path
) -> None:
    model = _model(steward, tmp_path, "m", "mit")
    before = steward.ledger.size()
    with pytest.raises(InvalidInput, match="use"):
        steward.licenses.approve(model, use="military", by="x", note="y")
    with pytest.raises(InvalidInput, match="--note"):
        steward.licenses.approve(model, use="commercial", by="x", note=" ")
    assert steward.ledger.size() == before
