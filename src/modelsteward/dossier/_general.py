"""Sections 1 and 2: general description, and development (lineage, training runs, datasets)."""

from __future__ import annotations

import json
from typing import Any

from modelsteward.dossier._evidence import EntryIndex, Item, Section
from modelsteward.dossier.facts import BlobSource, DatasetFacts, DossierFacts

__all__ = ["development_section", "general_section"]

_IDENTITY = (
    "ref",
    "name",
    "version",
    "digest",
    "status",
    "source",
    "revision",
    "formats",
    "size",
    "file_count",
    "framework",
    "license",
    "license_name",
    "license_link",
    "registered_at",
    "registered_by",
)


def general_section(facts: DossierFacts, index: EntryIndex, blobs: BlobSource) -> Section:
    """Annex IV point 1: what the model is, what it is for, who supplies and owns it."""
    model = facts.model
    registered = index.by_subject("model.registered", index.subject)
    section = Section("general", 1, "General description", "Annex IV point 1")
    gaps = [str(g) for g in model.get("gaps") or []]
    identity = section.add(Item("general.identity", "Identity, formats and size"))
    identity.facts = {
        k: f"{model['name']}@{model['version']}" if k == "ref" else model.get(k) for k in _IDENTITY
    }
    identity.cite("model", model["digest"]).blob("model-manifest", model["manifest_blob"], blobs)
    identity.blob("scan-report", model["scan_blob"], blobs)
    # use gaps are reported by the use item; card gaps by the card item
    identity.missing += [f"intake: {g}" for g in gaps if "card:" not in g and "intended" not in g]

    card = section.add(Item("general.model-card", "Model card"))
    card.facts = {"card": model.get("card") or {}}
    if not model.get("card"):
        card.lack("model-card", "the model has no model card (README.md front matter)")
    card.missing += [f"intake: {g}" for g in gaps if g.startswith("card:")]

    use = section.add(Item("general.use", "Intended and prohibited use"))
    use.facts = {k: model.get(k) for k in ("intended_use", "prohibited_use")}
    risk = section.add(Item("general.risk-tier", "Risk tier"))
    risk.facts = {"tier": model.get("tier")}
    people = section.add(Item("general.accountability", "Supplier and steward"))
    people.facts = {k: model.get(k) for k in ("supplier", "steward")}
    for item in section.items:  # every one of these is stated by the registration entry
        item.entry(registered, why="no model.registered ledger entry")
    supplier = index.by_subject("supplier.registered", f"supplier:{model.get('supplier')}")
    if supplier is not None:
        people.entry(supplier)
    for key, item, what in (
        ("intended_use", use, "intended use is stated"),
        ("prohibited_use", use, "prohibited use is stated"),
        ("supplier", people, "supplier is recorded"),
        ("steward", people, "steward is recorded"),
    ):
        if not model.get(key):
            item.lack(key.replace("_", "-"), f"no {what}")
    return section


def development_section(facts: DossierFacts, index: EntryIndex, blobs: BlobSource) -> Section:
    """Annex IV point 2: how the model was built — lineage, training runs, training data."""
    section = Section(
        "development", 2, "Development", "Annex IV point 2 (a)-(d): elements and development"
    )
    section.add(_lineage(facts.lineage))
    if not facts.runs:
        section.add(
            Item("development.runs", "Training manifests").lack(
                "training-run",
                "no recorded training run produced this version"
                + (" (an untracked derivation)" if facts.model.get("base_models") else ""),
            )
        )
    for run in facts.runs:
        section.add(_run(run, index, blobs))
    if not facts.datasets:
        section.add(
            Item("development.datasets", "Dataset cards").lack(
                "dataset", "no training dataset is declared (model card or run inputs)"
            )
        )
    for dataset in facts.datasets:
        section.add(_dataset(dataset, index, blobs))
    return section


def _lineage(lineage: dict[str, Any]) -> Item:
    item = Item("development.lineage", "Lineage")
    item.facts = {
        "ancestors": lineage.get("ancestors", []),
        "unresolved": lineage.get("unresolved", []),
        "descendants": lineage.get("descendants", []),
    }

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            if node.get("digest"):
                item.cite("ancestor-model", node["digest"])
            else:
                item.lack("ancestor-model", f"ancestor {node['declared']} is not registered")
            walk(node.get("ancestors", []))

    walk(lineage.get("ancestors", []))
    if not lineage.get("ancestors"):
        item.facts["note"] = "no base model is declared"
    return item


def _run(run: dict[str, Any], index: EntryIndex, blobs: BlobSource) -> Item:
    item = Item(f"development.run.{run['id']}", f"Training run {run['id']}")
    environment = run.get("environment") or {}
    item.facts = {
        **{
            k: run.get(k)
            for k in ("id", "kind", "output", "command", "seed", "code_rev", "metrics", "gaps")
        },
        "inputs": run.get("inputs", []),
        "tolerances": run.get("tolerances", {}),
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "exit_code": run.get("exit_code"),
        "recorded": {"at": run.get("recorded_at"), "by": run.get("recorded_by")},
        "environment": {
            "interpreter": environment.get("interpreter"),
            "packages": len(environment.get("packages") or []),
        },
    }
    item.entry(index.by_subject("run.recorded", f"run:{run['id']}"), why="no run.recorded entry")
    item.blob("provenance-statement", run.get("provenance_blob"), blobs)
    if run.get("config_blob"):
        item.blob("run-config", run["config_blob"], blobs)
    for i in run.get("inputs", []):
        if str(i.get("digest", "")).startswith("sha256:"):
            item.cite(f"input-{i['role']}", i["digest"])
    item.facts["provenance"] = _provenance(blobs.read(str(run.get("provenance_blob") or "")))
    for gap in run.get("gaps") or []:
        item.missing.append(f"run: {gap}")
    return item


def _provenance(data: bytes | None) -> dict[str, Any] | None:
    """The parts of the in-toto statement an auditor reads (the whole one is cited by digest)."""
    if data is None:
        return None
    statement = json.loads(data)
    predicate = statement.get("predicate", {})
    build = predicate.get("buildDefinition", {})
    details = predicate.get("runDetails", {})
    return {
        "statement_type": statement.get("_type"),
        "predicate_type": statement.get("predicateType"),
        "subject": statement.get("subject", []),
        "build_type": build.get("buildType"),
        "external_parameters": build.get("externalParameters", {}),
        "resolved_dependencies": build.get("resolvedDependencies", []),
        "builder": details.get("builder", {}).get("id"),
        "metadata": details.get("metadata", {}),
    }


def _dataset(dataset: DatasetFacts, index: EntryIndex, blobs: BlobSource) -> Item:
    item = Item(f"development.dataset.{dataset.name}", f"Dataset card: {dataset.name}")
    snap = dataset.snapshot
    if snap is None:
        item.facts = {"name": dataset.name, "declared_by": list(dataset.declared_by)}
        return item.lack(
            "dataset",
            f"dataset {dataset.name} (declared by {', '.join(dataset.declared_by)}) "
            "is not registered",
        )
    pii = snap.get("pii") or {}
    item.facts = {
        "name": snap["name"],
        "declared_by": list(dataset.declared_by),
        "digest": snap["digest"],
        **{
            k: snap.get(k)
            for k in ("tier", "license", "consent", "geography", "source", "rows", "size")
        },
        "collected": {"from": snap.get("collected_from"), "to": snap.get("collected_to")},
        "retention_days": snap.get("retention_days"),
        "expires_on": snap.get("expires_on"),
        "expired": dataset.expired,
        "pii": {
            "total": sum((pii.get("counts") or {}).values()),
            "counts": pii.get("counts") or {},
            "scanner": pii.get("scanner"),
        },
        "curation": snap.get("curation") or {},
    }
    item.cite("dataset", snap["digest"]).blob("dataset-manifest", snap.get("manifest_blob"), blobs)
    item.blob("pii-report", snap.get("pii_blob"), blobs)
    item.entry(
        index.by_subject("dataset.registered", f"dataset:{snap['digest']}"),
        why="no dataset.registered entry",
    )
    return item
