"""Gate decisions: build the policy input, read the policy's answer, keep the record.

A decision record is what ``gate.decision`` ledger entries carry. Its ``decision_id`` is the
SHA-256 of the record's canonical JSON without the id; the input and the policy bundle are kept as
blobs so ``steward gate replay`` can evaluate exactly the same thing again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelsteward.services.evidence import EvidenceSnapshot, digest_of

__all__ = [
    "INPUT_SCHEMA",
    "OUTCOME_FIELDS",
    "MalformedOutput",
    "engine_failure",
    "gate_input",
    "normalise_output",
    "seal",
]

INPUT_SCHEMA = "steward.gate-input/v1"
OUTCOME_FIELDS = ("allow", "unmet", "required", "rubric", "signoffs")
"""What replay compares: the policy's whole answer."""


class MalformedOutput(Exception):
    """The policy answered with something that is not a decision (names the field)."""


def gate_input(
    request: Mapping[str, Any],
    snapshot: EvidenceSnapshot,
    policy_digest: str,
    signoffs: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The document the policy sees as ``input`` (docs/policies.md)."""
    return {
        "schema": INPUT_SCHEMA,
        "request": dict(request),
        "digests": {
            "model": snapshot.evidence["model"]["digest"],
            "evidence": snapshot.digest,
            "policy": policy_digest,
            "items": dict(snapshot.items),
        },
        "evidence": dict(snapshot.evidence),
        "signoffs": [dict(s) for s in signoffs],
    }


def normalise_output(raw: Any, ref: str) -> dict[str, Any]:
    """Check the policy's answer has the decision's shape; substitute ``{ref}`` in the text.

    Raises:
        MalformedOutput: A field is missing or has the wrong type.
    """
    if not isinstance(raw, dict):
        raise MalformedOutput("the decision is not an object")
    if not isinstance(raw.get("allow"), bool):
        raise MalformedOutput("allow is not true/false")
    unmet = _list(raw, "unmet")
    for i, item in enumerate(unmet):
        if not isinstance(item, dict) or not isinstance(item.get("message"), str):
            raise MalformedOutput(f"unmet[{i}].message is not text")
        if not isinstance(item.get("id"), str):
            raise MalformedOutput(f"unmet[{i}].id is not text")
    if raw["allow"] and unmet:
        raise MalformedOutput("allow is true while requirements are unmet")
    rubric = raw.get("rubric", {})
    if not isinstance(rubric, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("met"), int) and isinstance(v.get("total"), int)
        for v in rubric.values()
    ):
        raise MalformedOutput("rubric is not {category: {met, total}}")
    signoffs = raw.get("signoffs", {"counted": [], "void": []})
    if not isinstance(signoffs, dict):
        raise MalformedOutput("signoffs is not an object")
    return {
        "allow": raw["allow"],
        "unmet": sorted((_fill(item, ref) for item in unmet), key=lambda u: str(u["id"])),
        "required": sorted(str(r) for r in _list(raw, "required")),
        "rubric": {str(k): {"met": v["met"], "total": v["total"]} for k, v in rubric.items()},
        "signoffs": {
            "counted": list(signoffs.get("counted", [])),
            "void": list(signoffs.get("void", [])),
        },
    }


def engine_failure(kind: str, message: str) -> dict[str, Any]:
    """The outcome when the policy cannot be evaluated: deny, saying why (fail closed)."""
    return {
        "allow": False,
        "unmet": [
            {
                "id": kind,
                "category": None,
                "title": "Policy evaluation",
                "message": message,
                "command": "steward policy test",
            }
        ],
        "required": [],
        "rubric": {},
        "signoffs": {"counted": [], "void": []},
    }


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """Add ``decision_id``, the digest of everything else in the record."""
    body = {k: v for k, v in record.items() if k != "decision_id"}
    return {**body, "decision_id": digest_of(body)}


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise MalformedOutput(f"{key} is not a list")
    return value


def _fill(item: Mapping[str, Any], ref: str) -> dict[str, Any]:
    return {
        "id": item["id"],
        "category": item.get("category"),
        "title": item.get("title") or item["id"],
        "message": str(item["message"]).replace("{ref}", ref),
        "command": None
        if item.get("command") is None
        else str(item["command"]).replace("{ref}", ref),
    }
