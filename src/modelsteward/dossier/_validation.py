"""Section 3: validation — evaluations, baselines, ODD coverage, sign-offs and gate decisions."""

from __future__ import annotations

import json
from typing import Any

from modelsteward.dossier._evidence import EntryIndex, Item, Section
from modelsteward.dossier.facts import BlobSource, DossierFacts
from modelsteward.dossier.signoffs import check_signoff
from modelsteward.ledger.entry import Entry

__all__ = ["read_json", "validation_section"]


def read_json(blobs: BlobSource, digest: str | None) -> Any:
    """A JSON blob, or ``None`` when absent or not JSON."""
    data = blobs.read(digest) if digest else None
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def validation_section(facts: DossierFacts, index: EntryIndex, blobs: BlobSource) -> Section:
    """Annex IV points 2(g) and 4: testing, metrics, and the signed approvals."""
    section = Section(
        "validation",
        3,
        "Validation",
        "Annex IV points 2(g) and 4: validation, testing, metrics; approvals",
    )
    evaluations = index.about_model("evaluation.completed")
    if not evaluations:
        section.add(
            Item("validation.evaluations", "Evaluation reports").lack(
                "evaluation-report", "no evaluation.completed entry for this model"
            )
        )
    for entry in evaluations:
        section.add(_evaluation(entry, blobs))
    for lock in facts.baselines:
        section.add(_baseline(lock, index, blobs))
    coverage = index.about_model("odd.coverage.recorded")
    if not coverage:
        section.add(
            Item("validation.odd-coverage", "ODD coverage").lack(
                "odd-coverage", "no ODD coverage recorded for this model"
            )
        )
    for entry in coverage:
        section.add(_coverage(entry))
    _signoffs(section, index)
    decisions = index.about_model("gate.decision")
    if not decisions:
        section.add(
            Item("validation.gate-decisions", "Gate decisions").lack(
                "gate-decision", "no release gate decision recorded"
            )
        )
    for entry in decisions:
        section.add(_decision(entry, blobs))
    return section


def _evaluation(entry: Entry, blobs: BlobSource) -> Item:
    p = entry.payload
    report = str(p.get("report"))
    item = Item(f"validation.evaluation.{entry.seq}", f"Evaluation report {report[7:19]}")
    regressions = read_json(blobs, p.get("regressions"))
    item.facts = {
        "report": report,
        "suite_digest": p.get("suite_digest"),
        "odd_digest": p.get("odd_digest"),
        "evaluated_at": entry.time,
        "totals": p.get("totals", {}),
        "baseline": p.get("baseline"),
        "regressions": None if regressions is None else regressions.get("summary"),
        "critical_regressions": p.get("critical_regressions", []),
    }
    item.entry(entry).blob("evaluation-report", report, blobs)
    item.blob("evaluation-html", p.get("html"), blobs)
    if p.get("baseline"):
        item.blob("regressions", p.get("regressions"), blobs)
    return item


def _baseline(lock: dict[str, Any], index: EntryIndex, blobs: BlobSource) -> Item:
    item = Item(f"validation.baseline.{lock['name']}", f"Baseline {lock['name']}")
    item.facts = {
        k: lock.get(k)
        for k in ("name", "model", "model_digest", "suite_digest", "report", "locked_at")
    }
    item.facts["locked_from_this_model"] = lock.get("model_digest") == index.model_digest
    item.entry(index.by_seq(lock.get("seq")), why="no evaluation.baseline.locked entry")
    item.blob("baseline", lock.get("baseline"), blobs).cite("evaluation-report", lock.get("report"))
    return item


def _coverage(entry: Entry) -> Item:
    p = entry.payload
    item = Item(f"validation.odd-coverage.{entry.seq}", "ODD coverage")
    item.facts = {k: p.get(k) for k in ("odd_digest", "suite_digest", "coverage", "gaps", "top")}
    item.entry(entry).cite("odd-coverage", p.get("coverage")).cite("odd", p.get("odd_digest"))
    return item


def _signoffs(section: Section, index: EntryIndex) -> None:
    signoffs = index.about_model("release.signoff")
    if not signoffs:
        section.add(
            Item("validation.signoffs", "Sign-offs").lack(
                "signoff", "no signed sign-off recorded for this model"
            )
        )
    people = index.of_kind("person.added")
    for entry in signoffs:
        statement = entry.payload.get("statement") or {}
        who = f"{statement.get('person')} ({statement.get('role')})"
        item = section.add(Item(f"validation.signoff.{entry.seq}", f"Sign-off by {who}"))
        check = check_signoff(entry.payload, people, before=entry.seq)
        fields = ("person", "role", "verdict", "stage", "comment", "signed_at", "accepts")
        item.facts = {k: statement.get(k) for k in fields}
        item.facts.update(
            key_id=entry.payload.get("key_id"),
            evidence_digest=statement.get("evidence_digest"),
            policy_digest=statement.get("policy_digest"),
            signature_verified=check.verified,
            verification=check.reason,
        )
        item.entry(entry).cite("signed-evidence", statement.get("evidence_digest"))
        item.cite("policy", statement.get("policy_digest"))
        item.entry(check.key_entry, why=f"no registered key for {statement.get('person')}")
        if statement.get("model_digest") != index.model_digest:
            check_text = "the signed statement names another model digest"
            item.facts["signature_verified"] = False
            item.missing.append(check_text)
        if not check.verified:
            item.missing.append(f"signature of {who}: {check.reason}")


def _decision(entry: Entry, blobs: BlobSource) -> Item:
    p = entry.payload
    item = Item(f"validation.gate.{entry.seq}", f"Gate decision {p.get('from')} → {p.get('to')}")
    item.facts = {
        k: p.get(k)
        for k in (
            "decision_id",
            "purpose",
            "from",
            "to",
            "deployment",
            "allow",
            "required",
            "signoffs",
            "policy_pack",
            "engine",
            "decided_at",
        )
    }
    item.facts["unmet"] = [
        {"id": u.get("id"), "message": u.get("message")} for u in p.get("unmet") or []
    ]
    item.entry(entry).cite("gate-evidence", p.get("evidence_digest"))
    item.cite("gate-input", p.get("input_digest"))
    item.blob("gate-input-document", p.get("input_blob"), blobs)
    item.blob("policy-bundle", p.get("policy_blob"), blobs)
    return item
