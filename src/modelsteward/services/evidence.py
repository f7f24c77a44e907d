"""Assemble a release's evidence snapshot: the facts the release gate judges.

The snapshot reports facts only (what is registered, signed, reviewed, evaluated, observed); the
policy decides what they mean. Its identity is the SHA-256 of its canonical JSON, and every
top-level item has its own digest so a sign-off can accept one gap precisely. Nothing in the
snapshot depends on the clock, so the same state gives the same digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from modelsteward.ledger.entry import canonical_json
from modelsteward.registry.records import ModelVersion
from modelsteward.services._ledger_query import entries, entries_of_kind
from modelsteward.services.licenses import LicenseService
from modelsteward.services.models import ModelService
from modelsteward.storage.provenance_store import SqlDatasets, SqlRuns
from modelsteward.storage.release_store import DeploymentRow, SqlRelease
from modelsteward.types import Digest

__all__ = [
    "LICENCE_DISTRIBUTION",
    "LICENCE_USE",
    "EvidenceCollector",
    "EvidenceSnapshot",
    "digest_of",
]

LICENCE_USE = "commercial"
LICENCE_DISTRIBUTION = "product"
"""The licence question a release answers: commercial use, in a product that embeds the weights."""

_GOOD_REPRODUCTION = {"bit-exact", "within-tolerance"}


def digest_of(value: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``value``."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


@dataclass(frozen=True)
class EvidenceSnapshot:
    """The evidence about one release, and its digests."""

    evidence: Mapping[str, Any]
    digest: str
    items: Mapping[str, str]

    @classmethod
    def of(cls, evidence: Mapping[str, Any]) -> EvidenceSnapshot:
        """Compute the digests of ``evidence``."""
        items = {key: digest_of(value) for key, value in sorted(evidence.items())}
        return cls(evidence, digest_of(evidence), items)


class EvidenceCollector:
    """Gathers the facts from the registry, the provenance records and the ledger."""

    def __init__(self, models: ModelService, licenses: LicenseService) -> None:
        self.models = models
        self.licenses = licenses

    def collect(
        self, version: ModelVersion, deployment: tuple[str, DeploymentRow] | None
    ) -> EvidenceSnapshot:
        """The snapshot of ``version`` (as released into ``deployment``, when named)."""
        digest = str(version.digest)
        with self.models.db.read() as conn:
            runs = SqlRuns(conn).producing([digest]).get(digest, [])
            release = SqlRelease(conn)
            evidence: dict[str, Any] = {
                "model": _model(version, release.stage(digest) or "registered"),
                "provenance": _provenance(conn, version, len(runs)),
                "scan": {
                    "status": version.status.value,
                    "blocking": sorted(version.scan.get("blocking", [])),
                    "accepted": sorted(version.scan.get("accepted", {})),
                },
                "datasets": _datasets(conn, version, runs),
                "reproduction": _reproduction(conn, runs),
                "evaluation": _evaluation(conn, digest),
                "odd": _odd(conn, digest),
                "envelope": _envelope(conn, digest),
                "deployment": _deployment(deployment),
                "observations": _observations(conn, digest, deployment),
            }
        evidence["licence"] = self._licence(version)
        return EvidenceSnapshot.of(evidence)

    def _licence(self, version: ModelVersion) -> dict[str, Any]:
        decision = self.licenses.review(
            str(version.digest), use=LICENCE_USE, distribution=LICENCE_DISTRIBUTION
        )
        review = decision.review.to_dict()
        return {
            "use": review["use"],
            "distribution": review["distribution"],
            "verdict": review["verdict"],
            "passed": bool(review["passed"]),
            "approved": decision.approval is not None,
            "allowed": decision.allowed,
            "review_digest": decision.review.digest,
            "reasons": sorted({r["message"] for r in review["reasons"]}),
        }


def _model(version: ModelVersion, stage: str) -> dict[str, Any]:
    return {
        "ref": version.ref,
        "name": version.name,
        "version": version.version,
        "digest": str(version.digest),
        "tier": version.tier.value,
        "status": version.status.value,
        "stage": stage,
        "submitter": version.registered_by,
        "intended_use": version.intended_use,
        "prohibited_use": version.prohibited_use,
    }


def _provenance(conn: Connection, version: ModelVersion, runs: int) -> dict[str, Any]:
    subject = f"model:{version.digest}"
    verified = [
        e
        for e in entries(conn, ["model.verified"], subject)
        if e.payload.get("ok") and e.payload.get("signature_checked")
    ]
    newest = verified[-1] if verified else None
    return {
        "source": version.source,
        "revision": version.revision,
        "digest": str(version.digest),
        "training_runs": runs,
        "gaps": sorted(version.gaps),
        "signature": {
            "verified": newest is not None,
            "key_id": newest.payload.get("signature_key") if newest else None,
            "verified_at": newest.time if newest else None,
        },
    }


def _datasets(conn: Connection, version: ModelVersion, runs: list[Any]) -> list[dict[str, Any]]:
    store = SqlDatasets(conn)
    found: dict[str, dict[str, Any]] = {}
    for run in runs:
        for item in run.datasets:
            snap = store.by_digest(Digest.parse(item.digest))
            found[item.name] = _dataset_row(item.name, "run", snap)
    for name in version.datasets:
        if name not in found:
            found[name] = _dataset_row(name, "card", store.by_name(name))
    return [found[name] for name in sorted(found)]


def _dataset_row(name: str, declared_by: str, snap: Any) -> dict[str, Any]:
    return {
        "name": name,
        "declared_by": declared_by,
        "registered": snap is not None,
        "digest": str(snap.digest) if snap else None,
        "license": snap.license if snap else None,
        "consent": str(snap.consent) if snap else None,
        "expires_on": snap.expires_on if snap else None,
    }


def _reproduction(conn: Connection, runs: list[Any]) -> dict[str, Any]:
    store = SqlRuns(conn)
    outcomes = sorted({str(r.outcome) for run in runs for r in store.reproductions(run.id)})
    return {
        "runs": len(runs),
        "verified": bool(runs) and bool(_GOOD_REPRODUCTION & set(outcomes)),
        "outcomes": outcomes,
    }


def _evaluation(conn: Connection, digest: str) -> dict[str, Any] | None:
    done = entries(conn, ["evaluation.completed"], f"model:{digest}")
    if not done:
        return None
    newest = done[-1].payload
    locks = [
        e.payload
        for e in entries_of_kind(conn, "evaluation.baseline.locked")
        if e.payload.get("report") == newest["report"]
    ]
    return {
        "report": newest["report"],
        "suite_digest": newest["suite_digest"],
        "baseline": newest.get("baseline"),
        "locked_as": sorted({str(lock["name"]) for lock in locks}),
        "critical_regressions": sorted(newest.get("critical_regressions") or []),
        "at": done[-1].time,
    }


def _odd(conn: Connection, digest: str) -> dict[str, Any] | None:
    done = entries(conn, ["odd.coverage.recorded"], f"model:{digest}")
    if not done:
        return None
    p = done[-1].payload
    return {
        "coverage": p["coverage"],
        "odd_digest": p["odd_digest"],
        "gaps": int(p["gaps"]),
        "top": list(p.get("top", []))[:3],  # the riskiest: enough to name them in a message
    }


def _envelope(conn: Connection, digest: str) -> dict[str, Any] | None:
    signed = entries(conn, ["envelope.signed"], f"model:{digest}")
    if not signed:
        return None
    p = signed[-1].payload
    return {
        "digest": p["envelope_digest"],
        "statement": p["statement_digest"],
        "key_id": p["key_id"],
        "signed_at": p["signed_at"],
    }


def _deployment(deployment: tuple[str, DeploymentRow] | None) -> dict[str, Any] | None:
    if deployment is None:
        return None
    name, row = deployment
    return {
        "name": name,
        "ring": row.record["ring"],
        "canary_share": row.record["canary_share"],
        "runbook": row.record.get("runbook"),
        "rollback_target": row.record.get("rollback_target"),
        "release": row.release,
        "stage": row.stage,
    }


def _observations(
    conn: Connection, digest: str, deployment: tuple[str, DeploymentRow] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {"shadow": None, "canary": None}
    if deployment is None:
        return found
    for entry in entries(conn, ["deployment.observed"], f"deployment:{deployment[0]}"):
        p = entry.payload
        if p.get("model_digest") == digest and p.get("stage") in found:
            found[str(p["stage"])] = {
                "cycles": int(p["cycles"]),
                "disagreement": float(p["disagreement"]),
                "fail_closed": int(p["fail_closed"]),
                "dropped": int(p["dropped"]),
            }
    return found
