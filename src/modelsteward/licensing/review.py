"""Lineage licence review: every model and dataset behind a model, against the intended use.

The caller assembles the lineage (``LineageNode`` per artifact, edges as ``inputs``); the review
walks everything reachable from the root once, evaluates each declared licence with the
knowledge base, and returns a verdict with reasons that name the artifact, its licence and the
clause. Unknown or undeclared licences and unregistered artifacts make the verdict ``unknown``,
which blocks (fail closed).

>>> base = LineageNode("model:base", "model", "base@1", "llama3.1")
>>> data = LineageNode("dataset:logs", "dataset", "drive-logs", "CC-BY-NC-4.0")
>>> ft = LineageNode("model:ft", "model", "ft@2", "llama3.1",
...                  inputs=(("model:base", "base-model"), ("dataset:logs", "run-dataset")))
>>> nodes = {n.id: n for n in (base, data, ft)}
>>> review = review_lineage("model:ft", nodes, use="commercial")
>>> review.verdict, review.passed
(<Verdict.INCOMPATIBLE: 'incompatible'>, False)
>>> review_lineage("model:ft", nodes, use="research").verdict.value
'compatible-with-obligations'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from modelsteward.errors import InvalidInput
from modelsteward.licensing._graph import LineageNode, review_digest, walk
from modelsteward.licensing._judge import Judged, NodeReview, judge
from modelsteward.licensing._rules import Distribution, Level, Use
from modelsteward.licensing.knowledge import KnowledgeBase

__all__ = [
    "Distribution",
    "Level",
    "LicenseReview",
    "LineageNode",
    "Reason",
    "ReviewedNode",
    "Use",
    "Verdict",
    "review_lineage",
]


class Verdict(StrEnum):
    """The overall answer, by precedence: incompatible > unknown > obligations > compatible."""

    COMPATIBLE = "compatible"
    COMPATIBLE_WITH_OBLIGATIONS = "compatible-with-obligations"
    UNKNOWN = "unknown"
    INCOMPATIBLE = "incompatible"


@dataclass(frozen=True)
class Reason:
    """Why the verdict is what it is, for one artifact.

    Attributes:
        node: The artifact's node id.
        label: Its human name.
        kind: ``model`` or ``dataset``.
        license: The licence as declared (``None``: not declared).
        normalized: The normalised expression, when it parsed.
        level: ``incompatible``, ``unknown`` or ``obligation``.
        clause: The clause (wording or summary, with its section) the reason rests on.
        message: One sentence naming the artifact, its licence and the consequence.
    """

    node: str
    label: str
    kind: str
    license: str | None
    normalized: str | None
    level: Level
    clause: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "node": self.node,
            "label": self.label,
            "kind": self.kind,
            "license": self.license,
            "normalized": self.normalized,
            "level": self.level.value,
            "clause": self.clause,
            "message": self.message,
        }


@dataclass(frozen=True)
class ReviewedNode:
    """One artifact the review looked at."""

    id: str
    label: str
    kind: str
    license: str | None


@dataclass(frozen=True)
class LicenseReview:
    """The result of :func:`review_lineage`.

    Attributes:
        digest: ``sha256:<hex>`` of what was reviewed (root, use, distribution, field, KB digest,
            every node with its licence and input edges); approvals bind to it.
        notes: How expressions were read (OR choices, WITH exceptions).
    """

    root: str
    use: Use
    distribution: Distribution
    field: str | None
    verdict: Verdict
    reasons: tuple[Reason, ...]
    obligations: tuple[str, ...]
    notes: tuple[str, ...]
    nodes: tuple[ReviewedNode, ...]
    kb_version: str
    kb_digest: str
    digest: str

    @property
    def passed(self) -> bool:
        """True for ``compatible`` and ``compatible-with-obligations``."""
        return self.verdict in (Verdict.COMPATIBLE, Verdict.COMPATIBLE_WITH_OBLIGATIONS)

    @property
    def node_count(self) -> int:
        """How many artifacts were reviewed."""
        return len(self.nodes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "root": self.root,
            "use": self.use.value,
            "distribution": self.distribution.value,
            "field": self.field,
            "verdict": self.verdict.value,
            "passed": self.passed,
            "reasons": [r.to_dict() for r in self.reasons],
            "obligations": list(self.obligations),
            "notes": list(self.notes),
            "node_count": self.node_count,
            "nodes": [
                {"id": n.id, "label": n.label, "kind": n.kind, "license": n.license}
                for n in self.nodes
            ],
            "kb_version": self.kb_version,
            "kb_digest": self.kb_digest,
            "digest": self.digest,
        }


_Option = TypeVar("_Option", Use, Distribution)


def _option(cls: type[_Option], value: object, option: str) -> _Option:
    text = value.strip().lower() if isinstance(value, str) else value
    for member in cls:
        if member.value == text:
            return member
    raise InvalidInput(
        f"unknown {option} {value!r}",
        hint=f"--{option} is one of: " + ", ".join(m.value for m in cls),
    )


def _verdict(reasons: tuple[Reason, ...]) -> Verdict:
    levels = {r.level for r in reasons}
    if Level.INCOMPATIBLE in levels:
        return Verdict.INCOMPATIBLE
    if Level.UNKNOWN in levels:
        return Verdict.UNKNOWN
    if Level.OBLIGATION in levels:
        return Verdict.COMPATIBLE_WITH_OBLIGATIONS
    return Verdict.COMPATIBLE


def _reason(item: NodeReview) -> Reason:
    node = item.node
    licence = item.normalized or node.license or "no licence"
    read = f" [{'; '.join(item.notes)}]" if item.notes else ""
    return Reason(
        node=node.id,
        label=node.label,
        kind=node.kind,
        license=node.license,
        normalized=item.normalized,
        level=item.finding.level,
        clause=item.finding.clause,
        message=f"{node.label} ({node.kind}, {licence}): {item.finding.text}{read}",
    )


_ORDER = {Level.INCOMPATIBLE: 0, Level.UNKNOWN: 1, Level.OBLIGATION: 2}


def _reasons(judged: Judged) -> tuple[Reason, ...]:
    reasons = (_reason(item) for item in judged.items)
    return tuple(sorted(reasons, key=lambda r: (_ORDER[r.level], r.label, r.node, r.message)))


def review_lineage(
    root: str,
    nodes: Mapping[str, LineageNode],
    *,
    use: str,
    distribution: str = "none",
    field: str | None = None,
    kb: KnowledgeBase | None = None,
) -> LicenseReview:
    """Review every licence in ``root``'s lineage for the intended use.

    Args:
        root: The node id of the artifact under review.
        nodes: Every lineage node by id (unreachable nodes are ignored).
        use: ``commercial``, ``research`` or ``internal``.
        distribution: ``none``, ``weights`` or ``product``.
        field: The field of use (e.g. ``transportation``), checked against field restrictions.
        kb: The knowledge base (default: the packaged one).

    Raises:
        InvalidInput: An option is invalid, or the graph is malformed (root missing, bad kind).
    """
    kb = kb or KnowledgeBase.default()
    use_ = _option(Use, use, "use")
    dist = _option(Distribution, distribution, "distribution")
    field_ = kb.field(field) if field is not None else None
    walked = walk(root, nodes)
    judged = judge(root, nodes, walked, use=use_, distribution=dist, field=field_, kb=kb)
    reasons = _reasons(judged)
    reviewed = sorted((nodes[i] for i in walked.order), key=lambda n: n.id)
    return LicenseReview(
        root=root,
        use=use_,
        distribution=dist,
        field=field_,
        verdict=_verdict(reasons),
        reasons=reasons,
        obligations=_obligations(judged),
        notes=judged.notes,
        nodes=tuple(ReviewedNode(n.id, n.label, n.kind, n.license) for n in reviewed),
        kb_version=kb.version,
        kb_digest=kb.digest,
        digest=review_digest(
            root=root,
            use=use_.value,
            distribution=dist.value,
            field=field_,
            kb_digest=kb.digest,
            nodes=nodes,
            reviewed=walked.order,
        ),
    )


def _obligations(judged: Judged) -> tuple[str, ...]:
    lines = (i.finding.obligation for i in judged.items if i.finding.obligation)
    return tuple(dict.fromkeys(lines))
