"""Signing, verification and the AI-BOM of registered versions (real keys, real files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factories import make_hf_snapshot, write_malicious_pickle
from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.bom.cyclonedx import validate_cyclonedx
from modelsteward.bootstrap import Steward
from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.registry.records import ModelVersion
from modelsteward.services.intake import IntakeRequest

pytestmark = pytest.mark.storage


@pytest.fixture
def registered(steward: Steward, tmp_path: Path) -> tuple[ModelVersion, Path]:
    folder = make_hf_snapshot(tmp_path / "snap")
    version = steward.models.add(
        IntakeRequest(
            path=folder,
            name="acme/drive-vla",
            source="https://huggingface.co/acme/drive-vla-mini",
            revision="v1",
        )
    ).version
    return version, folder


def test_signed_version_verifies_with_files_and_signature(
    steward: Steward, registered: tuple[ModelVersion, Path], tmp_path: Path
) -> None:
    version, folder = registered
    keys = generate_key_pair(tmp_path / "key.pem")
    sig = tmp_path / "model.sig"

    _, fingerprint = steward.trust.sign(version.ref, keys.private_key, sig)
    result = steward.trust.verify(version.ref, folder, signature=sig, public_key=keys.public_key)

    assert fingerprint == keys.fingerprint
    assert result.ok, result.problems()
    kinds = [e.kind for e in steward.ledger.tail(2)]
    assert kinds == ["model.signed", "model.verified"]
    assert steward.models.details(version)["signatures"][0]["key_fingerprint"] == fingerprint


def test_tampered_copy_names_each_changed_missing_and_extra_file(
    steward: Steward, registered: tuple[ModelVersion, Path], tmp_path: Path
) -> None:
    version, folder = registered
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    shard = copy / "model-00001-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x01
    shard.write_bytes(bytes(data))
    (copy / "tokenizer.json").unlink()
    (copy / "backdoor.py").write_text("print('hi')\n")

    result = steward.trust.verify(version.ref, copy)

    assert not result.ok
    assert result.diff.changed == ("model-00001-of-00002.safetensors",)
    assert result.diff.missing == ("tokenizer.json",)
    assert result.diff.extra == ("backdoor.py",)
    entry = steward.ledger.tail(1)[0]
    assert (entry.kind, entry.payload["ok"]) == ("model.verified", False)


def test_signature_by_another_key_fails(
    steward: Steward, registered: tuple[ModelVersion, Path], tmp_path: Path
) -> None:
    version, folder = registered
    mine = generate_key_pair(tmp_path / "mine.pem")
    theirs = generate_key_pair(tmp_path / "theirs.pem")
    sig = tmp_path / "model.sig"
    steward.trust.sign(version.ref, mine.private_key, sig)

    result = steward.trust.verify(version.ref, folder, signature=sig, public_key=theirs.public_key)

    assert not result.ok
    assert result.signature_problem


def test_signature_for_other_content_fails(
    steward: Steward, registered: tuple[ModelVersion, Path], tmp_path: Path
) -> None:
    version, folder = registered
    keys = generate_key_pair(tmp_path / "k.pem")
    other = make_hf_snapshot(tmp_path / "other", seed=99)
    second = steward.models.add(IntakeRequest(path=other, name="other")).version
    sig = tmp_path / "other.sig"
    steward.trust.sign(second.ref, keys.private_key, sig)

    result = steward.trust.verify(version.ref, folder, signature=sig, public_key=keys.public_key)

    assert result.diff.clean
    assert result.signature_problem
    assert "not acme/drive-vla@1" in result.signature_problem


def test_bad_verify_input_records_nothing(
    steward: Steward, registered: tuple[ModelVersion, Path], tmp_path: Path
) -> None:
    version, folder = registered
    size = steward.ledger.size()
    (tmp_path / "garbage.sig").write_text("not json")
    keys = generate_key_pair(tmp_path / "k.pem")
    with pytest.raises(InvalidInput, match="go together"):
        steward.trust.verify(version.ref, folder, signature=tmp_path / "garbage.sig")
    with pytest.raises(InvalidInput):
        steward.trust.verify(
            version.ref, folder, signature=tmp_path / "garbage.sig", public_key=keys.public_key
        )
    with pytest.raises(InvalidInput, match="does not exist"):
        steward.trust.verify(version.ref, tmp_path / "nowhere")
    assert steward.ledger.size() == size


def test_blocked_version_is_never_signed(steward: Steward, tmp_path: Path) -> None:
    folder = make_hf_snapshot(tmp_path / "evil")
    write_malicious_pickle(folder / "optimizer.pt", tmp_path / "pwned")
    version = steward.models.add(IntakeRequest(path=folder, name="evil")).version
    keys = generate_key_pair(tmp_path / "k.pem")
    size = steward.ledger.size()

    with pytest.raises(PolicyDenied, match="blocked"):
        steward.trust.sign(version.ref, keys.private_key, tmp_path / "evil.sig")
    assert not (tmp_path / "evil.sig").exists()
    assert steward.ledger.size() == size


def test_bom_is_valid_cyclonedx_with_the_model_and_its_lineage(
    steward: Steward, registered: tuple[ModelVersion, Path]
) -> None:
    version, _ = registered
    document = json.loads(steward.trust.bom(version.ref))

    validate_cyclonedx(document)
    model = document["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert model["hashes"][0]["content"] == version.digest.hex
    ancestors = model["pedigree"]["ancestors"]
    assert [a["name"] for a in ancestors] == ["nvidia/Cosmos-Reason1-7B"]
    data = [c["name"] for c in document["components"] if c["type"] == "data"]
    assert sorted(data) == sorted(version.datasets)
