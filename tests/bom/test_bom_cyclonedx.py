"""The CycloneDX 1.6 AI-BOM: schema-valid, every file pinned, licences, lineage and datasets."""

from __future__ import annotations

import copy
import dataclasses
import doctest
import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

import factories
from modelsteward.artifacts.manifest import FileDigest, ModelManifest, hash_model
from modelsteward.artifacts.modelcard import read_card, read_config
from modelsteward.bom import _identifiers, _schema, cyclonedx
from modelsteward.bom.cyclonedx import (
    Ancestor,
    build_cyclonedx,
    render_cyclonedx,
    validate_cyclonedx,
)
from modelsteward.errors import VerificationFailed
from modelsteward.registry.records import ModelStatus, ModelVersion, RiskTier
from modelsteward.types import Digest

GOLDEN = Path(__file__).parent / "golden"
COMMIT = "8f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
SERIAL = uuid.UUID("6d1f0a52-3c4b-4e8a-9f21-7b5d2c9e0a13")
WHEN = "2026-03-01T12:00:00Z"
APACHE_CARD = factories.NVIDIA_CARD.replace(
    "license: other\nlicense_name: nvidia-open-model-license\n"
    "license_link: https://www.nvidia.com/en-us/agreements/enterprise-software/"
    "nvidia-open-model-license/\n",
    "license: apache-2.0\n",
)


def _record(folder: Path, **changes: Any) -> tuple[ModelVersion, ModelManifest]:
    """A registry record built by hand from a real snapshot, as intake would build it."""
    manifest = hash_model(folder)
    card, config = read_card(folder), read_config(folder)
    record = ModelVersion(
        name="acme/drive-vla-mini",
        version=3,
        digest=manifest.root_digest,
        status=ModelStatus.REGISTERED,
        tier=RiskTier.CONTROLLED_PILOT,
        source="https://huggingface.co/nvidia/Drive-VLA-Mini",
        revision=COMMIT,
        steward="alice@acme.example",
        intended_use="Closed-track trajectory planning research",
        prohibited_use="Driving on public roads",
        formats=("safetensors",),
        size=manifest.total_size,
        file_count=len(manifest.files),
        license=card.license,
        license_name=card.license_name,
        license_link=card.license_link,
        base_models=card.base_models,
        base_model_relation=card.base_model_relation,
        datasets=card.datasets,
        framework=config.framework_versions,
        supplier="huggingface.co/nvidia",
        card=card.to_dict(),
        config=config.to_dict(),
        scan={"counts": {"safe": 10, "unsafe": 0}, "blocking": [], "scanners": {"fickling": "0.1"}},
        manifest_blob=Digest.of(b"manifest"),
        scan_blob=Digest.of(b"scan"),
        registered_at="2026-02-27T09:30:00.000000Z",
        registered_by="alice@acme.example",
        gaps=card.gaps + config.gaps,
    )
    return dataclasses.replace(record, **changes), manifest


@pytest.fixture
def model(tmp_path: Path) -> tuple[ModelVersion, ModelManifest]:
    """The NVIDIA-style snapshot (licence ``other``, one base model, two datasets)."""
    return _record(factories.make_hf_snapshot(tmp_path / "snap"))


@pytest.fixture
def base(tmp_path: Path) -> ModelVersion:
    """The registered version the snapshot's base model resolves to."""
    folder = factories.make_hf_snapshot(tmp_path / "base", card=APACHE_CARD, seed=3)
    record, _ = _record(
        folder,
        name="nvidia/Cosmos-Reason1-7B",
        version=1,
        source="https://huggingface.co/nvidia/Cosmos-Reason1-7B",
    )
    return record


def _bom(record: ModelVersion, manifest: ModelManifest, *ancestors: Ancestor) -> dict[str, Any]:
    document = build_cyclonedx(record, manifest, ancestors, tool_version="0.1.0")
    validate_cyclonedx(document)
    return document


def test_bom_for_a_realistic_record_validates_against_the_official_schema(
    model: tuple[ModelVersion, ModelManifest], base: ModelVersion
) -> None:
    record, manifest = model
    text = render_cyclonedx(
        record, manifest, [Ancestor("nvidia/Cosmos-Reason1-7B", "finetune", base)], tool_version="9"
    )
    # checked again here with the library's own validator, independently of Steward's wrapper
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = json.loads(text)
    assert (document["bomFormat"], document["specVersion"], document["version"]) == (
        "CycloneDX",
        "1.6",
        1,
    )
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", document["serialNumber"])
    assert document["metadata"]["tools"]["components"] == [
        {"type": "application", "name": "modelsteward", "version": "9"}
    ]


def test_model_component_is_a_machine_learning_model_pinned_by_its_root_digest(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    component = _bom(record, manifest)["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert component["hashes"] == [{"alg": "SHA-256", "content": manifest.root_digest.hex}]
    assert manifest.root_digest.hex in component["bom-ref"]
    assert (component["name"], component["version"]) == ("acme/drive-vla-mini", "3")
    assert component["purl"] == f"pkg:huggingface/nvidia/Drive-VLA-Mini@{COMMIT}"
    assert component["supplier"] == {"name": "nvidia", "url": ["https://huggingface.co/nvidia"]}
    properties = {p["name"]: p["value"] for p in component["properties"]}
    assert properties["steward:tier"] == "controlled-pilot"
    assert properties["steward:status"] == "registered"
    assert properties["steward:revision"] == COMMIT
    assert properties["steward:scan.counts.unsafe"] == "0"


def test_every_manifest_file_is_pinned_by_its_sha256(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    files = _bom(record, manifest)["metadata"]["component"]["components"]
    assert {f["type"] for f in files} == {"file"}
    pinned = {f["name"]: f["hashes"] for f in files}
    assert pinned == {m.path: [{"alg": "SHA-256", "content": m.sha256}] for m in manifest.files}
    assert "model-00002-of-00002.safetensors" in pinned


def test_licence_other_becomes_its_name_and_link(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    component = _bom(record, manifest)["metadata"]["component"]
    assert component["licenses"] == [
        {"license": {"name": "nvidia-open-model-license", "url": record.license_link}}
    ]
    assert {"type": "license", "url": record.license_link} in component["externalReferences"]


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("apache-2.0", {"id": "Apache-2.0"}),
        ("MIT", {"id": "MIT"}),
        ("cc-by-4.0", {"id": "CC-BY-4.0"}),
        ("gpl-3.0", {"id": "GPL-3.0-only"}),  # deprecated SPDX id → its current form
        ("llama3.1", {"name": "llama3.1"}),
        ("openrail", {"name": "openrail"}),
    ],
)
def test_spdx_licences_become_ids_and_others_names(
    model: tuple[ModelVersion, ModelManifest], declared: str, expected: dict[str, str]
) -> None:
    record, manifest = model
    record = dataclasses.replace(record, license=declared, license_name=None, license_link=None)
    licences = _bom(record, manifest)["metadata"]["component"]["licenses"]
    assert licences == [{"license": expected}]


def test_resolved_ancestor_carries_the_registered_versions_hash(
    model: tuple[ModelVersion, ModelManifest], base: ModelVersion
) -> None:
    record, manifest = model
    edge = Ancestor("nvidia/Cosmos-Reason1-7B", "finetune", base)
    (ancestor,) = _bom(record, manifest, edge)["metadata"]["component"]["pedigree"]["ancestors"]
    assert ancestor["hashes"] == [{"alg": "SHA-256", "content": base.digest.hex}]
    assert ancestor["bom-ref"] == f"model:{base.digest}"
    assert ancestor["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    properties = {p["name"]: p["value"] for p in ancestor["properties"]}
    assert properties["steward:resolved"] == "true"
    assert properties["steward:base-model-relation"] == "finetune"
    assert properties["steward:registry.ref"] == "nvidia/Cosmos-Reason1-7B@1"


def test_unresolved_ancestor_is_named_only_and_marked_unresolved(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    edge = Ancestor("nvidia/Cosmos-Reason1-7B", "finetune", None)
    (ancestor,) = _bom(record, manifest, edge)["metadata"]["component"]["pedigree"]["ancestors"]
    assert ancestor == {
        "type": "machine-learning-model",
        "name": "nvidia/Cosmos-Reason1-7B",
        "properties": [
            {"name": "steward:resolved", "value": "false"},
            {"name": "steward:base-model-relation", "value": "finetune"},
        ],
    }


def test_declared_base_model_left_out_of_ancestors_is_still_listed_as_unresolved(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    ancestors = _bom(record, manifest)["metadata"]["component"]["pedigree"]["ancestors"]
    assert [a["name"] for a in ancestors] == ["nvidia/Cosmos-Reason1-7B"]
    assert {"name": "steward:resolved", "value": "false"} in ancestors[0]["properties"]


def test_datasets_become_data_components_referenced_from_model_parameters(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    document = _bom(record, manifest)
    data = {c["bom-ref"]: c for c in document["components"] if c["type"] == "data"}
    assert [c["name"] for c in data.values()] == list(record.datasets)
    assert all(c["data"] == [{"type": "dataset", "name": c["name"]}] for c in data.values())
    component = document["metadata"]["component"]
    refs = [d["ref"] for d in component["modelCard"]["modelParameters"]["datasets"]]
    assert refs == list(data)
    assert document["dependencies"] == [{"ref": component["bom-ref"], "dependsOn": refs}]


def test_model_card_carries_task_architecture_uses_limitations_and_prohibited_use(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    card = _bom(record, manifest)["metadata"]["component"]["modelCard"]
    assert card["modelParameters"]["task"] == "robotics"
    assert card["modelParameters"]["architectureFamily"] == "drive_vla"
    assert card["modelParameters"]["modelArchitecture"] == "DriveVLAForConditionalGeneration"
    assert "inputs" not in card["modelParameters"]  # nothing to infer from "robotics"
    assert card["considerations"]["useCases"][0] == record.intended_use
    assert "public roads" in card["considerations"]["technicalLimitations"][0]
    assert {"name": "steward:prohibited-use", "value": record.prohibited_use} in card["properties"]


def test_a_model_without_a_card_still_gets_a_valid_bom_listing_its_gaps(tmp_path: Path) -> None:
    record, manifest = _record(factories.make_hf_snapshot(tmp_path / "bare", card=None))
    record = dataclasses.replace(record, source="/mnt/models/bare", revision=None, supplier=None)
    component = _bom(record, manifest)["metadata"]["component"]
    assert "licenses" not in component
    assert "purl" not in component
    assert "externalReferences" not in component  # a local path is not a URL
    gaps = [p["value"] for p in component["modelCard"]["properties"] if p["name"] == "steward:gap"]
    assert "no model card (README.md)" in gaps


def _drop_format(doc: dict[str, Any]) -> None:
    del doc["bomFormat"]


def _bad_hash(doc: dict[str, Any]) -> None:
    doc["metadata"]["component"]["hashes"][0]["content"] = "not-a-digest"


def _unknown_field(doc: dict[str, Any]) -> None:
    doc["metadata"]["component"]["modelCard"]["outOfScopeUses"] = ["public roads"]


def _dangling_dataset(doc: dict[str, Any]) -> None:
    doc["components"].pop()


@pytest.mark.parametrize(
    ("breakage", "path"),
    [
        (_drop_format, "$: 'bomFormat' is a required property"),
        (_bad_hash, "$.metadata.component.hashes[0].content: 'not-a-digest' does not match"),
        (_unknown_field, "$.metadata.component.modelCard: Additional properties"),
        (_dangling_dataset, "$.metadata.component.modelCard.modelParameters.datasets[1].ref"),
    ],
)
def test_a_broken_document_fails_validation_naming_the_path(
    model: tuple[ModelVersion, ModelManifest],
    breakage: Callable[[dict[str, Any]], None],
    path: str,
) -> None:
    record, manifest = model
    document = copy.deepcopy(_bom(record, manifest))
    breakage(document)
    with pytest.raises(VerificationFailed, match=re.escape(path)):
        validate_cyclonedx(document)


def test_render_refuses_to_write_an_invalid_bom(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    with pytest.raises(VerificationFailed, match=re.escape("$.metadata.timestamp")):
        render_cyclonedx(record, manifest, [], tool_version="0.1.0", timestamp="last Tuesday")


def test_a_manifest_of_another_version_is_refused(
    model: tuple[ModelVersion, ModelManifest], tmp_path: Path
) -> None:
    record, _ = model
    other = hash_model(factories.make_hf_snapshot(tmp_path / "other", seed=99))
    with pytest.raises(VerificationFailed, match="is not the digest of acme/drive-vla-mini@3"):
        build_cyclonedx(record, other, [], tool_version="0.1.0")


def test_serial_and_timestamp_are_fresh_unless_injected(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    one, two = (build_cyclonedx(record, manifest, [], tool_version="0") for _ in range(2))
    assert one["serialNumber"] != two["serialNumber"]
    pinned = build_cyclonedx(record, manifest, [], tool_version="0", serial=SERIAL, timestamp=WHEN)
    assert (pinned["serialNumber"], pinned["metadata"]["timestamp"]) == (f"urn:uuid:{SERIAL}", WHEN)


def _tiny() -> tuple[ModelVersion, ModelManifest, list[Ancestor]]:
    """A fixed record (no files on disk), so the golden BOM never depends on numpy or the clock."""
    manifest = ModelManifest(
        "tiny-llm",
        (
            FileDigest("config.json", "1" * 64, 512),
            FileDigest("model.safetensors", "2" * 64, 4096),
        ),
    )
    card = {
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "languages": ["en"],
        "tags": ["tiny"],
        "intended_use": "Unit tests",
    }
    base = _tiny_version(Digest("3" * 64), "acme/tiny-base", "mit", {})
    record = _tiny_version(manifest.root_digest, "acme/tiny-llm", "apache-2.0", card)
    record = dataclasses.replace(
        record,
        base_models=("acme/tiny-base", "someone/unregistered"),
        base_model_relation="finetune",
        datasets=("acme/tiny-corpus",),
        gaps=("no limitations section",),
    )
    return record, manifest, [Ancestor("acme/tiny-base", None, base)]


def _tiny_version(digest: Digest, name: str, licence: str, card: dict[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=2,
        digest=digest,
        status=ModelStatus.REGISTERED,
        tier=RiskTier.EXPLORATORY,
        source=f"https://huggingface.co/{name}",
        revision=COMMIT,
        steward="bob",
        intended_use=None,
        prohibited_use=None,
        formats=("safetensors",),
        size=4608,
        file_count=2,
        license=licence,
        license_name=None,
        license_link=None,
        base_models=(),
        base_model_relation=None,
        datasets=(),
        framework={},
        supplier="huggingface.co/acme",
        card=card,
        config={"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
        scan={"counts": {"safe": 2}},
        manifest_blob=Digest("4" * 64),
        scan_blob=Digest("5" * 64),
        registered_at="2026-02-01T00:00:00.000000Z",
        registered_by="bob",
    )


def test_bom_matches_the_golden_file() -> None:
    # To regenerate after an intended format change, run
    #   UPDATE_GOLDEN=1 .venv/bin/pytest tests/bom -k golden
    # and review the diff of tests/bom/golden/tiny-llm.cdx.json before keeping it.
    record, manifest, ancestors = _tiny()
    text = render_cyclonedx(
        record, manifest, ancestors, tool_version="0.1.0", serial=SERIAL, timestamp=WHEN
    )
    golden = GOLDEN / "tiny-llm.cdx.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_module_examples_run() -> None:
    for module in (cyclonedx, _identifiers, _schema):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0
        assert result.failed == 0, module.__name__


def test_public_names_are_exported() -> None:
    assert set(cyclonedx.__all__) == {
        "SPEC_VERSION",
        "Ancestor",
        "TrainingData",
        "build_cyclonedx",
        "render_cyclonedx",
        "validate_cyclonedx",
    }


def test_a_licence_link_that_is_not_a_url_is_left_out_rather_than_breaking_the_bom(
    model: tuple[ModelVersion, ModelManifest],
) -> None:
    record, manifest = model
    record = dataclasses.replace(record, license_link="see the LICENSE file")
    component = _bom(record, manifest)["metadata"]["component"]
    assert component["licenses"] == [{"license": {"name": "nvidia-open-model-license"}}]
    assert all(ref["type"] != "license" for ref in component["externalReferences"])
