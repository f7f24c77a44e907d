"""Registry records: what an auditor asks about a model version, its lineage and its supplier.

>>> ModelRef.parse("drive-vla@prod")
ModelRef(name='drive-vla', alias='prod', version=None, digest=None)
>>> ModelRef.parse("drive-vla@3").version
3
>>> RiskTier.parse("controlled-pilot").rank
2
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

from modelsteward.errors import InvalidInput
from modelsteward.types import Digest, parse_choice

__all__ = [
    "AliasMove",
    "LineageEdge",
    "ModelRef",
    "ModelStatus",
    "ModelSummary",
    "ModelVersion",
    "RiskTier",
    "Supplier",
    "SupplierReview",
    "check_alias",
    "check_name",
    "hub_id_from_source",
    "supplier_id_from_source",
    "tuples_from_lists",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_DIGEST = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")


class RiskTier(StrEnum):
    """How much harm the model can do where it runs (lowest first)."""

    EXPLORATORY = "exploratory"
    INTERNAL_DECISION_SUPPORT = "internal-decision-support"
    CONTROLLED_PILOT = "controlled-pilot"
    LIMITED_PRODUCTION = "limited-production"
    SAFETY_CRITICAL_PRODUCTION = "safety-critical-production"

    @property
    def rank(self) -> int:
        """0 for exploratory … 4 for safety-critical production."""
        return list(RiskTier).index(self)

    @classmethod
    def parse(cls, text: str) -> RiskTier:
        """Parse a tier name, or raise ``InvalidInput`` listing the valid ones."""
        return parse_choice(cls, text, what="risk tier", option="--tier")


class ModelStatus(StrEnum):
    """Whether a version may ever be promoted."""

    REGISTERED = "registered"
    BLOCKED = "blocked"  # an unsafe or unaccepted unscanned file: inspect only, never promote


def check_name(name: str) -> str:
    """A model name: letters, digits, ``. _ / -``; up to 128 characters; no ``@``."""
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"invalid model name {name!r}",
            hint="use letters, digits and . _ / - (e.g. acme/drive-vla), at most 128 characters",
        )
    if _DIGEST.match(name):
        raise InvalidInput(
            f"model name {name!r} looks like a digest", hint="choose a readable name"
        )
    return name


def check_alias(alias: str) -> str:
    """An alias: lowercase, starting with a letter (so it never reads as a version number)."""
    if not _ALIAS.match(alias or ""):
        raise InvalidInput(
            f"invalid alias {alias!r}",
            hint="aliases are lowercase letters, digits, _ and -, starting with a letter",
        )
    return alias


@dataclass(frozen=True)
class ModelRef:
    """``NAME``, ``NAME@ALIAS``, ``NAME@VERSION`` or a digest (``sha256:…`` or 64 hex digits)."""

    name: str | None = None
    alias: str | None = None
    version: int | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference given on the command line."""
        text = (text or "").strip()
        if _DIGEST.match(text):
            return cls(digest=Digest.parse(text))
        name, at, tail = text.partition("@")
        check_name(name)
        if not at:
            return cls(name=name)
        if re.fullmatch(r"[1-9][0-9]{0,8}", tail):
            return cls(name=name, version=int(tail))
        if _ALIAS.match(tail):
            return cls(name=name, alias=tail)
        raise InvalidInput(
            f"invalid model reference {text!r}",
            hint="use NAME, NAME@ALIAS, NAME@VERSION (1, 2, …) or a sha256 digest",
        )

    def __str__(self) -> str:
        if self.digest:
            return str(self.digest)
        suffix = self.alias or (str(self.version) if self.version else "")
        return f"{self.name}@{suffix}" if suffix else str(self.name)


def supplier_id_from_source(source: str | None) -> str | None:
    """The upstream organisation of a source URL: ``huggingface.co/nvidia`` for
    ``https://huggingface.co/nvidia/Alpamayo-R1-10B``; None when it cannot be told."""
    if not source:
        return None
    parsed = urlparse(source if "://" in source else f"https://{source}")
    host = (parsed.hostname or "").lower().removeprefix("www.")
    parts = [p for p in parsed.path.split("/") if p]
    if not host or "." not in host:
        return None
    if host in {"huggingface.co", "hf.co"} and parts[:1] in (["datasets"], ["spaces"]):
        parts = parts[1:]
    if host == "hf.co":
        host = "huggingface.co"
    return f"{host}/{parts[0].lower()}" if parts else host


def hub_id_from_source(source: str | None) -> str | None:
    """``org/name`` of a source URL, lowercased — what a card's ``base_model`` declares
    (``https://huggingface.co/nvidia/Cosmos-Reason1-7B`` → ``nvidia/cosmos-reason1-7b``)."""
    if not source:
        return None
    parts = [p for p in urlparse(source).path.split("/") if p]
    if parts[:1] in (["models"], ["datasets"]):
        parts = parts[1:]
    return "/".join(parts[:2]).lower() if len(parts) >= 2 else None


def tuples_from_lists(data: dict[str, Any]) -> dict[str, Any]:
    """JSON arrays back to the tuples frozen records hold (one level deep)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


@dataclass(frozen=True)
class ModelVersion:
    """One registered model version: the inventory record an auditor reads."""

    name: str
    version: int
    digest: Digest
    status: ModelStatus
    tier: RiskTier
    source: str | None
    revision: str | None
    steward: str | None
    intended_use: str | None
    prohibited_use: str | None
    formats: tuple[str, ...]
    size: int
    file_count: int
    license: str | None
    license_name: str | None
    license_link: str | None
    base_models: tuple[str, ...]
    base_model_relation: str | None
    datasets: tuple[str, ...]
    framework: dict[str, str]
    supplier: str | None
    card: dict[str, Any]
    config: dict[str, Any]
    scan: dict[str, Any]  # summary: counts, blocking files, accepted files, scanner versions
    manifest_blob: Digest
    scan_blob: Digest
    registered_at: str
    registered_by: str
    gaps: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``NAME@VERSION``."""
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the ``model.registered`` ledger payload)."""
        data = asdict(self)
        data.update(
            digest=str(self.digest),
            manifest_blob=str(self.manifest_blob),
            scan_blob=str(self.scan_blob),
            status=self.status.value,
            tier=self.tier.value,
        )
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersion:
        """Inverse of :meth:`to_dict`."""
        values = tuples_from_lists(data)
        values.update(
            digest=Digest.parse(data["digest"]),
            manifest_blob=Digest.parse(data["manifest_blob"]),
            scan_blob=Digest.parse(data["scan_blob"]),
            status=ModelStatus(data["status"]),
            tier=RiskTier(data["tier"]),
        )
        return cls(**values)


@dataclass(frozen=True)
class LineageEdge:
    """A declared ``base_model`` of a version; ``parent`` is set when it resolves to a registered
    version (by name, or by a registered source URL ending in the declared id)."""

    child: Digest
    declared: str
    relation: str | None
    parent: Digest | None = None
    parent_ref: str | None = None

    @property
    def resolved(self) -> bool:
        """False for an *unresolved ancestor*."""
        return self.parent is not None


@dataclass(frozen=True)
class AliasMove:
    """One move of ``NAME@ALIAS``, as recorded in the ledger."""

    name: str
    alias: str
    previous: Digest | None
    target: Digest
    target_ref: str
    moved_at: str
    moved_by: str
    seq: int


@dataclass(frozen=True)
class SupplierReview:
    """What a reviewer fills in about an upstream organisation."""

    maintainer_activity: str | None = None
    advisories: str | None = None
    notes: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None


@dataclass(frozen=True)
class Supplier:
    """An upstream organisation and what its snapshots have shown."""

    id: str
    first_seen: str
    observations: tuple[dict[str, Any], ...] = ()  # one per registered snapshot
    review: SupplierReview = field(default_factory=SupplierReview)

    @property
    def reviewed(self) -> bool:
        """Has a human reviewed this supplier?"""
        return self.review.reviewed_by is not None


@dataclass(frozen=True)
class ModelSummary:
    """One inventory row (what ``model list`` shows), read without the full record."""

    name: str
    version: int
    digest: str
    status: str
    tier: str
    license: str | None
    steward: str | None
    size: int
    registered_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return asdict(self)
