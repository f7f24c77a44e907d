"""Release domain rules: stages never skip, roles and permissions, sign-off signatures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.release import (
    LADDER,
    DeploymentSpec,
    Person,
    SignedSignOff,
    SignOffStatement,
    Stage,
    check_transition,
    parse_roles,
    parse_stage,
    require,
)


def _statement(**changes: object) -> SignOffStatement:
    base = SignOffStatement(
        model="m@1", model_digest="sha256:" + "1" * 64, stage="shadow", role="safety",
        person="sam", verdict="approve", comment="ok", accepts={"odd-gaps": "sha256:" + "4" * 64},
        evidence_digest="sha256:" + "2" * 64, policy_digest="sha256:" + "3" * 64,
        signed_at="2026-11-22T10:00:00.000000Z",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "target"), list(zip(LADDER, LADDER[1:], strict=False)))
def test_each_next_stage_is_allowed(current: Stage, target: Stage) -> None:
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Stage.REGISTERED, Stage.SHADOW),
        (Stage.OFFLINE_VALIDATED, Stage.PRODUCTION),
        (Stage.CANARY, Stage.SHADOW),
        (Stage.PRODUCTION, Stage.PRODUCTION),
        (Stage.RETIRED, Stage.REGISTERED),
        (Stage.ROLLED_BACK, Stage.RETIRED),
        (Stage.CANARY, Stage.ROLLED_BACK),
    ],
)
def test_skipping_going_back_or_leaving_a_final_stage_is_denied(
    current: Stage, target: Stage
) -> None:
    with pytest.raises(PolicyDenied):
        check_transition(current, target)


def test_any_live_stage_can_retire() -> None:
    for stage in LADDER:
        check_transition(stage, Stage.RETIRED)


def test_unknown_stage_names_the_option() -> None:
    with pytest.raises(InvalidInput, match="--to 'prod' is not a stage"):
        parse_stage("prod")
    assert parse_stage(" Canary ") is Stage.CANARY


def test_roles_are_checked_and_sorted() -> None:
    assert parse_roles("safety,legal") == ("legal", "safety")
    for bad in ("", "safety,boss", "safety,safety"):
        with pytest.raises(InvalidInput):
            parse_roles(bad)


def test_permissions_fail_closed_for_strangers_and_wrong_roles() -> None:
    ops = Person.create("omar", ["operations"], key_id="k", public_key="p")
    legal = Person.create("lena", ["legal"], key_id="k2", public_key="p")
    assert require("kill", "omar", ops) is ops
    with pytest.raises(PolicyDenied, match="not a registered person"):
        require("kill", "mallory", None)
    with pytest.raises(PolicyDenied, match="may not run kill"):
        require("kill", "lena", legal)


def test_signoff_signature_verifies_and_any_change_breaks_it(tmp_path: Path) -> None:
    keys = generate_key_pair(tmp_path / "sam.pem")
    other = generate_key_pair(tmp_path / "eve.pem")
    signed = SignedSignOff.sign(_statement(), keys.private_key)
    public = keys.public_key.read_text()
    assert signed.verify(public)
    assert signed.key_id == keys.fingerprint
    assert not signed.verify(other.public_key.read_text())
    for change in ({"verdict": "reject"}, {"evidence_digest": "sha256:" + "9" * 64},
                   {"accepts": {}}, {"stage": "canary"}):  # fmt: skip
        forged = dataclasses.replace(signed, statement=_statement(**change))
        assert not forged.verify(public)
    assert not dataclasses.replace(signed, signature="not base64!").verify(public)
    assert not signed.verify("not a key")


def test_signoff_round_trips_and_rejects_foreign_fields(tmp_path: Path) -> None:
    keys = generate_key_pair(tmp_path / "sam.pem")
    signed = SignedSignOff.sign(_statement(), keys.private_key)
    again = SignedSignOff.from_dict(signed.to_dict())
    assert again == signed
    assert again.verify(keys.public_key.read_text())
    data = signed.to_dict()["statement"]
    with pytest.raises(InvalidInput, match="unknown"):
        SignOffStatement.from_dict({**data, "extra": 1})
    with pytest.raises(InvalidInput, match="schema"):
        SignOffStatement.from_dict({**data, "schema": "other/v9"})


def test_deployment_spec_names_the_bad_option() -> None:
    ok = {"ring": "eu", "canary_share": 0.1, "rollback_target": "none", "kill_flag": "/k"}
    assert DeploymentSpec.create("fleet-1", **ok).name == "fleet-1"  # type: ignore[arg-type]
    for name, changes, match in [
        ("Bad Name", {}, "invalid deployment name"),
        ("f", {"canary_share": 0.0}, "--canary-share"),
        ("f", {"canary_share": float("nan")}, "--canary-share"),
        ("f", {"ring": " "}, "--ring"),
        ("f", {"kill_flag": ""}, "--kill-flag"),
    ]:
        with pytest.raises(InvalidInput, match=match):
            DeploymentSpec.create(name, **{**ok, **changes})  # type: ignore[arg-type]
