"""The approval dossier as a JSON document, organised by the EU AI Act Annex IV headings.

:func:`build_document` turns :class:`~modelsteward.dossier.facts.DossierFacts` into the document
(pure: no clock, no storage — the same facts give the same bytes). The dossier's identity is
the SHA-256 of its canonical JSON (:func:`canonical_bytes`), which is exactly the file written.
See ``docs/dossier.md`` for every field.

>>> doc = {"schema": SCHEMA, "model": {"digest": "sha256:" + "a" * 64}}
>>> canonical_bytes(doc)[:30]
b'{"model":{"digest":"sha256:aaa'
>>> dossier_digest(doc) == "sha256:" + hashlib.sha256(canonical_bytes(doc)).hexdigest()
True
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from modelsteward.dossier._changes import changes_section, deployments_of, monitoring_section
from modelsteward.dossier._evidence import EntryIndex, Section
from modelsteward.dossier._general import development_section, general_section
from modelsteward.dossier._risk import licensing_section, risk_section
from modelsteward.dossier._validation import validation_section
from modelsteward.dossier.facts import BlobSource, DossierFacts
from modelsteward.ledger.entry import Entry, canonical_json

__all__ = [
    "SCHEMA",
    "SECTION_IDS",
    "build_document",
    "canonical_bytes",
    "deployments_running",
    "dossier_digest",
]

SCHEMA = "steward.dossier/v1"
"""The document's ``schema`` value."""

SECTION_IDS = (
    "general",
    "development",
    "validation",
    "licensing",
    "risk",
    "changes",
    "monitoring",
)
"""Section keys, in Annex IV order (numbers 1-7)."""


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """Sorted keys, compact separators, UTF-8, no NaN: the bytes the digest covers."""
    return canonical_json(document)


def dossier_digest(document: dict[str, Any]) -> str:
    """``sha256:<hex>`` of :func:`canonical_bytes`."""
    return "sha256:" + hashlib.sha256(canonical_bytes(document)).hexdigest()


def deployments_running(entries: Iterable[Entry], model_digest: str) -> list[str]:
    """Names of the deployments ``entries`` show running the model (promotions, gate decisions,
    ``deployment:*`` entries whose payload names its digest), sorted."""
    return deployments_of(EntryIndex(entries, model_digest))


def build_document(facts: DossierFacts, blobs: BlobSource) -> dict[str, Any]:
    """The dossier document for ``facts``; ``blobs`` resolves the evidence blobs it reads.

    Every ledger entry cited anywhere appears in the ``changes`` section with its inclusion
    proof against ``facts.checkpoint``.
    """
    index = EntryIndex(facts.entries, facts.digest)
    built = [
        general_section(facts, index, blobs),
        development_section(facts, index, blobs),
        validation_section(facts, index, blobs),
        licensing_section(facts, index),
        risk_section(facts, index, blobs),
        monitoring_section(facts, index, blobs),
    ]
    cited = {
        int(e["seq"])
        for section in built
        for item in section.items
        for e in item.evidence
        if e["kind"] == "ledger-entry"
    }
    built.insert(5, changes_section(facts, index, cited))
    return {
        **_header(facts),
        "sections": {s.id: s.to_dict() for s in built},
        "summary": {s.id: _summary(s) for s in built},
        "gaps": [
            {"section": s.id, "item": item.id, "what": what}
            for s in built
            for item in s.items
            for what in item.missing
        ],
    }


def _header(facts: DossierFacts) -> dict[str, Any]:
    model = facts.model
    checkpoint = facts.checkpoint
    return {
        "schema": SCHEMA,
        "model": {
            "ref": f"{model['name']}@{model['version']}",
            "name": model["name"],
            "version": model["version"],
            "digest": facts.digest,
            "tier": model.get("tier"),
        },
        "review": {"use": facts.use, "distribution": facts.distribution},
        "ledger": {
            "origin": checkpoint.origin,
            "public_key": checkpoint.public_key,
            "checkpoint": {
                "size": checkpoint.size,
                "root": base64.b64encode(checkpoint.root).decode(),
                "note": checkpoint.note,
            },
        },
    }


def _summary(section: Section) -> dict[str, int]:
    return {
        "items": len(section.items),
        "missing": sum(len(item.missing) for item in section.items),
    }
