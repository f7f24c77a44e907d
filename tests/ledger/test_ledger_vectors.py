"""RFC 6962 conformance: the transparency-dev/merkle proof vectors in ``shared/testdata/merkle``.

Each JSON file is one case. ``wantErr: false`` cases must verify; every ``wantErr: true`` case
(a flipped bit, a wrong index or size, garbage before or after the proof, a root in the proof,
swapped roots, sizes of zero) must be rejected.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import MERKLE_VECTORS
from modelsteward.ledger.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test leaves the vectors' size-1..8 trees are built from (testdata/README.md).
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
SIZE8_ROOT_B64 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="


def _cases(kind: str) -> list[Any]:
    files = sorted((MERKLE_VECTORS / kind).rglob("*.json"))
    return [pytest.param(path, id=str(path.relative_to(MERKLE_VECTORS / kind))) for path in files]


INCLUSION = _cases("inclusion")
CONSISTENCY = _cases("consistency")


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text())
    return case


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


def test_the_vector_folders_hold_both_happy_and_failing_cases() -> None:
    # guards against the parametrisation silently collecting nothing
    assert len(INCLUSION) > 50
    assert len(CONSISTENCY) > 50
    for cases in (INCLUSION, CONSISTENCY):
        wants = {_load(c.values[0])["wantErr"] for c in cases}
        assert wants == {True, False}


@pytest.mark.parametrize("path", INCLUSION)
def test_inclusion_vector_verifies_exactly_when_it_should(path: Path) -> None:
    case = _load(path)
    ok = verify_inclusion(
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case),
        _b64(case["root"]),
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", CONSISTENCY)
def test_consistency_vector_verifies_exactly_when_it_should(path: Path) -> None:
    case = _load(path)
    ok = verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        _proof(case),
    )
    assert ok is (not case["wantErr"]), case["desc"]


def test_size8_root_of_the_rfc6962_leaves_is_the_documented_root() -> None:
    root = root_from_leaf_hashes(leaf_hash(leaf) for leaf in RFC6962_LEAVES)
    assert base64.b64encode(root).decode() == SIZE8_ROOT_B64


def _rfc6962_nodes() -> dict[tuple[int, int], bytes]:
    nodes: dict[tuple[int, int], bytes] = {}
    tree = CompactRange()
    for leaf in RFC6962_LEAVES:
        for level, index, node in tree.append(leaf_hash(leaf)):
            nodes[(level, index)] = node
    return nodes


def _happy(cases: list[Any]) -> list[dict[str, Any]]:
    loaded = [_load(c.values[0]) for c in cases]
    return [case for case in loaded if not case["wantErr"]]


def test_inclusion_happy_paths_are_the_proofs_we_generate() -> None:
    nodes = _rfc6962_nodes()
    checked = 0
    for case in _happy(INCLUSION):
        index, size = case["leafIdx"], case["treeSize"]
        if _b64(case["leafHash"]) != nodes[(0, index)]:
            continue  # the single-entry vectors use another leaf
        prefix = [nodes[(0, i)] for i in range(size)]
        assert root_from_leaf_hashes(prefix) == _b64(case["root"])
        assert inclusion_proof(index, size, lambda level, i: nodes[(level, i)]) == _proof(case)
        checked += 1
    assert checked == 5


def test_consistency_happy_paths_are_the_proofs_we_generate() -> None:
    nodes = _rfc6962_nodes()
    checked = 0
    for case in _happy(CONSISTENCY):
        old, new = case["size1"], case["size2"]
        if _b64(case["root1"]) != root_from_leaf_hashes(nodes[(0, i)] for i in range(old)):
            continue  # the "additional" vectors use arbitrary roots
        assert root_from_leaf_hashes(nodes[(0, i)] for i in range(new)) == _b64(case["root2"])
        assert consistency_proof(old, new, lambda level, i: nodes[(level, i)]) == _proof(case)
        checked += 1
    assert checked == 5
