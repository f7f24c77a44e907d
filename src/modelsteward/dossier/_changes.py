"""Sections 6 and 7: the ledger excerpt with inclusion proofs; deployments and monitoring."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from modelsteward.dossier._evidence import EntryIndex, Item, Section, names_digest
from modelsteward.dossier._validation import read_json
from modelsteward.dossier.facts import BlobSource, DossierFacts
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.verify import PROOF_FORMAT

__all__ = ["SIGNALS", "changes_section", "deployments_of", "monitoring_section"]

SIGNALS = {
    "disagreement": "share of cycles where the guarded action differs from the model's proposal",
    "fail_closed": "cycles the runtime gate spent in FAIL_CLOSED (safe stop)",
    "dropped": "decision records lost before they were persisted",
}
"""What the monitoring plan watches, in the words of ``deployment.observed``."""

_EVENTS = ("deployment.killed", "deployment.resumed", "deployment.rolled_back")
_NOT_EXCERPTED = frozenset({"dossier.written"})  # a dossier is not a change of the model


def deployments_of(index: EntryIndex) -> list[str]:
    """Deployments this model runs (or ran) on: promotions, gate decisions, deployment events."""
    names = {
        str(e.payload["deployment"])
        for kind in ("release.promoted", "gate.decision")
        for e in index.about_model(kind)
        if e.payload.get("deployment")
    }
    names |= {
        e.subject.removeprefix("deployment:")
        for e in index.all
        if e.subject.startswith("deployment:") and names_digest(e.payload, index.model_digest)
    }
    return sorted(names)


def changes_section(facts: DossierFacts, index: EntryIndex, cited: set[int]) -> Section:
    """Annex IV point 6: every entry about the model, each with its inclusion proof."""
    section = Section(
        "changes", 6, "Changes", "Annex IV point 6: changes through the lifecycle (ledger excerpt)"
    )
    for entry in index.all:
        relation = _relation(entry, index, cited)
        if relation is None:
            continue
        item = section.add(Item(f"changes.{entry.seq}", f"{entry.kind} (seq {entry.seq})"))
        item.facts = {
            "seq": entry.seq,
            "time": entry.time,
            "kind": entry.kind,
            "actor": entry.actor,
            "subject": entry.subject,
            "relation": relation,
        }
        item.entry(entry)
        path = facts.proofs.get(entry.seq)
        if path is None or entry.seq >= facts.checkpoint.size:
            item.lack("inclusion-proof", f"no inclusion proof for seq {entry.seq}")
            continue
        item.facts["proof"] = {
            "format": PROOF_FORMAT,
            "seq": entry.seq,
            "entry": base64.b64encode(entry.to_bytes()).decode(),
            "inclusion": [base64.b64encode(h).decode() for h in path],
            "checkpoint": facts.checkpoint.note,
        }
    return section


def _relation(entry: Entry, index: EntryIndex, cited: set[int]) -> str | None:
    if entry.subject == index.subject and entry.kind not in _NOT_EXCERPTED:
        return "model"
    if entry.subject.startswith("deployment:") and names_digest(entry.payload, index.model_digest):
        return "deployment"
    return "cited" if entry.seq in cited else None


def monitoring_section(facts: DossierFacts, index: EntryIndex, blobs: BlobSource) -> Section:
    """Annex IV point 9: where the model runs, what was observed, and what is watched."""
    section = Section(
        "monitoring",
        7,
        "Post-deployment monitoring plan and runbook",
        "Annex IV points 3 and 9: control, post-market monitoring plan (Art. 72)",
    )
    names = deployments_of(index)
    if not names:
        section.add(
            Item("monitoring.deployments", "Deployments").lack(
                "deployment", "no deployment runs this model"
            )
        )
    for name in names:
        _deployment(section, name, index, blobs)
    section.add(_plan(index, blobs, names))
    return section


def _deployment(section: Section, name: str, index: EntryIndex, blobs: BlobSource) -> None:
    subject = f"deployment:{name}"
    added = index.by_subject("deployment.added", subject)
    item = section.add(Item(f"monitoring.deployment.{name}", f"Deployment {name}"))
    p = added.payload if added else {}
    item.facts = {"name": name}
    item.facts.update(
        {k: p.get(k) for k in ("ring", "canary_share", "rollback_target", "kill_flag", "runbook")}
    )
    item.facts["stages"] = [
        {"from": e.payload.get("from"), "to": e.payload.get("to"), "at": e.time}
        for e in index.about_model("release.promoted")
        if e.payload.get("deployment") == name
    ]
    item.entry(added, why=f"no deployment.added entry for {name}")
    item.blob("runbook", p.get("runbook"), blobs, why=f"no runbook recorded for {name}")
    runbook = blobs.read(str(p["runbook"])) if p.get("runbook") else None
    item.facts["runbook_text"] = None if runbook is None else runbook.decode("utf-8", "replace")
    ours = [
        e for e in index.all if e.subject == subject and names_digest(e.payload, index.model_digest)
    ]
    _observations(section, name, [e for e in ours if e.kind == "deployment.observed"])
    events = [e for e in ours if e.kind in _EVENTS]
    if events:
        log = section.add(Item(f"monitoring.events.{name}", f"Kill, resume and rollback on {name}"))
        log.facts["events"] = [
            {"seq": e.seq, "at": e.time, "kind": e.kind, **e.payload} for e in events
        ]
        for e in events:
            log.entry(e)


def _observations(section: Section, name: str, observed: list[Entry]) -> None:
    watch = section.add(Item(f"monitoring.observations.{name}", f"Observations on {name}"))
    watch.facts["observations"] = [
        {"seq": e.seq, "at": e.time}
        | {
            k: e.payload.get(k)
            for k in ("stage", "cycles", "disagreement", "fail_closed", "dropped")
        }
        for e in observed
    ]
    for e in observed:
        watch.entry(e).cite(
            "envelope",
            e.payload.get("envelope_digest"),
            why=f"observation seq {e.seq} names no runtime envelope",
        )
    if not observed:
        watch.lack("observation", f"no observation of this model on {name} is recorded")


def _plan(index: EntryIndex, blobs: BlobSource, deployments: list[str]) -> Item:
    item = Item("monitoring.plan", "Monitoring plan")
    decisions = [e for e in index.about_model("gate.decision") if e.payload.get("policy_blob")]
    policy = decisions[-1].payload["policy_blob"] if decisions else None
    found = dict(_thresholds(read_json(blobs, policy))) if policy else {}
    item.facts = {
        "deployments": deployments,
        "policy": policy,
        "signals": [
            {
                "signal": signal,
                "meaning": meaning,
                "thresholds": {p: v for p, v in found.items() if signal in p} or None,
                "defined": any(signal in p for p in found),
            }
            for signal, meaning in SIGNALS.items()
        ],
        "actions": "thresholds trigger the deployment runbook: alert, kill switch or rollback",
    }
    if decisions:
        item.entry(decisions[-1]).blob("policy-bundle", policy, blobs)
    undefined = [s["signal"] for s in item.facts["signals"] if not s["defined"]]
    if undefined:
        item.lack(
            "monitoring-thresholds",
            "monitoring thresholds not yet defined for "
            + ", ".join(undefined)
            + (" (no gate decision's policy data names them)" if policy else " (no gate decision)"),
        )
    return item


def _thresholds(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """Every number in the policy data whose key names a monitored signal."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _thresholds(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _thresholds(v, f"{path}[{i}]")
    elif (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and any(signal in path.rsplit(".", 1)[-1] for signal in SIGNALS)
    ):
        yield path, float(value)
