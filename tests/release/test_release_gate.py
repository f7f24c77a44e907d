"""Release gates through the services: decisions are recorded and replayable, sign-offs are
digest-bound and separated, promotions move one stage at a time under role permissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.config import Settings
from modelsteward.errors import InvalidInput, NotFound, PolicyDenied
from modelsteward.ledger.entry import Entry
from modelsteward.storage.tables import ledger_entries
from release_factories import add_model, add_people, as_actor

pytestmark = pytest.mark.storage


def _kinds(steward: Steward, kind: str) -> list[Entry]:
    with steward.db.read() as conn:
        rows = conn.execute(select(ledger_entries.c.body).where(ledger_entries.c.kind == kind))
        return [Entry.from_bytes(bytes(b)) for b in rows.scalars()]


def _size(steward: Steward) -> int:
    with steward.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger_entries)).scalar_one())


@pytest.fixture
def keys(steward: Steward, settings: Settings, tmp_path: Path) -> dict[str, Path]:
    return add_people(steward, settings, tmp_path / "keys")


def test_gate_check_denies_with_reasons_and_records_the_decision(
    steward: Steward, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    decision = steward.release.check(ref, "offline-validated")
    assert not decision.allow
    unmet = {u["id"]: u for u in decision.record["unmet"]}
    assert set(unmet) == {"signoffs"}
    assert "steward signoff acme/tiny@1" in unmet["signoffs"]["command"]
    assert set(decision.record["rubric"]) <= {
        "performance", "provenance", "licensing", "hardening", "operations"
    }  # fmt: skip
    (entry,) = _kinds(steward, "gate.decision")
    assert entry.payload["decision_id"] == decision.id
    assert entry.payload["engine"]["name"] == "rego-cpp"
    assert entry.payload["policy_pack"]["name"] == "steward-default"


def test_replay_gives_the_identical_decision(
    steward: Steward, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    decision = steward.release.check(ref, "offline-validated")
    replay = steward.release.replay(decision.id[7:19])
    assert replay.identical
    assert replay.differences() == []
    assert replay.outcome["unmet"] == decision.record["unmet"]


def test_replay_of_an_unknown_or_malformed_id_is_refused(steward: Steward) -> None:
    with pytest.raises(NotFound):
        steward.release.replay("abcdef123456")
    with pytest.raises(InvalidInput):
        steward.release.replay("xyz")


def test_approved_signoff_lets_the_release_through_and_promotion_moves_it(
    steward: Steward, settings: Settings, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    steward.release.signoff(
        ref, "offline-validated", role="product", approve=True, comment="ok", key=keys["priya"]
    )
    assert steward.release.check(ref, "offline-validated").allow
    omar = as_actor(settings, "omar")
    try:
        promoted = omar.release.promote(ref, "offline-validated")
    finally:
        omar.close()
    assert promoted.allow
    assert promoted.record["purpose"] == "promote"
    (moved,) = _kinds(steward, "release.promoted")
    assert moved.payload["to"] == "offline-validated"
    assert moved.payload["decision_id"] == promoted.id
    check = steward.release.check(ref, "shadow")
    assert check.record["from"] == "offline-validated"


def test_rejection_by_a_required_role_denies(
    steward: Steward, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    steward.release.signoff(
        ref, "offline-validated", role="product", approve=False,
        comment="not for this market", key=keys["priya"],
    )  # fmt: skip
    decision = steward.release.check(ref, "offline-validated")
    assert not decision.allow
    assert "not for this market" in str(decision.record["unmet"])


def test_signoff_by_the_submitter_is_refused_and_records_nothing(
    steward: Steward, settings: Settings, keys: dict[str, Path], tmp_path: Path
) -> None:
    pair = generate_key_pair(tmp_path / "tester.pem")
    sid = as_actor(settings, "sid")
    try:
        sid.people.add("tester", "product", pair.public_key)
    finally:
        sid.close()
    ref = add_model(steward, tmp_path, "acme/tiny")  # registered by "tester"
    before = _size(steward)
    with pytest.raises(PolicyDenied, match="submitter"):
        steward.release.signoff(
            ref, "offline-validated", role="product", approve=True, comment="mine",
            key=pair.private_key,
        )  # fmt: skip
    assert _size(steward) == before


def test_signoff_needs_a_registered_key_and_a_held_role(
    steward: Steward, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    stranger = generate_key_pair(tmp_path / "eve.pem")
    before = _size(steward)
    with pytest.raises(PolicyDenied, match="no registered person"):
        steward.release.signoff(
            ref, "offline-validated", role="product", approve=True, comment="x",
            key=stranger.private_key,
        )  # fmt: skip
    with pytest.raises(PolicyDenied, match="does not hold the product role"):
        steward.release.signoff(
            ref, "offline-validated", role="product", approve=True, comment="x", key=keys["sam"]
        )
    with pytest.raises(InvalidInput, match="--comment"):
        steward.release.signoff(
            ref, "offline-validated", role="product", approve=True, comment=" ", key=keys["priya"]
        )
    with pytest.raises(InvalidInput, match="--accept"):
        steward.release.signoff(
            ref, "offline-validated", role="product", approve=True, comment="x",
            key=keys["priya"], accepts=("everything",),
        )  # fmt: skip
    assert _size(steward) == before


def test_changed_evidence_voids_earlier_signoffs(
    steward: Steward, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    steward.release.signoff(
        ref, "offline-validated", role="product", approve=True, comment="ok", key=keys["priya"]
    )
    assert steward.release.check(ref, "offline-validated").allow
    folder = tmp_path / "acme_tiny"
    steward.trust.verify(ref, folder)  # new evidence: a (signature-less) verification …
    signed = steward.trust.sign(ref, keys["priya"], tmp_path / "tiny.sig")
    assert signed
    steward.trust.verify(ref, folder, signature=tmp_path / "tiny.sig",
                         public_key=Path(f"{keys['priya']}.pub"))  # fmt: skip
    decision = steward.release.check(ref, "offline-validated")
    assert not decision.allow
    (void,) = decision.record["signoffs"]["void"]
    assert void["person"] == "priya"
    assert "evidence" in void["reason"]


def test_promotion_cannot_skip_a_stage_and_the_refusal_is_recorded(
    steward: Steward, settings: Settings, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    omar = as_actor(settings, "omar")
    try:
        with pytest.raises(PolicyDenied, match="stages cannot be skipped"):
            omar.release.promote(ref, "shadow")
        with pytest.raises(PolicyDenied, match="refused"):
            omar.release.promote(ref, "offline-validated")
    finally:
        omar.close()
    (decision,) = _kinds(steward, "gate.decision")
    assert decision.payload["purpose"] == "promote"
    assert not decision.payload["allow"]
    assert _kinds(steward, "release.promoted") == []


def test_promotion_needs_a_person_with_the_role(
    steward: Steward, settings: Settings, keys: dict[str, Path], tmp_path: Path
) -> None:
    ref = add_model(steward, tmp_path, "acme/tiny")
    before = _size(steward)
    with pytest.raises(PolicyDenied, match="not a registered person"):
        steward.release.promote(ref, "offline-validated")  # actor "tester"
    lena = as_actor(settings, "lena")
    try:
        with pytest.raises(PolicyDenied, match="may not run promote"):
            lena.release.promote(ref, "offline-validated")
    finally:
        lena.close()
    assert _size(steward) == before


def test_people_register_fails_closed(
    steward: Steward, settings: Settings, keys: dict[str, Path], tmp_path: Path
) -> None:
    pair = generate_key_pair(tmp_path / "x.pem")
    before = _size(steward)
    with pytest.raises(PolicyDenied):  # "tester" is nobody: cannot add people
        steward.people.add("xavier", "legal", pair.public_key)
    sid = as_actor(settings, "sid")
    try:
        with pytest.raises(Exception, match="already registered"):
            sid.people.add("sam", "legal", pair.public_key)
        with pytest.raises(Exception, match="already belongs to sam"):
            sid.people.add("sam2", "legal", Path(f"{keys['sam']}.pub"))
        with pytest.raises(InvalidInput):
            sid.people.add("Bad Name", "legal", pair.public_key)
        with pytest.raises(InvalidInput):
            sid.people.add("xavier", "boss", pair.public_key)
    finally:
        sid.close()
    assert _size(steward) == before
    with pytest.raises(NotFound):
        steward.people.get("nobody")


def test_a_broken_policy_folder_is_refused_before_anything_is_recorded(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "pack.yaml").write_text("name: mine\nversion: 1.0.0\ndescription: broken\n")
    (folder / "gate.rego").write_text("package steward.gate\nimport rego.v1\ndecision := {\n")
    app = init_workspace(settings.model_copy(update={"policy_dir": folder}))
    try:
        ref = add_model(app, tmp_path, "acme/tiny")
        before = _size(app)
        blobs = sorted((settings.home / "blobs").rglob("*"))
        with pytest.raises(InvalidInput, match="gate.rego"):
            app.release.check(ref, "offline-validated")
        assert _size(app) == before
        assert sorted((settings.home / "blobs").rglob("*")) == blobs
    finally:
        app.close()
