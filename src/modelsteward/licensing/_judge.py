"""Apply the rules to every node of a walked lineage, then check share-alike across nodes.

>>> from modelsteward.licensing._graph import LineageNode, walk
>>> from modelsteward.licensing.knowledge import KnowledgeBase
>>> nodes = {"model:m": LineageNode("model:m", "model", "m@1", None)}
>>> judged = judge("model:m", nodes, walk("model:m", nodes), use=Use.RESEARCH,
...                distribution=Distribution.NONE, field=None, kb=KnowledgeBase.default())
>>> [i.finding.text for i in judged.items]
['licence not declared']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from modelsteward.errors import InvalidInput
from modelsteward.licensing._graph import LineageNode, Walk
from modelsteward.licensing._rules import (
    Context,
    Distribution,
    Finding,
    Level,
    Outcome,
    ShareAlikeClaim,
    Use,
    evaluate,
)
from modelsteward.licensing._spdx import ParsedExpression
from modelsteward.licensing.knowledge import KnowledgeBase

__all__ = ["Judged", "NodeReview", "judge"]

_UNREGISTERED = "not registered in Steward: cannot be traced to approved inputs"


@dataclass(frozen=True)
class NodeReview:
    """One finding about one node."""

    node: LineageNode
    normalized: str | None
    finding: Finding
    notes: tuple[str, ...] = ()  # how the node's expression was read (OR choice, exception)


@dataclass(frozen=True)
class Judged:
    """Every finding, and notes on how expressions were read."""

    items: tuple[NodeReview, ...]
    notes: tuple[str, ...]


def _gap(text: str, clause: str = "lineage record") -> Finding:
    return Finding(Level.UNKNOWN, None, clause, text)


def _resolve(node: LineageNode, kb: KnowledgeBase) -> ParsedExpression | Finding:
    declared = (node.license or "").strip()
    where = f"licence knowledge base {kb.version}"
    if not declared:
        return _gap("licence not declared", "model card or dataset record")
    if declared.lower() == "other":
        name = (node.license_name or "").strip()
        if not name:
            return _gap("licence 'other' without a licence name", "model card")
        terms = kb.get(name)
        if terms is not None:
            return kb.parse(terms.id)
        try:
            return kb.parse(name)
        except InvalidInput:
            return _gap(f"licence 'other' ({name!r}) is not in the licence knowledge base", where)
    try:
        return kb.parse(declared)
    except InvalidInput as exc:
        return _gap(f"licence {declared!r} cannot be reviewed: {exc.message}", where)


class _Judge:
    def __init__(self, root: str, nodes: Mapping[str, LineageNode], walked: Walk, base: Context):
        self.root, self.nodes, self.walked, self.base = root, nodes, walked, base
        self.memo: dict[object, Outcome] = {}
        self.contexts: dict[tuple[bool, bool], Context] = {}
        self.parsed: dict[str, ParsedExpression | None] = {}
        self.items: list[NodeReview] = []
        self.notes: dict[str, None] = {}
        self.derived_root = any(
            nodes[t].kind == "model" for t, _ in nodes[root].inputs if t in nodes
        )

    def context(self, node_id: str) -> Context:
        is_root = node_id == self.root
        carried = node_id in self.walked.carried
        found = self.contexts.get((is_root, carried))
        if found is None:
            found = Context(
                self.base.use,
                self.base.distribution,
                self.base.field,
                is_root=is_root,
                carried=carried,
                derived_root=is_root and self.derived_root,
            )
            self.contexts[(is_root, carried)] = found
        return found

    def node(self, node: LineageNode, kb: KnowledgeBase) -> None:
        if not node.registered:
            self.items.append(NodeReview(node, None, _gap(_UNREGISTERED)))
        resolved = _resolve(node, kb)
        if isinstance(resolved, Finding):
            self.parsed[node.id] = None
            self.items.append(NodeReview(node, None, resolved))
            return
        self.parsed[node.id] = resolved
        ctx = self.context(node.id)
        outcome = self.memo.get((resolved.normalized, ctx))
        if outcome is None:  # memoise per distinct expression; hashing the tree costs more
            outcome = evaluate(resolved.tree, ctx, kb, self.memo)
            self.memo[(resolved.normalized, ctx)] = outcome
        for finding in outcome.findings:
            self.items.append(NodeReview(node, resolved.normalized, finding, outcome.notes))
        for note in outcome.notes:
            self.notes[f"{node.label}: {note}"] = None


def _share_alike(judge: _Judge) -> list[NodeReview]:
    claims = sorted(
        ((item.node, item.finding.claim) for item in judge.items if item.finding.claim),
        key=lambda pair: (pair[1].license_id, pair[0].id),
    )
    if not claims:
        return []
    root = judge.nodes[judge.root]
    normalized = judge.parsed.get(judge.root)
    by_licence: dict[str, tuple[LineageNode, ShareAlikeClaim]] = {}
    for node, claim in claims:  # the first node (by id) speaks for each licence
        by_licence.setdefault(claim.license_id, (node, claim))
    common = frozenset.intersection(*(claim.targets for _, claim in by_licence.values()))
    if not common:
        named = " and ".join(
            f"{claim.license_id} (from {node.label})" for node, claim in by_licence.values()
        )
        clause = " | ".join(claim.clause for _, claim in by_licence.values())
        text = f"share-alike conflict: {named} propagate into it; no one licence satisfies them"
        finding = Finding(Level.INCOMPATIBLE, None, clause, text)
        return [NodeReview(root, normalized.normalized if normalized else None, finding)]
    if normalized is not None and not common & set(normalized.keys):
        node, claim = next(iter(by_licence.values()))
        text = (
            f"declared {normalized.normalized}, but share-alike from {node.label} requires "
            f"release under {' or '.join(sorted(common))}"
        )
        finding = Finding(Level.INCOMPATIBLE, claim.license_id, claim.clause, text)
        return [NodeReview(root, normalized.normalized, finding)]
    return []


def judge(
    root: str,
    nodes: Mapping[str, LineageNode],
    walked: Walk,
    *,
    use: Use,
    distribution: Distribution,
    field: str | None,
    kb: KnowledgeBase,
) -> Judged:
    """Every finding for every reachable node, plus cross-node share-alike findings."""
    base = Context(use, distribution, field, is_root=False, carried=False)
    state = _Judge(root, nodes, walked, base)
    for node_id in walked.order:
        state.node(nodes[node_id], kb)
    for owner, target, relation in walked.missing:
        node = nodes[owner]
        text = f"input {target!r} ({relation}) is missing from the lineage"
        state.items.append(NodeReview(node, None, _gap(text)))
    state.items.extend(_share_alike(state))
    return Judged(tuple(state.items), tuple(sorted(state.notes)))
