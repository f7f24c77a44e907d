"""Dossier items and the evidence each one cites; the index of ledger entries the builder reads.

Every item carries an ``evidence`` list. An evidence reference is one of::

    {"kind": "ledger-entry", "seq": 12, "leaf_hash": "<hex>", "entry_kind": "release.signoff"}
    {"kind": "<what>", "digest": "sha256:…"}                     # a blob or a content identity
    {"kind": "<what>", "digest": "sha256:…", "missing": "why"}   # named, but not in the store
    {"kind": "<what>", "missing": "why"}                         # no evidence at all

Whatever is missing is also listed, in words, under the item's ``missing``.

>>> item = Item("general.identity", "Identity").cite("model", "sha256:" + "a" * 64)
>>> _ = item.lack("model-card", "no model card")
>>> [e["kind"] for e in item.to_dict()["evidence"]], item.missing
(['model', 'model-card'], ['no model card'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from modelsteward.dossier.facts import BlobSource
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.merkle import leaf_hash

__all__ = ["EntryIndex", "Item", "Section", "names_digest"]


def names_digest(value: Any, digest: str) -> bool:
    """True when ``digest`` appears as a value anywhere in ``value`` (a ledger payload)."""
    if isinstance(value, str):
        return value == digest
    if isinstance(value, dict):
        return any(names_digest(v, digest) for v in value.values())
    if isinstance(value, list | tuple):
        return any(names_digest(v, digest) for v in value)
    return False


@dataclass
class Item:
    """One claim of the dossier, its facts and the evidence behind them."""

    id: str
    title: str
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def cite(self, kind: str, digest: str | None, *, why: str | None = None) -> Item:
        """Cite a content digest; ``None`` records the gap (``why``, or "no KIND recorded")."""
        if digest:
            self.evidence.append({"kind": kind, "digest": str(digest)})
        else:
            self.lack(kind, why or f"no {kind} recorded")
        return self

    def blob(self, kind: str, digest: str | None, blobs: BlobSource, *, why: str = "") -> Item:
        """Cite a blob, checking that the store holds it."""
        if not digest:
            return self.lack(kind, why or f"no {kind} recorded")
        if blobs.exists(str(digest)):
            return self.cite(kind, digest)
        reason = f"{kind} {digest} is not in the blob store"
        self.evidence.append({"kind": kind, "digest": str(digest), "missing": reason})
        self.missing.append(reason)
        return self

    def entry(self, entry: Entry | None, *, why: str = "") -> Item:
        """Cite a ledger entry by seq and leaf hash (its proof is in the changes section)."""
        if entry is None:
            return self.lack("ledger-entry", why or "no ledger entry recorded")
        self.evidence.append(
            {
                "kind": "ledger-entry",
                "seq": entry.seq,
                "leaf_hash": leaf_hash(entry.to_bytes()).hex(),
                "entry_kind": entry.kind,
            }
        )
        return self

    def lack(self, kind: str, why: str) -> Item:
        """Record missing evidence, in the evidence list and in words."""
        self.evidence.append({"kind": kind, "missing": why})
        self.missing.append(why)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "id": self.id,
            "title": self.title,
            "facts": self.facts,
            "evidence": self.evidence,
            "missing": self.missing,
        }


@dataclass
class Section:
    """One Annex IV heading and its items."""

    id: str
    number: int
    title: str
    annex_iv: str
    items: list[Item] = field(default_factory=list)

    def add(self, item: Item) -> Item:
        """Append and return ``item``."""
        self.items.append(item)
        return item

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "number": self.number,
            "title": self.title,
            "annex_iv": self.annex_iv,
            "items": [i.to_dict() for i in self.items],
        }


class EntryIndex:
    """The ledger entries handed to the builder, looked up by kind, subject and seq."""

    def __init__(self, entries: Iterable[Entry], model_digest: str) -> None:
        self.all = sorted({e.seq: e for e in entries}.values(), key=lambda e: e.seq)
        self.model_digest = model_digest
        self.subject = f"model:{model_digest}"

    def about_model(self, kind: str) -> list[Entry]:
        """Entries of ``kind`` whose subject is this model, oldest first."""
        return [e for e in self.all if e.kind == kind and e.subject == self.subject]

    def of_kind(self, kind: str) -> list[Entry]:
        """Entries of ``kind``, oldest first."""
        return [e for e in self.all if e.kind == kind]

    def by_subject(self, kind: str, subject: str) -> Entry | None:
        """The newest entry of ``kind`` about ``subject``."""
        found = [e for e in self.all if e.kind == kind and e.subject == subject]
        return found[-1] if found else None

    def by_seq(self, seq: int | None) -> Entry | None:
        """The entry at ``seq``, if it was handed over."""
        return next((e for e in self.all if e.seq == seq), None)
