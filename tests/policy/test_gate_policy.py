"""The default release gate, through the real engine, on complete realistic inputs."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.policy import (
    GATE_QUERY,
    REFUSALS_QUERY,
    PolicyBundle,
    RegoCppEngine,
    complete_input,
)
from modelsteward.policy._examples import seal_input

TIERS = (
    "exploratory",
    "internal-decision-support",
    "controlled-pilot",
    "limited-production",
    "safety-critical-production",
)
STAGES = ("offline-validated", "shadow", "canary", "production", "retired")
DEFAULT = PolicyBundle.default()
GATES = DEFAULT.data["gates"]
ENGINE = RegoCppEngine()  # one compiled plan for the whole module


def decide(doc: dict[str, Any], bundle: PolicyBundle = DEFAULT) -> dict[str, Any]:
    decision: dict[str, Any] = ENGINE.evaluate(bundle, GATE_QUERY, doc)
    return decision


def unmet(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in decision["unmet"]}


def resealed(doc: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """``doc`` changed by ``change``, digests recomputed, sign-offs bound to the new evidence."""
    changed = copy.deepcopy(doc)
    change(changed)
    return seal_input(changed, policy_digest=DEFAULT.digest)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("stage", STAGES)
def test_complete_evidence_is_allowed(tier: str, stage: str) -> None:
    decision = decide(complete_input(tier, stage))
    assert decision["allow"] is True
    assert decision["unmet"] == []


def test_the_decision_has_the_contracted_shape() -> None:
    doc = complete_input("controlled-pilot", "offline-validated", signers={"legal": "dana"})
    decision = decide(doc)
    assert set(decision) == {"allow", "unmet", "required", "rubric", "signoffs"}
    assert set(decision["rubric"]) == {
        "performance",
        "provenance",
        "licensing",
        "hardening",
        "operations",
    }
    for item in decision["unmet"]:
        assert set(item) == {"id", "category", "title", "message", "command"}
    assert set(decision["signoffs"]) == {"counted", "void"}
    assert decision["signoffs"]["void"] == [
        {
            "person": "dana",
            "role": "legal",
            "reason": "dana submitted the model: the submitter cannot sign",
        }
    ]


def test_required_is_the_stage_check_plus_the_tier_and_stage_matrix() -> None:
    for tier in TIERS:
        for stage in STAGES[:4]:
            decision = decide(complete_input(tier, stage))
            assert decision["required"] == sorted({"stage", *GATES["matrix"][tier][stage]})


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = doc
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value

    return change


# (requirement, tier, stage, change, words in the message, words in the command)
BREAKS = [
    ("stage", "controlled-pilot", "shadow", _set("request.from", "registered"),
     "cannot go from registered to shadow", "steward promote {ref} --to offline-validated"),
    ("provenance", "controlled-pilot", "offline-validated",
     _set("evidence.provenance.signature.verified", False),
     "signature has not been verified", "steward model verify {ref} PATH"),
    ("scan", "controlled-pilot", "offline-validated",
     _set("evidence.scan.blocking", ["weights/model.pkl"]),
     "1 blocking file(s): weights/model.pkl", "steward scan PATH"),
    ("licence", "controlled-pilot", "offline-validated", _set("evidence.licence.allowed", False),
     "is compatible and not approved in the legal register",
     "steward license approve {ref} --use commercial"),
    ("datasets", "controlled-pilot", "offline-validated",
     _set("evidence.datasets.0.expires_on", "2026-03-01"),
     "dataset steward-highway-demonstrations expired on 2026-03-01", "--expiring"),
    ("reproduction", "safety-critical-production", "offline-validated",
     _set("evidence.reproduction.verified", False), "no verified reproduction",
     "steward run reproduce RUN"),
    ("evaluation", "controlled-pilot", "offline-validated",
     _set("evidence.evaluation.critical_regressions", ["cut-in-03", "merge-07"]),
     "2 critical regression(s) against baseline highway-pilot: cut-in-03, merge-07",
     "steward eval run {ref}"),
    ("odd", "controlled-pilot", "offline-validated", _set("evidence.odd.gaps", 7),
     "the ODD coverage has 7 gap(s)", "--accept odd-gaps"),
    ("envelope", "controlled-pilot", "shadow", _set("evidence.envelope", None),
     "no signed runtime envelope", "steward envelope sign ENVELOPE --model {ref}"),
    ("deployment", "controlled-pilot", "shadow", _set("request.deployment", None),
     "a promotion to shadow must name the deployment it goes to",
     "steward promote {ref} --to shadow --deployment NAME"),
    ("runbook", "controlled-pilot", "shadow", _set("evidence.deployment.runbook", None),
     "deployment pilot-fleet has no runbook", "--runbook RUNBOOK"),
    ("rollback", "limited-production", "canary",
     _set("evidence.deployment.rollback_target", "none"),
     "declares no rollback target (none)", "--rollback-target DIGEST"),
    ("shadow", "controlled-pilot", "canary",
     _set("evidence.observations.shadow.disagreement", 0.31),
     "shadow disagreement 0.31 exceeds the controlled-pilot limit of 0.2",
     "steward deployment observe pilot-fleet --log LOG_DIR"),
    ("canary", "controlled-pilot", "production", _set("evidence.observations.canary.cycles", 1999),
     "canary ran 1999 cycle(s); a controlled-pilot model needs at least 2000",
     "steward deployment observe pilot-fleet"),
    ("signoffs", "controlled-pilot", "offline-validated", _set("signoffs", []),
     "no counted approval for offline-validated from legal, safety, security",
     "steward signoff {ref} --to offline-validated --role legal --approve"),
]  # fmt: skip


def test_every_requirement_of_the_pack_has_a_breaking_case() -> None:
    assert {case[0] for case in BREAKS} == set(GATES["requirements"])


@pytest.mark.parametrize(
    ("requirement", "tier", "stage", "change", "message", "command"),
    BREAKS,
    ids=[case[0] for case in BREAKS],
)
def test_an_unmet_requirement_is_named_with_message_and_command(
    requirement: str,
    tier: str,
    stage: str,
    change: Callable[[dict[str, Any]], None],
    message: str,
    command: str,
) -> None:
    decision = decide(resealed(complete_input(tier, stage), change))
    assert decision["allow"] is False
    found = unmet(decision)
    assert set(found) == {requirement}
    item = found[requirement]
    assert message in item["message"]
    assert command in item["command"]
    assert item["category"] == GATES["requirements"][requirement]["category"]
    assert item["title"] == GATES["requirements"][requirement]["title"]


def test_everything_missing_names_every_requirement() -> None:
    doc = complete_input("safety-critical-production", "production", signers={})
    evidence = doc["evidence"]
    evidence["provenance"]["signature"]["verified"] = False
    evidence["model"]["status"] = evidence["scan"]["status"] = "blocked"
    evidence["licence"]["allowed"] = False
    evidence["datasets"] = []
    evidence["reproduction"]["verified"] = False
    for key in ("evaluation", "odd", "envelope", "deployment"):
        evidence[key] = None
    evidence["observations"] = {"shadow": None, "canary": None}
    decision = decide(seal_input(doc, policy_digest=DEFAULT.digest))
    assert set(unmet(decision)) == set(GATES["requirements"])
    assert decision["rubric"] == {
        category: {"met": 0, "total": score["total"]}
        for category, score in decide(complete_input("safety-critical-production", "production"))[
            "rubric"
        ].items()
    }


def test_the_rubric_counts_the_whole_checklist_of_the_tier() -> None:
    doc = complete_input("controlled-pilot", "offline-validated", evidence={"envelope": None})
    rubric = decide(doc)["rubric"]
    assert rubric["hardening"] == {"met": 1, "total": 2}
    assert rubric["operations"] == {"met": 1, "total": 6}
    assert rubric["performance"] == {"met": 2, "total": 2}


def test_signoffs_on_evidence_that_changed_since_are_void() -> None:
    doc = complete_input("controlled-pilot", "offline-validated")
    signed = doc["digests"]["evidence"]
    doc["evidence"]["odd"]["gaps"] = 0
    doc["evidence"]["scan"]["accepted"] = ["tokenizer.bin"]
    seal_input(doc, policy_digest=DEFAULT.digest, bind_signoffs=False)
    decision = decide(doc)
    assert decision["signoffs"]["counted"] == []
    reasons = {v["reason"] for v in decision["signoffs"]["void"]}
    assert reasons == {f"signed different evidence: the evidence changed since (signed {signed})"}
    assert "signoffs" in unmet(decision)


def test_one_person_signing_two_roles_counts_for_neither() -> None:
    doc = complete_input(
        "controlled-pilot",
        "offline-validated",
        signers={"legal": "lena", "safety": "sam", "security": "sam"},
    )
    for signoff in doc["signoffs"]:
        signoff["roles_held"] = ["safety", "security"] if signoff["person"] == "sam" else ["legal"]
    decision = decide(doc)
    assert decision["signoffs"]["counted"] == [{"person": "lena", "role": "legal"}]
    assert {(v["person"], v["role"]) for v in decision["signoffs"]["void"]} == {
        ("sam", "safety"),
        ("sam", "security"),
    }
    assert "one person, one role" in unmet(decision)["signoffs"]["message"]


def test_signoff_by_submitter_is_not_counted() -> None:
    doc = complete_input("exploratory", "offline-validated", signers={"product": "dana"})
    decision = decide(doc)
    assert decision["allow"] is False
    assert "dana submitted the model" in unmet(decision)["signoffs"]["message"]


def test_a_rejection_is_quoted_in_the_message_exactly() -> None:
    doc = complete_input("controlled-pilot", "offline-validated")
    for signoff in doc["signoffs"]:
        if signoff["role"] == "legal":
            signoff.update(verdict="reject", comment='the "NC" clause — non-commercial only')
    decision = decide(doc)
    assert decision["allow"] is False
    assert (
        'lena (legal) rejected: the "NC" clause — non-commercial only'
        in (unmet(decision)["signoffs"]["message"])
    )


@pytest.mark.parametrize(
    ("tier", "allowed"), [("controlled-pilot", True), ("limited-production", False)]
)
def test_provenance_gaps_may_be_accepted_by_security_up_to_controlled_pilot(
    tier: str, allowed: bool
) -> None:
    unknown = {
        "source": None,
        "revision": None,
        "training_runs": 0,
        "gaps": ["no --source: the upstream repository is unknown"],
    }
    base = complete_input(tier, "offline-validated")
    provenance = {**base["evidence"]["provenance"], **unknown}
    doc = complete_input(
        tier,
        "offline-validated",
        evidence={"provenance": provenance},
        accepts={"provenance-gaps": "security"},
    )
    assert decide(doc)["allow"] is allowed


def test_odd_gaps_accepted_by_safety_stop_counting_once_coverage_changes() -> None:
    gaps = {
        "coverage": "sha256:" + "1" * 64,
        "odd_digest": "sha256:" + "2" * 64,
        "gaps": 3,
        "top": [],
    }
    doc = complete_input(
        "controlled-pilot",
        "offline-validated",
        evidence={"odd": gaps},
        accepts={"odd-gaps": "safety"},
    )
    assert decide(doc)["allow"] is True
    doc["evidence"]["odd"]["gaps"] = 4
    seal_input(doc, policy_digest=DEFAULT.digest)  # everyone re-signs, acceptance kept as was
    assert "odd" in unmet(decide(doc))


def test_the_refusals_rule_answers_before_a_signoff_is_recorded() -> None:
    doc = complete_input("controlled-pilot", "offline-validated")
    candidate = doc["signoffs"][0]
    ask = {"candidate": candidate, "submitter": "dana", "signoffs": [], "tier": "controlled-pilot"}
    assert ENGINE.evaluate(DEFAULT, REFUSALS_QUERY, ask) == []
    refused = ENGINE.evaluate(DEFAULT, REFUSALS_QUERY, {**ask, "submitter": candidate["person"]})
    assert refused == [f"{candidate['person']} submitted the model: the submitter cannot sign it"]


USER_GATE = """package steward.gate
import rego.v1

decision := decide(input)

decide(doc) := d if {
    ok := doc.evidence.scan.status == "registered"
    d := {"allow": ok, "unmet": unmet(ok), "required": ["scan"], "rubric": {},
          "signoffs": {"counted": [], "void": []}}
}

unmet(ok) := [] if ok
else := [{"id": "scan", "category": "hardening", "title": "Scan",
          "message": "scan first", "command": "steward scan PATH"}]
"""

USER_TEST = """package steward.gate_test
import rego.v1

test_blocked_model_is_denied if {
    not data.steward.gate.decide({"evidence": {"scan": {"status": "blocked"}}}).allow
}
"""


def _user_pack(root: Path, gate: str) -> PolicyBundle:
    root.mkdir()
    (root / "pack.yaml").write_text("name: acme-gates\nversion: 0.3.0\n", encoding="utf-8")
    (root / "gate.rego").write_text(gate, encoding="utf-8")
    (root / "gate_test.rego").write_text(USER_TEST, encoding="utf-8")
    return PolicyBundle.from_dir(root)


def test_a_user_folder_with_its_own_policy_decides_and_tests(tmp_path: Path) -> None:
    bundle = _user_pack(tmp_path / "acme", USER_GATE)
    blocked = complete_input("controlled-pilot", "offline-validated", bundle=bundle)
    blocked["evidence"]["scan"]["status"] = "blocked"
    assert decide(complete_input("controlled-pilot", "offline-validated"), bundle)["allow"] is True
    assert decide(blocked, bundle)["unmet"][0]["message"] == "scan first"
    assert [(r.name, r.passed) for r in ENGINE.run_tests(bundle)] == [
        ("test_blocked_model_is_denied", True)
    ]


def test_a_broken_user_policy_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    bundle = _user_pack(
        tmp_path / "acme", USER_GATE.replace("decide(doc) := d if {", "decide(doc) := d if {{")
    )
    with pytest.raises(
        InvalidInput,
        match=r"acme-gates 0\.3\.0 does not compile: gate\.rego line 6 column 21: this is unclosed",
    ):
        decide(complete_input("controlled-pilot", "offline-validated"), bundle)


def test_a_user_policy_failing_at_run_time_denies(tmp_path: Path) -> None:
    bundle = _user_pack(tmp_path / "acme", USER_GATE.replace("unmet(ok)", "unmet_now(ok)", 1))
    with pytest.raises(PolicyDenied, match="policy engine error"):
        decide(complete_input("controlled-pilot", "offline-validated"), bundle)
