"""Sign-off plumbing for the release service: who signs, what the policy sees of each stored
sign-off (with its signature checked against the signer's registered key), the separation-of-
duties refusals, and explicit acceptances bound to evidence-item digests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelsteward.artifacts.signing import key_fingerprint, load_private_key
from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.policy import REFUSALS_QUERY, PolicyBundle, PolicyEngine
from modelsteward.registry.records import ModelVersion
from modelsteward.release import Person, SignedSignOff
from modelsteward.services.evidence import EvidenceSnapshot
from modelsteward.storage.db import Database
from modelsteward.storage.release_store import SqlRelease

__all__ = ["ACCEPTABLE", "accepted", "check_refusals", "signer", "signoff_inputs"]

ACCEPTABLE = {"odd-gaps": "odd", "provenance-gaps": "provenance"}
"""Gaps a sign-off may explicitly accept, and the evidence item each one binds."""


def signoff_inputs(
    db: Database, model_digest: str, stage: str | None, *, with_seq: bool = False
) -> list[dict[str, Any]]:
    """Stored sign-offs of a model (one stage, or all) as the policy sees them, oldest first."""
    with db.read() as conn:
        store = SqlRelease(conn)
        stored = store.signoffs(model_digest, stage)
        people = {p["name"]: p for p in store.people()}
    found = [_signoff_input(s, people) for s in stored]
    if with_seq:
        return [{**item, "seq": s["seq"]} for item, s in zip(found, stored, strict=True)]
    return found


def signer(db: Database, key: Path, role: str) -> Person:
    """The registered person whose key ``key`` is, if they hold ``role``."""
    key_id = key_fingerprint(load_private_key(key).public_key())
    with db.read() as conn:
        record = SqlRelease(conn).person_by_key(key_id)
    if record is None:
        raise PolicyDenied(
            "--key belongs to no registered person",
            hint="register the signer first: steward people add NAME --roles … --key KEY.pub",
        )
    person = Person.from_dict(record)
    if role not in person.roles:
        raise PolicyDenied(
            f"{person.name} does not hold the {role} role (holds: {', '.join(person.roles)})",
            hint="sign in a role you hold, or ask someone who holds it",
        )
    return person


def check_refusals(
    engine: PolicyEngine,
    bundle: PolicyBundle,
    version: ModelVersion,
    signed: SignedSignOff,
    person: Person,
    same_evidence: list[dict[str, Any]],
) -> None:
    """Ask the pack's separation-of-duties rules; ``PolicyDenied`` with their reasons."""
    statement = signed.statement
    existing = [s for s in same_evidence if s["signature_verified"]]
    candidate = {
        **statement.to_dict(),
        "roles_held": list(person.roles),
        "signature_verified": True,
    }
    document = {
        "candidate": candidate,
        "submitter": version.registered_by,
        "signoffs": existing,
        "tier": version.tier.value,
    }
    reasons = engine.evaluate(bundle, REFUSALS_QUERY, document)
    if not isinstance(reasons, list):
        raise PolicyDenied("the policy's sign-off rules answered malformed output")
    if reasons:
        raise PolicyDenied(
            "sign-off refused: " + "; ".join(sorted(str(r) for r in reasons)),
            hint="separation of duties: see docs/policies.md",
        )


def _signoff_input(stored: Mapping[str, Any], people: Mapping[str, Any]) -> dict[str, Any]:
    signed = SignedSignOff.from_dict(stored)
    statement = signed.statement
    person = people.get(statement.person)
    verified = (
        person is not None
        and person["key_id"] == signed.key_id
        and signed.verify(person["public_key"])
    )
    return {
        **statement.to_dict(),
        "roles_held": list(person["roles"]) if person else [],
        "signature_verified": verified,
    }


def accepted(names: tuple[str, ...], snapshot: EvidenceSnapshot) -> dict[str, str]:
    """``--accept`` names → the digest of the evidence item each accepts."""
    out = {}
    for name in names:
        if name not in ACCEPTABLE:
            raise InvalidInput(
                f"--accept {name!r} is not a gap one can accept",
                hint="one of: " + ", ".join(sorted(ACCEPTABLE)),
            )
        out[name] = snapshot.items[ACCEPTABLE[name]]
    return out
