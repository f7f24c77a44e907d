"""Complete, realistic gate inputs for examples, tests and benchmarks.

:func:`complete_input` builds the document Steward hands the release gate when every piece of
evidence a tier needs is present and every required role has signed, with digests computed
the way Steward computes them. Tests change one thing and watch the gate deny.

    >>> doc = complete_input("controlled-pilot", "shadow")
    >>> doc["request"]["from"], doc["request"]["deployment"]
    ('offline-validated', 'pilot-fleet')
    >>> sorted(s["role"] for s in doc["signoffs"])
    ['operations', 'safety']
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import canonical_json
from modelsteward.policy.bundle import PolicyBundle

__all__ = ["PEOPLE", "complete_input", "digest_of", "seal_input"]

LADDER = ("registered", "offline-validated", "shadow", "canary", "production")
DEPLOYABLE = ("shadow", "canary", "production")

PEOPLE = {
    "legal": "lena",
    "security": "sid",
    "safety": "sam",
    "operations": "olga",
    "product": "pat",
}
"""Who signs for each role by default; ``dana`` submits the model."""

_SIGNED_AT = "2026-11-22T10:00:00.000000Z"


def digest_of(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value`` (as Steward digests evidence)."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


def complete_input(
    tier: str,
    to_stage: str,
    *,
    signers: Mapping[str, str] | None = None,
    evidence: Mapping[str, Any] | None = None,
    accepts: Mapping[str, str] | None = None,
    from_stage: str | None = None,
    bundle: PolicyBundle | None = None,
    date: str = "2026-11-22",
) -> dict[str, Any]:
    """A gate input for moving a ``tier`` model to ``to_stage`` with all evidence present.

    Args:
        tier: The model's risk tier.
        to_stage: The stage requested.
        signers: Role → person for the approvals to include (default: every role the
            bundle's data requires here, topped up to its minimum of distinct signers).
        evidence: Top-level evidence items to replace before digests and sign-offs are made.
        accepts: Acceptance key (``odd-gaps``) → role whose sign-off accepts the current item.
        from_stage: The current stage (default: the one below ``to_stage``; ``production``
            when retiring).
        bundle: The policy whose data and digest to use (default: the shipped pack).
        date: The request date (ISO).

    Raises:
        InvalidInput: an unknown stage.
    """
    policy = bundle or PolicyBundle.default()
    start = from_stage or _previous(to_stage)
    items = _evidence(tier, to_stage, start, policy)
    deployment = items["deployment"]["name"] if items["deployment"] else None
    items.update(evidence or {})
    doc: dict[str, Any] = {
        "schema": "steward.gate-input/v1",
        "request": {"from": start, "to": to_stage, "date": date, "deployment": deployment},
        "digests": {},
        "evidence": items,
        "signoffs": [],
    }
    roles = dict(signers) if signers is not None else _default_signers(tier, to_stage, policy)
    doc["signoffs"] = [
        {"person": person, "role": role, "roles_held": [role], "verdict": "approve"}
        for role, person in roles.items()
    ]
    return seal_input(doc, policy_digest=policy.digest, accepts=accepts)


def seal_input(
    doc: dict[str, Any],
    *,
    policy_digest: str,
    accepts: Mapping[str, str] | None = None,
    bind_signoffs: bool = True,
) -> dict[str, Any]:
    """Recompute ``doc``'s digests and bind its sign-offs to them (as if signed just now).

    Every sign-off gets the current model, evidence and policy digests, the requested stage,
    ``signature_verified: true`` and any field it lacks; ``accepts`` (key → role) makes that
    role's sign-offs accept the current evidence item (``odd-gaps`` → ``odd``). With
    ``bind_signoffs=False`` only the digests change: the sign-offs keep what they signed, as
    when evidence changes after signing.
    """
    evidence = doc["evidence"]
    item_digests = {key: digest_of(value) for key, value in sorted(evidence.items())}
    doc["digests"] = {
        "model": evidence["model"]["digest"],
        "evidence": digest_of(evidence),
        "policy": policy_digest,
        "items": item_digests,
    }
    if bind_signoffs:
        signoffs = [_bind(s, doc, accepts or {}) for s in doc["signoffs"]]
        doc["signoffs"] = sorted(signoffs, key=lambda s: (s["person"], s["role"], s["signed_at"]))
    return doc


_ACCEPTED_ITEM = {"odd-gaps": "odd", "provenance-gaps": "provenance"}


def _bind(
    signoff: Mapping[str, Any], doc: Mapping[str, Any], accepts: Mapping[str, str]
) -> dict[str, Any]:
    """``signoff`` with every field, signed now over ``doc``'s current digests."""
    digests = doc["digests"]
    given = {
        key: digests["items"][_ACCEPTED_ITEM[key]]
        for key, role in accepts.items()
        if role == signoff["role"]
    }
    return {
        "roles_held": [signoff["role"]],
        "verdict": "approve",
        "comment": "reviewed the evidence",
        "signed_at": _SIGNED_AT,
        "signature_verified": True,
        **signoff,
        "stage": doc["request"]["to"],
        "model_digest": digests["model"],
        "evidence_digest": digests["evidence"],
        "policy_digest": digests["policy"],
        "accepts": {**signoff.get("accepts", {}), **given},
    }


def _previous(to_stage: str) -> str:
    if to_stage == "retired":
        return "production"
    if to_stage not in LADDER[1:]:
        raise InvalidInput(f"no stage comes before {to_stage!r}")
    return LADDER[LADDER.index(to_stage) - 1]


def _gates(policy: PolicyBundle) -> Mapping[str, Any]:
    gates = policy.data.get("gates")
    return gates if isinstance(gates, Mapping) else {}


def _default_signers(tier: str, to_stage: str, policy: PolicyBundle) -> dict[str, str]:
    gates = _gates(policy)
    if to_stage == "retired":
        roles = list(gates.get("retirement", {}).get("roles", ["operations"]))[:1]
        return {role: PEOPLE[role] for role in roles}
    roles = list(gates.get("signoff_roles", {}).get(tier, {}).get(to_stage, []))
    wanted = int(gates.get("min_signers", {}).get(tier, 1))
    for role in PEOPLE:
        if len(roles) >= wanted:
            break
        if role not in roles:
            roles.append(role)
    return {role: PEOPLE[role] for role in roles}


_KEY_ID = "sha256:" + "ab" * 32

_SETTLED: dict[str, Any] = {
    "scan": {"status": "registered", "blocking": [], "accepted": []},
    "licence": {
        "use": "commercial",
        "distribution": "product",
        "verdict": "compatible",
        "passed": True,
        "approved": False,
        "allowed": True,
        "review_digest": "sha256:" + "cd" * 32,
        "reasons": [],
    },
    "datasets": [
        {
            "name": "steward-highway-demonstrations",
            "declared_by": "run",
            "registered": True,
            "digest": "sha256:" + "ef" * 32,
            "license": "Apache-2.0",
            "consent": "not-personal-data",
            "expires_on": "2036-11-20",
        }
    ],
    "reproduction": {"runs": 1, "verified": True, "outcomes": ["bit-exact"]},
    "evaluation": {
        "report": "sha256:" + "12" * 32,
        "suite_digest": "sha256:" + "34" * 32,
        "baseline": "highway-pilot",
        "locked_as": [],
        "critical_regressions": [],
        "at": "2026-11-21T08:00:00.000000Z",
    },
    "odd": {
        "coverage": "sha256:" + "56" * 32,
        "odd_digest": "sha256:" + "78" * 32,
        "gaps": 0,
        "top": [],
    },
    "envelope": {
        "digest": "sha256:" + "9a" * 32,
        "statement": "sha256:" + "bc" * 32,
        "key_id": _KEY_ID,
        "signed_at": "2026-11-21T09:00:00.000000Z",
    },
}
"""Evidence items that do not depend on the tier or stage: all present and clean."""


def _evidence(tier: str, to_stage: str, start: str, policy: PolicyBundle) -> dict[str, Any]:
    ref = "reference/competent-policy@1"
    model_digest = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
    model = {
        "ref": ref,
        "name": "reference/competent-policy",
        "version": 1,
        "digest": model_digest,
        "tier": tier,
        "status": "registered",
        "stage": start,
        "submitter": "dana",
        "intended_use": "highway lane keeping in the pilot fleet",
        "prohibited_use": "urban driving",
    }
    provenance = {
        "source": "https://example.org/steward/competent-policy",
        "revision": "4f2a9c1",
        "digest": model_digest,
        "training_runs": 1,
        "gaps": [],
        "signature": {
            "verified": True,
            "key_id": _KEY_ID,
            "verified_at": "2026-11-20T09:00:00.000000Z",
        },
    }
    return {
        "model": model,
        "provenance": provenance,
        **copy.deepcopy(_SETTLED),
        "deployment": _deployment(to_stage, start),
        "observations": _observations(tier, to_stage, policy),
    }


def _deployment(to_stage: str, start: str) -> dict[str, Any] | None:
    if to_stage not in DEPLOYABLE:
        return None
    return {
        "name": "pilot-fleet",
        "ring": "eu-pilot",
        "canary_share": 0.05,
        "runbook": "sha256:" + "de" * 32,
        "rollback_target": "sha256:" + "f0" * 32,
        "release": "sha256:" + "0f" * 32 if start in DEPLOYABLE else None,
        "stage": start if start in DEPLOYABLE else None,
    }


def _observations(tier: str, to_stage: str, policy: PolicyBundle) -> dict[str, Any]:
    limits = _gates(policy).get("thresholds", {}).get(tier, {})
    seen: dict[str, Any] = {"shadow": None, "canary": None}
    phases = {"canary": ("shadow",), "production": ("shadow", "canary")}.get(to_stage, ())
    for phase in phases:
        limit = limits.get(phase, {"min_cycles": 1000, "max_disagreement": 0.1})
        seen[phase] = {
            "cycles": int(limit["min_cycles"]),
            "disagreement": round(float(limit["max_disagreement"]) / 2, 4),
            "fail_closed": 0,
            "dropped": 0,
        }
    return seen
