"""Model intake, inventory, lineage, aliases and suppliers through the services (real store)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from factories import make_hf_snapshot, write_benign_pickle, write_malicious_pickle
from modelsteward.bootstrap import Steward
from modelsteward.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from modelsteward.services.intake import IntakeRequest
from modelsteward.storage.tables import model_versions

pytestmark = pytest.mark.storage

SOURCE = "https://huggingface.co/acme/Drive-VLA-Mini"


def _rows(steward: Steward) -> int:
    with steward.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model_versions)).scalar() or 0)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return make_hf_snapshot(tmp_path / "drive-vla-mini")


def _add(app: Steward, path: Path, name: str = "acme/drive-vla", **kw: object):  # type: ignore[no-untyped-def]
    return app.models.add(IntakeRequest(path=path, name=name, **kw))  # type: ignore[arg-type]


def test_snapshot_registers_with_every_inventory_field(steward: Steward, snapshot: Path) -> None:
    result = _add(
        steward,
        snapshot,
        source=SOURCE,
        revision="0123456789abcdef0123456789abcdef01234567",
        steward="ada@example.com",
        tier="controlled-pilot",
        prohibited_use="public roads",
    )
    v = result.version
    assert result.created
    assert (v.ref, v.status.value, v.tier.value) == (
        "acme/drive-vla@1",
        "registered",
        "controlled-pilot",
    )
    assert v.digest == result.manifest.root_digest
    assert v.license == "other"
    assert v.license_name == "nvidia-open-model-license"
    assert v.license_link
    assert v.license_link.startswith("https://www.nvidia.com/")
    assert v.base_models == ("nvidia/Cosmos-Reason1-7B",)
    assert v.base_model_relation == "finetune"
    assert "nvidia/PhysicalAI-Autonomous-Vehicles" in v.datasets
    assert v.formats == ("safetensors",)
    assert v.framework["transformers"] == "4.46.2"
    assert v.framework["library"] == "transformers"
    assert v.file_count == 10  # .gitattributes is not part of the model
    assert v.size == sum(f.size for f in result.manifest.files)
    assert v.supplier == "huggingface.co/acme"
    assert v.intended_use
    assert "simulation" in v.intended_use
    assert v.prohibited_use == "public roads"
    assert v.registered_by == "tester"
    assert v.gaps == ()
    (entry,) = steward.ledger.tail(1)
    assert entry.kind == "model.registered"
    assert entry.payload["digest"] == str(v.digest)
    assert entry.payload["supplier_observation"]["license_file"] is True


def test_registering_identical_content_again_changes_nothing(
    steward: Steward, snapshot: Path
) -> None:
    first = _add(steward, snapshot)
    size = steward.ledger.size()
    again = _add(steward, snapshot, tier="limited-production")

    assert not again.created
    assert again.version == first.version
    assert any("tier" in note for note in again.ignored)
    assert steward.ledger.size() == size


def test_changed_content_is_a_new_version(steward: Steward, snapshot: Path) -> None:
    first = _add(steward, snapshot)
    (snapshot / "generation_config.json").write_text('{"do_sample": true}')
    second = _add(steward, snapshot)

    assert second.version.version == 2
    assert second.version.digest != first.version.digest
    assert steward.models.get("acme/drive-vla").version == 2
    assert steward.models.get("acme/drive-vla@1").digest == first.version.digest
    assert steward.models.get(str(first.version.digest)).ref == "acme/drive-vla@1"


def test_same_content_under_another_name_is_a_conflict(steward: Steward, snapshot: Path) -> None:
    _add(steward, snapshot)
    size = steward.ledger.size()
    with pytest.raises(Conflict, match="already registered as acme/drive-vla@1"):
        _add(steward, snapshot, name="other")
    assert steward.ledger.size() == size


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tier", "yolo", "unknown risk tier"),
        ("steward", "ada", "not an e-mail"),
        ("source", "ftp://x/y", "not an http"),
        ("revision", "main branch", "not a revision"),
        ("name", "bad name!", "invalid model name"),
    ],
)
def test_bad_options_register_nothing(
    steward: Steward, snapshot: Path, field: str, value: str, message: str
) -> None:
    size = steward.ledger.size()
    kwargs = {"path": snapshot, "name": "ok", field: value}
    with pytest.raises(InvalidInput, match=message):
        steward.models.add(IntakeRequest(**kwargs))  # type: ignore[arg-type]
    assert (steward.ledger.size(), _rows(steward)) == (size, 0)


def test_bad_folders_register_nothing(steward: Steward, tmp_path: Path, snapshot: Path) -> None:
    size = steward.ledger.size()
    empty = tmp_path / "empty"
    empty.mkdir()
    escaping = make_hf_snapshot(tmp_path / "escaping")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    os.symlink(secret, escaping / "notes.txt")
    for path, message in [
        (tmp_path / "nope", "does not exist"),
        (empty, "holds no files"),
        (escaping, "escaping the model folder"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            _add(steward, path)
    assert (steward.ledger.size(), _rows(steward)) == (size, 0)
    assert not list(steward.workspace.blobs.root.rglob("*")) or all(
        p.is_dir() for p in steward.workspace.blobs.root.rglob("*")
    )


def test_missing_or_malformed_card_is_a_gap_not_a_crash(steward: Steward, tmp_path: Path) -> None:
    no_card = make_hf_snapshot(tmp_path / "no-card", card=None)
    bad_card = make_hf_snapshot(
        tmp_path / "bad-card", card="---\nlicense: [oops\n---\n# x\n", seed=3
    )

    first = _add(steward, no_card, name="no-card").version
    second = _add(steward, bad_card, name="bad-card").version

    assert "card: no model card (README.md)" in first.gaps
    assert any("not valid YAML" in g for g in second.gaps)
    assert first.license is None
    assert first.status.value == "registered"


def test_malicious_pickle_registers_blocked_and_never_runs(
    steward: Steward, snapshot: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    write_malicious_pickle(snapshot / "training_args.bin", marker)

    v = _add(steward, snapshot).version

    assert v.status.value == "blocked"
    assert v.scan["unsafe"] == ["training_args.bin"]
    assert not marker.exists()
    with pytest.raises(PolicyDenied, match="blocked"):
        steward.models.move_alias("acme/drive-vla@prod", v.ref)
    assert steward.models.list(status="blocked")[0].name == "acme/drive-vla"


def test_benign_pickle_is_fine(steward: Steward, snapshot: Path) -> None:
    write_benign_pickle(snapshot / "extra_state.pkl")
    assert _add(steward, snapshot).version.status.value == "registered"


def test_unscanned_file_blocks_unless_accepted_with_a_reason(
    steward: Steward, snapshot: Path, tmp_path: Path
) -> None:
    (snapshot / "weights.xyz").write_bytes(b"\x00\x01 custom format")
    blocked = _add(steward, snapshot).version
    assert blocked.status.value == "blocked"
    assert blocked.scan["blocking"] == ["weights.xyz"]

    other = tmp_path / "copy"
    shutil.copytree(snapshot, other)
    (other / "weights.xyz").write_bytes(b"\x00\x02 custom format")
    with pytest.raises(InvalidInput, match="no unscanned file"):
        _add(steward, other, name="accepted", unsafe_accept_unscanned={"nope.bin": "x"})
    accepted = _add(
        steward,
        other,
        name="accepted",
        unsafe_accept_unscanned={"weights.xyz": "vendor format, reviewed by bob"},
    ).version
    assert accepted.status.value == "registered"
    (entry,) = steward.ledger.tail(1)
    assert entry.payload["scan"]["accepted"] == {"weights.xyz": "vendor format, reviewed by bob"}


def test_lineage_resolves_when_the_base_model_is_registered(
    steward: Steward, snapshot: Path, tmp_path: Path
) -> None:
    child = _add(steward, snapshot).version
    lineage = steward.models.lineage(child)
    assert lineage.unresolved() == ["nvidia/Cosmos-Reason1-7B"]
    assert "style=dashed" in lineage.to_dot()

    base = make_hf_snapshot(tmp_path / "cosmos", card="---\nlicense: apache-2.0\n---\n", seed=11)
    parent = _add(
        steward,
        base,
        name="cosmos-reason1",
        source="https://huggingface.co/nvidia/Cosmos-Reason1-7B",
    ).version

    lineage = steward.models.lineage(child)
    (ancestor,) = lineage.ancestors
    assert ancestor.version is not None
    assert ancestor.version.digest == parent.digest
    assert lineage.unresolved() == []
    assert [d.ref for d in steward.models.lineage(parent).descendants] == [child.ref]
    assert json.loads(json.dumps(lineage.to_dict()))["ancestors"][0]["resolved"] is True


def test_aliases_move_only_by_ledger_event_and_keep_history(
    steward: Steward, snapshot: Path
) -> None:
    one = _add(steward, snapshot).version
    (snapshot / "generation_config.json").write_text("{}")
    two = _add(steward, snapshot).version

    first = steward.models.move_alias("acme/drive-vla@prod", one.ref)
    second = steward.models.move_alias("acme/drive-vla@prod", str(two.digest))
    size = steward.ledger.size()
    same = steward.models.move_alias("acme/drive-vla@prod", two.ref)

    assert same.seq == second.seq
    assert steward.ledger.size() == size
    assert steward.models.get("acme/drive-vla@prod").digest == two.digest
    history = steward.models.alias_history("acme/drive-vla", "prod")
    assert [(m.previous, m.target) for m in history] == [
        (None, one.digest),
        (one.digest, two.digest),
    ]
    entries = {e.seq: e for e in steward.ledger.tail(5)}
    assert entries[first.seq].kind == "model.alias.moved"
    assert entries[second.seq].payload["previous"] == str(one.digest)


def test_alias_cannot_point_at_another_models_version(steward: Steward, snapshot: Path) -> None:
    v = _add(steward, snapshot).version
    with pytest.raises(InvalidInput, match="is a version of acme/drive-vla"):
        steward.models.move_alias("other@prod", v.ref)
    with pytest.raises(InvalidInput, match="invalid alias"):
        steward.models.move_alias("acme/drive-vla@1x", v.ref)
    with pytest.raises(NotFound):
        steward.models.get("acme/drive-vla@prod")


def test_inventory_filters_by_tier_licence_and_steward(steward: Steward, tmp_path: Path) -> None:
    apache = "---\nlicense: apache-2.0\n---\n"
    for i, (tier, card, owner) in enumerate(
        [
            ("exploratory", apache, "a@x.org"),
            ("controlled-pilot", apache, "b@x.org"),
            ("controlled-pilot", None, "a@x.org"),
        ]
    ):
        folder = make_hf_snapshot(tmp_path / f"m{i}", card=card, seed=i)
        _add(steward, folder, name=f"m{i}", tier=tier, steward=owner)

    names = lambda rows: [r.name for r in rows]  # noqa: E731
    assert names(steward.models.list(tier=["controlled-pilot"])) == ["m1", "m2"]
    assert names(steward.models.list(tier=["controlled-pilot"], license=["Apache-2.0"])) == ["m1"]
    assert names(steward.models.list(steward="A@x.org")) == ["m0", "m2"]
    with pytest.raises(InvalidInput, match="unknown risk tier"):
        steward.models.list(tier=["nope"])


def test_supplier_is_recorded_from_the_source_and_can_be_reviewed(
    steward: Steward, snapshot: Path
) -> None:
    _add(steward, snapshot, source=SOURCE, revision="v1.0")
    (supplier,) = steward.suppliers.list()
    assert supplier.id == "huggingface.co/acme"
    assert supplier.observations[0]["card_completeness"] == "8/8"
    assert supplier.observations[0]["license_file"] is True
    assert not supplier.reviewed

    reviewed = steward.suppliers.review(
        "huggingface.co/acme", maintainer_activity="active", advisories="none known"
    )
    assert reviewed.review.reviewed_by == "tester"
    assert steward.ledger.tail(1)[0].kind == "supplier.reviewed"
    with pytest.raises(InvalidInput):
        steward.suppliers.review("huggingface.co/acme", maintainer_activity="sleepy")
    with pytest.raises(NotFound) as missing:
        steward.suppliers.get("huggingface.co/nobody")
    assert "known suppliers: huggingface.co/acme" in missing.value.hint


def test_card_values_json_cannot_carry_are_kept_as_text(steward: Steward, tmp_path: Path) -> None:
    card = "---\nlicense: mit\nparams: 100000000000000000000\nscore: .nan\n---\n# m\n"
    folder = make_hf_snapshot(tmp_path / "odd", card=card)

    v = _add(steward, folder, name="odd").version

    assert v.card["metadata"]["params"] == "100000000000000000000"
    assert v.card["metadata"]["score"] == "nan"


def test_version_refs_are_plain_positive_numbers(steward: Steward, snapshot: Path) -> None:
    _add(steward, snapshot)
    assert steward.models.get("acme/drive-vla@1").version == 1
    for bad in ("acme/drive-vla@²", "acme/drive-vla@01", "acme/drive-vla@0"):
        with pytest.raises(InvalidInput):
            steward.models.get(bad)
