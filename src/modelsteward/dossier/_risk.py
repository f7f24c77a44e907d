"""Sections 4 and 5: licence review and legal register; hazards and the runtime envelope."""

from __future__ import annotations

from typing import Any

from modelsteward.dossier._evidence import EntryIndex, Item, Section
from modelsteward.dossier._validation import read_json
from modelsteward.dossier.facts import BlobSource, DossierFacts, EnvelopeFacts

__all__ = ["ENVELOPE_LIMITS", "licensing_section", "risk_section"]

ENVELOPE_LIMITS = (
    "odd",
    "speed",
    "kinematics",
    "rss",
    "ttc",
    "confidence",
    "inputs",
    "watchdog",
)
"""The envelope sections the dossier shows as key limits."""

_SEVERITY = {"S3": 3, "S2": 2, "S1": 1, "S0": 0}
_EXPOSURE = {"E4": 4, "E3": 3, "E2": 2, "E1": 1, "E0": 0}


def licensing_section(facts: DossierFacts, index: EntryIndex) -> Section:
    """The licence review along the lineage for the intended use, and the legal register."""
    section = Section(
        "licensing",
        4,
        "Licence review and legal register",
        "Annex IV point 2(d) (data provenance and rights); AI Act Art. 53(1)(c)",
    )
    licence = facts.licence
    section.add(_review(licence))
    approval = licence.get("approval")
    holding = approval.get("seq") if approval else None
    for record in facts.legal_register:
        item = section.add(Item(f"licensing.approval.{record['seq']}", "Legal-register approval"))
        item.facts = {
            k: record.get(k)
            for k in ("use", "distribution", "field", "verdict_at_approval", "approved_by")
        }
        item.facts.update(
            note=record.get("note"),
            approved_at=record.get("approved_at"),
            holds=record["seq"] == holding,
            voided=None if record["seq"] == holding else _voided(record, licence),
        )
        item.entry(index.by_seq(record["seq"]), why="no license.approved entry")
        item.cite("licence-review", record.get("review_digest"))
    return section


def _review(licence: dict[str, Any]) -> Item:
    review = Item("licensing.review", "Licence review")
    review.facts = {
        k: licence.get(k)
        for k in ("use", "distribution", "field", "verdict", "passed", "allowed", "node_count")
    }
    review.facts.update(
        reasons=[
            {k: r.get(k) for k in ("label", "license", "level", "message")}
            for r in licence.get("reasons", [])
        ],
        obligations=licence.get("obligations", []),
        nodes=licence.get("nodes", []),
        knowledge_base={"version": licence.get("kb_version"), "digest": licence.get("kb_digest")},
    )
    review.cite("licence-review", licence.get("digest"))
    review.cite("licence-knowledge-base", licence.get("kb_digest"))
    for reason in licence.get("reasons", []):
        if reason.get("level") == "unknown":
            review.missing.append(f"licence unknown: {reason.get('message')}")
    if not licence.get("passed") and licence.get("approval") is None:
        review.lack(
            "legal-approval",
            f"verdict {licence.get('verdict')} and no legal-register approval for "
            f"{licence.get('use')} use with distribution {licence.get('distribution')}",
        )
    return review


def _voided(record: dict[str, Any], licence: dict[str, Any]) -> str:
    same_use = all(record.get(k) == licence.get(k) for k in ("use", "distribution", "field"))
    if same_use:
        return "the lineage changed since approval (review digest differs)"
    return "approval for another use or distribution"


def risk_section(facts: DossierFacts, index: EntryIndex, blobs: BlobSource) -> Section:
    """Annex IV point 5: hazard scenarios from the newest evaluation; the runtime envelope."""
    section = Section(
        "risk", 5, "Risk management", "Annex IV point 5: risk management system (Art. 9)"
    )
    evaluations = index.about_model("evaluation.completed")
    hazards = section.add(Item("risk.hazards", "Hazard scenarios"))
    if not evaluations:
        hazards.lack("evaluation-report", "no evaluation: hazard scenarios are not assessed")
    else:
        newest = evaluations[-1]
        report = read_json(blobs, newest.payload.get("report"))
        hazards.entry(newest).blob("evaluation-report", newest.payload.get("report"), blobs)
        hazards.facts = {
            "report": newest.payload.get("report"),
            "scenarios": _scenarios(report) if isinstance(report, dict) else [],
        }
    if not facts.envelopes:
        section.add(
            Item("risk.envelope", "Runtime envelope").lack(
                "signed-envelope", "no runtime envelope is signed for this model"
            )
        )
    for envelope in facts.envelopes:
        section.add(_envelope(envelope, index, blobs))
    return section


def _scenarios(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario, the most hazardous first."""
    rows = []
    for s in report.get("scenarios", []):
        hazard = s.get("hazard", {})
        criteria = s.get("criteria", {})
        worst = min(criteria.items(), key=lambda kv: kv[1]["worst_margin"], default=None)
        verdict = "pass" if s.get("passed") else ("flaky" if s.get("flaky") else "fail")
        rows.append(
            {
                "id": s.get("id"),
                "title": s.get("title"),
                "asil": hazard.get("asil"),
                "severity": hazard.get("severity"),
                "exposure": hazard.get("exposure"),
                "controllability": hazard.get("controllability"),
                "verdict": verdict,
                "pass_rate": s.get("pass_rate"),
                "worst_criterion": worst[0] if worst else None,
                "worst_margin": worst[1]["worst_margin"] if worst else None,
            }
        )
    return sorted(
        rows,
        key=lambda r: (
            -_SEVERITY.get(str(r["severity"]), 0),
            -_EXPOSURE.get(str(r["exposure"]), 0),
            str(r["id"]),
        ),
    )


def _envelope(envelope: EnvelopeFacts, index: EntryIndex, blobs: BlobSource) -> Item:
    record = envelope.record
    item = Item(f"risk.envelope.{record['seq']}", f"Runtime envelope {record.get('envelope')}")
    item.facts = {
        k: record.get(k)
        for k in ("envelope", "envelope_digest", "statement_digest", "key_id", "signed_at")
    }
    item.entry(index.by_seq(record["seq"]), why="no envelope.signed entry")
    item.blob("signed-envelope", record.get("blob"), blobs)
    item.cite("envelope", record.get("envelope_digest"))
    item.cite("envelope-statement", record.get("statement_digest"))
    document = envelope.document
    if document is None:
        item.missing.append(f"envelope document: {envelope.problem or 'not readable'}")
        return item
    limits = {k: document[k] for k in ENVELOPE_LIMITS if k in document}
    odd = dict(limits.get("odd") or {})
    if "geofence" in odd:
        odd["geofence"] = f"{len(odd['geofence'])} polygon(s)"
    limits["odd"] = odd
    item.facts["limits"] = limits
    item.facts["signature"] = "read without verification; see `steward envelope verify`"
    return item
