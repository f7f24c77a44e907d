"""The approval dossier: Annex IV headings, evidence on every claim, gaps listed, proofs verify,
forged sign-offs flagged, bad input writes nothing, the same facts give the same digest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dossier_world import World, build_world, dossier_service

from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.config import Settings
from modelsteward.dossier import SECTION_IDS, canonical_bytes
from modelsteward.errors import InvalidInput, NotFound
from modelsteward.ledger.verify import verify_proof
from modelsteward.services.dossier import DossierResult
from modelsteward.services.intake import IntakeRequest


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One real workspace with the whole release story (built once: each step is a commit)."""
    root = tmp_path_factory.mktemp("dossier")
    app = init_workspace(
        Settings(home=root / "ws", database_url=None, witness_dir=None, actor="tester")
    )
    try:
        yield build_world(app, root)
    finally:
        app.close()


@pytest.fixture(scope="module")
def written(world: World, tmp_path_factory: pytest.TempPathFactory) -> DossierResult:
    """The dossier of drive-ft@1, written once."""
    return world.service.write(world.ref, tmp_path_factory.mktemp("out") / "dossier")


def _document(result: DossierResult) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(result.json_path.read_bytes())
    return loaded


def _items(document: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in document["sections"][section]["items"]}


def _evidence(item: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in item["evidence"] if e["kind"] == kind]


def test_every_annex_iv_heading_is_present_in_json_and_html(written: DossierResult) -> None:
    document = _document(written)
    sections = document["sections"]
    assert set(sections) == set(SECTION_IDS)
    assert sorted(s["number"] for s in sections.values()) == [1, 2, 3, 4, 5, 6, 7]
    assert all(sections[key]["items"] for key in SECTION_IDS)
    html = written.html_path.read_text(encoding="utf-8")
    for key in SECTION_IDS:
        assert f'href="#section-{key}"' in html
        assert f'id="section-{key}"' in html
        assert sections[key]["title"] in html
    assert "@media print" in html
    assert "break-before: page" in html
    for external in ("<script", "http://", 'src="', "@import"):
        assert external not in html


def test_claims_cite_the_digest_of_their_evidence(world: World, written: DossierResult) -> None:
    document = _document(written)
    general = _items(document, "general")["general.identity"]
    assert {"kind": "model", "digest": world.digest} in general["evidence"]
    assert _evidence(general, "ledger-entry")[0]["entry_kind"] == "model.registered"
    development = _items(document, "development")
    dataset = development["development.dataset.fleet-logs"]
    assert dataset["facts"]["license"] == "CC-BY-4.0"
    assert dataset["facts"]["consent"] == "contract"
    assert _evidence(dataset, "dataset")[0]["digest"] == dataset["facts"]["digest"]
    run = next(i for key, i in development.items() if key.startswith("development.run."))
    assert _evidence(run, "provenance-statement")[0]["digest"].startswith("sha256:")
    assert run["facts"]["provenance"]["predicate_type"] == "https://slsa.dev/provenance/v1"
    hazards = _items(document, "risk")["risk.hazards"]
    assert _evidence(hazards, "evaluation-report")[0]["digest"] == world.report_digest
    assert [s["id"] for s in hazards["facts"]["scenarios"]] == ["cut-in", "merge"]  # S3 first
    assert hazards["facts"]["scenarios"][0]["verdict"] == "fail"
    envelope = next(i for k, i in _items(document, "risk").items() if k.startswith("risk.env"))
    assert _evidence(envelope, "signed-envelope")[0]["digest"] == world.envelope_blob
    assert envelope["facts"]["limits"]["ttc"] == {"min_s": 2.0}
    deployment = _items(document, "monitoring")["monitoring.deployment.pilot-fleet"]
    assert _evidence(deployment, "runbook") == [{"kind": "runbook", "digest": world.runbook_blob}]
    assert "Pilot fleet runbook" in deployment["facts"]["runbook_text"]
    html = written.html_path.read_text(encoding="utf-8")
    assert f'title="{world.envelope_blob}">{world.envelope_blob[:19]}…</code>' in html


def test_validation_reports_regressions_baseline_and_gate(written: DossierResult) -> None:
    items = _items(_document(written), "validation")
    evaluations = [i for k, i in items.items() if k.startswith("validation.evaluation.")]
    assert [e["facts"]["critical_regressions"] for e in evaluations] == [[], ["cut-in"]]
    assert evaluations[1]["facts"]["regressions"]["critical"] == 1
    assert items["validation.baseline.highway"]["facts"]["locked_from_this_model"] is True
    gate = next(i for k, i in items.items() if k.startswith("validation.gate."))
    assert gate["facts"]["allow"] is True
    assert {e["kind"] for e in gate["evidence"]} >= {"ledger-entry", "policy-bundle"}


def test_missing_evidence_is_listed_not_omitted(world: World, written: DossierResult) -> None:
    document = _document(written)
    unregistered = _items(document, "development")["development.dataset.acme/unregistered-scenes"]
    assert unregistered["missing"] == [
        "dataset acme/unregistered-scenes (declared by card) is not registered"
    ]
    gap = {"section": "development", "item": unregistered["id"], "what": unregistered["missing"][0]}
    assert gap in document["gaps"]
    assert document["summary"]["development"]["missing"] >= 1
    assert len(document["gaps"]) == sum(s["missing"] for s in document["summary"].values())
    html = written.html_path.read_text(encoding="utf-8")
    assert "missing: dataset acme/unregistered-scenes" in html

    bare = world.app.models.add(
        IntakeRequest(path=_bare_model(written.json_path.parent.parent), name="bare")
    )
    other = world.service.build(bare.version.ref).document
    whats = [g["what"] for g in other["gaps"]]
    for expected in (
        "no evaluation.completed entry for this model",
        "no signed sign-off recorded for this model",
        "no runtime envelope is signed for this model",
        "no deployment runs this model",
        "no recorded training run produced this version",
    ):
        assert expected in whats


def _bare_model(root: Path) -> Path:
    folder = root / "bare-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bare"}')
    return folder


def test_dossier_digest_is_the_file_the_blob_and_the_ledger_entry(
    world: World, written: DossierResult
) -> None:
    data = written.json_path.read_bytes()
    assert written.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert data == canonical_bytes(json.loads(data))  # the file is exactly the canonical form
    assert written.json_blob == written.digest
    assert world.app.workspace.blobs.exists(_digest(written.html_blob))
    recorded = world.app.ledger.tail(world.app.ledger.size() - written.seq)[0]
    assert recorded.kind == "dossier.written"
    assert recorded.payload == {
        "model": world.ref,
        "model_digest": world.digest,
        "dossier_digest": written.digest,
        "json": written.json_blob,
        "html": written.html_blob,
        "checkpoint_size": written.checkpoint_size,
    }
    assert written.digest in written.html_path.read_text(encoding="utf-8")


def _digest(text: str) -> Any:
    from modelsteward.types import Digest

    return Digest.parse(text)


def test_inclusion_proofs_verify_offline(world: World, written: DossierResult) -> None:
    document = _document(written)
    trusted = world.app.workspace.verifier()
    assert document["ledger"]["public_key"] == trusted.to_vkey()
    changes = document["sections"]["changes"]["items"]
    proven = set()
    for item in changes:
        proof = item["facts"]["proof"]
        assert proof["checkpoint"] == document["ledger"]["checkpoint"]["note"]
        report = verify_proof(json.dumps(proof).encode(), trusted)
        assert report.entry.seq == item["facts"]["seq"]
        assert report.entry.kind == item["facts"]["kind"]
        proven.add(report.entry.seq)
    cited = {
        e["seq"]
        for section in document["sections"].values()
        for item in section["items"]
        for e in item["evidence"]
        if e["kind"] == "ledger-entry"
    }
    assert cited <= proven
    kinds = {i["facts"]["kind"] for i in changes}
    assert {"release.signoff", "gate.decision", "deployment.killed", "person.added"} <= kinds
    assert "dossier.written" not in kinds
    observed = [i for i in changes if i["facts"]["kind"] == "deployment.observed"]
    assert len(observed) == 1  # the other model's observation on the same deployment is left out


def test_forged_signoff_is_shown_as_not_verified(written: DossierResult) -> None:
    items = _items(_document(written), "validation")
    signoffs = {
        i["facts"]["person"]: i for k, i in items.items() if k.startswith("validation.signoff.")
    }
    assert signoffs["sam"]["facts"]["signature_verified"] is True
    assert signoffs["sam"]["missing"] == []
    assert _evidence(signoffs["sam"], "signed-evidence")[0]["digest"] == "sha256:" + "e" * 64
    assert signoffs["lena"]["facts"]["signature_verified"] is False
    assert "does NOT verify" in signoffs["lena"]["missing"][0]
    html = written.html_path.read_text(encoding="utf-8")
    assert html.count("NOT verified") == 1


def test_bad_input_writes_nothing_and_records_nothing(world: World, tmp_path: Path) -> None:
    before = world.app.ledger.size()
    missing_out = tmp_path / "never"
    with pytest.raises(NotFound):
        world.service.write("no-such-model", missing_out)
    a_file = tmp_path / "report.txt"
    a_file.write_text("keep me")
    with pytest.raises(InvalidInput, match="is a file"):
        world.service.write(world.ref, a_file)
    with pytest.raises(InvalidInput, match="not a writable folder"):
        world.service.write(world.ref, a_file / "sub")
    with pytest.raises(InvalidInput, match="unknown use"):
        world.service.write(world.ref, missing_out, use="military")
    assert world.app.ledger.size() == before
    assert not missing_out.exists()
    assert a_file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


def test_writing_again_without_changes_gives_the_same_digest(
    world: World, written: DossierResult, tmp_path: Path
) -> None:
    again = world.service.write(world.ref, tmp_path / "again")
    assert again.digest == written.digest
    assert again.json_path.read_bytes() == written.json_path.read_bytes()
    assert again.html_path.read_bytes() == written.html_path.read_bytes()
    assert again.seq > written.seq  # each writing is recorded


def test_a_new_entry_about_the_model_changes_the_digest(tmp_path: Path, settings: Settings) -> None:
    app: Steward = init_workspace(settings)
    try:
        service = dossier_service(app)
        version = app.models.add(IntakeRequest(path=_bare_model(tmp_path), name="bare")).version
        first = service.write("bare", tmp_path / "one")
        app.ledger.append("note", f"model:{version.digest}", {"text": "reviewed"})
        second = service.write("bare", tmp_path / "two")
        assert second.digest != first.digest
        assert second.checkpoint_size > first.checkpoint_size
    finally:
        app.close()
