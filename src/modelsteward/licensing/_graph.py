"""The lineage graph: validate it, walk it once from the root, and digest what was reviewed.

>>> a = LineageNode("model:a", "model", "a@1", "MIT", inputs=(("dataset:d", "run-dataset"),))
>>> d = LineageNode("dataset:d", "dataset", "d", "CC-BY-4.0")
>>> walk("model:a", {"model:a": a, "dataset:d": d}).order
('model:a', 'dataset:d')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from modelsteward.errors import InvalidInput

__all__ = ["KINDS", "LineageNode", "Walk", "review_digest", "walk"]

KINDS = ("model", "dataset")

RULES_VERSION = "1"
"""Bumped when the review rules change meaning, so old review digests no longer match."""


@dataclass(frozen=True)
class LineageNode:
    """One artifact in a lineage, as the caller assembled it.

    Attributes:
        id: Unique id, e.g. ``model:sha256:…`` or ``declared-dataset:drive-logs``.
        kind: ``model`` or ``dataset``.
        label: Human name, e.g. ``alpamayo-ft@2``.
        license: The licence as declared (SPDX expression, KB id or alias); ``None`` if none.
        license_name: For ``license == "other"``, the card's ``license_name``.
        registered: ``False`` when declared on a card but not registered in Steward.
        inputs: ``(node id, relation)`` pairs, e.g. ``("model:…", "base-model")``.
    """

    id: str
    kind: str
    label: str
    license: str | None
    license_name: str | None = None
    registered: bool = True
    inputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Walk:
    """The reachable part of the graph.

    Attributes:
        order: Node ids in visiting order, root first, each once.
        carried: Models whose weights ship inside the root (reached through models only).
        missing: ``(node id, input id, relation)`` for inputs absent from the graph.
    """

    order: tuple[str, ...]
    carried: frozenset[str]
    missing: tuple[tuple[str, str, str], ...]


def _check(root: str, nodes: Mapping[str, LineageNode]) -> None:
    if root not in nodes:
        raise InvalidInput(
            f"lineage root {root!r} is not among the {len(nodes)} nodes",
            hint="pass the root node in the nodes mapping",
        )
    for key, node in nodes.items():
        if key != node.id:
            raise InvalidInput(f"lineage node filed under {key!r} has id {node.id!r}")
        if node.kind not in KINDS:
            raise InvalidInput(
                f"lineage node {node.id!r} has kind {node.kind!r}",
                hint="kind is one of: " + ", ".join(KINDS),
            )


def walk(root: str, nodes: Mapping[str, LineageNode]) -> Walk:
    """Visit every node reachable from ``root`` once (iteratively, so cycles and depth are safe)."""
    _check(root, nodes)
    seen = {root}
    order = [root]
    missing: list[tuple[str, str, str]] = []
    stack = [root]
    while stack:
        node = nodes[stack.pop()]
        for target, relation in node.inputs:
            if target not in nodes:
                missing.append((node.id, target, relation))
            elif target not in seen:
                seen.add(target)
                order.append(target)
                stack.append(target)
    return Walk(tuple(order), _carried(root, nodes), tuple(missing))


def _carried(root: str, nodes: Mapping[str, LineageNode]) -> frozenset[str]:
    carried = {root}
    if nodes[root].kind != "model":
        return frozenset(carried)
    stack = [root]
    while stack:
        for target, _relation in nodes[stack.pop()].inputs:
            node = nodes.get(target)
            if node is not None and node.kind == "model" and target not in carried:
                carried.add(target)
                stack.append(target)
    return frozenset(carried)


def review_digest(
    *,
    root: str,
    use: str,
    distribution: str,
    field: str | None,
    kb_digest: str,
    nodes: Mapping[str, LineageNode],
    reviewed: tuple[str, ...],
) -> str:
    """``sha256:<hex>`` of canonical JSON of what was reviewed (no timestamps)."""
    payload = {
        "rules": RULES_VERSION,
        "root": root,
        "use": use,
        "distribution": distribution,
        "field": field,
        "kb": kb_digest,
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "label": n.label,
                "license": n.license,
                "license_name": n.license_name,
                "registered": n.registered,
                "inputs": sorted([list(edge) for edge in set(n.inputs)]),
            }
            for n in sorted((nodes[i] for i in reviewed), key=lambda n: n.id)
        ],
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
