"""Properties of the Merkle tree, its proofs and the canonical entry encoding (Hypothesis).

The tree is checked against a naive recursive RFC 6962 ``MTH`` written here from the RFC text,
not against the implementation's own helpers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelsteward.ledger.entry import Entry, EntryDraft, canonical_json
from modelsteward.ledger.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

MAX_SAFE = 2**53 - 1


def naive_mth(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1, literally: MTH(D[n]) over the raw entries."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


class Tree:
    """A tree built with CompactRange, keeping every completed node as a store would."""

    def __init__(self, entries: list[bytes]) -> None:
        self.leaves = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots: list[bytes] = []  # roots[n] = root of the first n leaves
        cr = CompactRange()
        self.roots.append(cr.root())
        for leaf in self.leaves:
            for level, index, node in cr.append(leaf):
                self.nodes[(level, index)] = node
            self.roots.append(cr.root())
        self.size = cr.size

    def read(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _mutations(proof: list[bytes], bit: int, extra: bytes) -> list[list[bytes]]:
    """Every single-bit flip (at one bit position per element), every drop, and an append."""
    out = []
    for j in range(len(proof)):
        out.append([*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]])
        out.append(proof[:j] + proof[j + 1 :])
    out.append([*proof, extra])
    out.append([extra, *proof])
    return out


# distinct entries, so that moving a proof to another index must fail
entry_lists = st.integers(1, 200).flatmap(
    lambda n: st.lists(st.binary(max_size=12), min_size=n, max_size=n, unique=True)
)
hashes = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(entries=entry_lists)
def test_root_equals_the_naive_rfc6962_tree_head_at_every_size(entries: list[bytes]) -> None:
    tree = Tree(entries)
    assert tree.size == len(entries)
    assert tree.roots[-1] == naive_mth(entries)
    for n in {0, 1, 2, len(entries) // 2, len(entries) - 1} - {len(entries) + 1}:
        assert tree.roots[n] == naive_mth(entries[:n])


@settings(max_examples=40, deadline=None)
@given(entries=entry_lists)
def test_every_inclusion_proof_verifies(entries: list[bytes]) -> None:
    tree = Tree(entries)
    n = tree.size
    for i in range(n):
        proof = inclusion_proof(i, n, tree.read)
        assert verify_inclusion(tree.leaves[i], i, n, proof, tree.roots[n])


@settings(max_examples=40, deadline=None)
@given(entries=entry_lists)
def test_every_consistency_proof_verifies(entries: list[bytes]) -> None:
    tree = Tree(entries)
    n = tree.size
    for m in range(1, n + 1):
        proof = consistency_proof(m, n, tree.read)
        assert verify_consistency(m, n, tree.roots[m], tree.roots[n], proof)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), entries=entry_lists, extra=hashes)
def test_inclusion_proofs_at_intermediate_sizes_verify_and_any_alteration_fails(
    data: st.DataObject, entries: list[bytes], extra: bytes
) -> None:
    tree = Tree(entries)
    n = data.draw(st.integers(1, tree.size), label="size")
    i = data.draw(st.integers(0, n - 1), label="index")
    bit = data.draw(st.integers(0, 255), label="bit")
    proof = inclusion_proof(i, n, tree.read)
    root, leaf = tree.roots[n], tree.leaves[i]
    assert verify_inclusion(leaf, i, n, proof, root)
    for bad in _mutations(proof, bit, extra):
        assert not verify_inclusion(leaf, i, n, bad, root)
    assert not verify_inclusion(_flip(leaf, bit), i, n, proof, root)
    assert not verify_inclusion(leaf, i, n, proof, _flip(root, bit))
    if n > 1:
        assert not verify_inclusion(leaf, (i + 1) % n, n, proof, root)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), entries=entry_lists, extra=hashes)
def test_consistency_proofs_at_intermediate_sizes_verify_and_any_alteration_fails(
    data: st.DataObject, entries: list[bytes], extra: bytes
) -> None:
    tree = Tree(entries)
    n = data.draw(st.integers(1, tree.size), label="new size")
    m = data.draw(st.integers(1, n), label="old size")
    bit = data.draw(st.integers(0, 255), label="bit")
    proof = consistency_proof(m, n, tree.read)
    old, new = tree.roots[m], tree.roots[n]
    assert verify_consistency(m, n, old, new, proof)
    for bad in _mutations(proof, bit, extra):
        assert not verify_consistency(m, n, old, new, bad)
    assert not verify_consistency(m, n, _flip(old, bit), new, proof)
    assert not verify_consistency(m, n, old, _flip(new, bit), proof)
    if m < n:
        assert not verify_consistency(m, n, new, old, proof)


# -- canonical entries ----------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE, MAX_SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
payloads = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
printable = st.text(max_size=40).filter(str.isprintable)
times = st.datetimes(min_value=datetime(1970, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
)


@st.composite
def entries(draw: Callable[..., Any]) -> Entry:
    draft = EntryDraft(
        kind=draw(st.from_regex(r"[a-z][a-z0-9_.-]{0,63}", fullmatch=True)),
        actor=draw(printable.filter(bool)),
        subject=draw(printable),
        payload=draw(payloads),
    )
    entry: Entry = draft.seal(seq=draw(st.integers(0, MAX_SAFE)), time=draw(times))
    return entry


@settings(max_examples=150, deadline=None)
@given(entry=entries())
def test_spliced_entry_bytes_are_the_canonical_json_of_the_whole_entry(entry: Entry) -> None:
    assert entry.to_bytes() == canonical_json(entry.to_dict())


@settings(max_examples=150, deadline=None)
@given(entry=entries())
def test_entry_bytes_round_trip_through_from_bytes(entry: Entry) -> None:
    data = entry.to_bytes()
    parsed = Entry.from_bytes(data)
    assert parsed == entry
    assert parsed.to_bytes() == data  # the parsed entry has no cached payload: re-encoded path
