"""RFC 6962 / RFC 9162 Merkle tree hashing, compact ranges, proofs and their verification.

Leaf hash ``SHA-256(0x00 ‖ entry)``, node hash ``SHA-256(0x01 ‖ left ‖ right)``, the empty
tree's root ``SHA-256("")``. Proof *generation* reads perfect-subtree hashes through a callback,
so it works on any store that keeps them; proof *verification* needs nothing but ``hashlib``.

    >>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
    >>> cr = CompactRange()
    >>> for h in leaves:
    ...     _ = cr.append(h)
    >>> nodes = {}
    >>> def remember(level, index, h): nodes[(level, index)] = h
    >>> cr2 = CompactRange()
    >>> for h in leaves:
    ...     for level, index, node in cr2.append(h): remember(level, index, node)
    >>> proof = inclusion_proof(2, 5, lambda level, index: nodes[(level, index)])
    >>> verify_inclusion(leaves[2], 2, 5, proof, cr.root())
    True

Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeReader",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""``read(level, index)`` → hash of the perfect subtree covering leaves
``[index·2^level, (index+1)·2^level)``; level 0 is the leaf hash."""

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash of the exact entry bytes."""
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash."""
    return _sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The right border of a tree ``[0, size)``: one perfect-subtree hash per set bit of ``size``.

    Appending is amortised O(1) and reports every perfect subtree it completes, so a store can keep
    the nodes that proofs need without ever re-reading the tree.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or bin(size).count("1") != len(hashes):
            raise ValueError(f"a compact range of size {size} needs {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> CompactRange:
        """Rebuild from :meth:`to_bytes` output."""
        if len(packed) % HASH_SIZE:
            raise ValueError("packed compact range length is not a multiple of 32")
        hashes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, hashes)

    def to_bytes(self) -> bytes:
        """The hashes concatenated, largest subtree first."""
        return b"".join(self.hashes)

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self.size, self.hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the ``(level, index, hash)`` of every subtree it completes."""
        index = self.size
        completed = [(0, index, leaf)]
        hashes = self.hashes
        hashes.append(leaf)
        level = 0
        while index & 1:
            right = hashes.pop()
            merged = _sha256(b"\x01" + hashes.pop() + right).digest()
            hashes.append(merged)
            index >>= 1
            level += 1
            completed.append((level, index, merged))
        self.size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add many leaf hashes, discarding the completed-node report (fast path for verifiers)."""
        hashes = self.hashes
        size = self.size
        for leaf in leaves:
            hashes.append(leaf)
            index = size
            while index & 1:
                right = hashes.pop()
                hashes.append(_sha256(b"\x01" + hashes.pop() + right).digest())
                index >>= 1
            size += 1
        self.size = size

    def root(self) -> bytes:
        """The tree head (RFC 6962 MTH) of ``[0, size)``."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            root = _sha256(b"\x01" + h + root).digest()
        return root


def root_from_leaf_hashes(leaves: Iterable[bytes]) -> bytes:
    """The tree head of the given leaf hashes, in order."""
    cr = CompactRange()
    cr.extend(leaves)
    return cr.root()


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _range_hash(lo: int, hi: int, read: NodeReader) -> bytes:
    """MTH of leaves ``[lo, hi)`` where ``lo`` is aligned to a power of two ≥ ``hi - lo``."""
    parts: list[bytes] = []
    pos = lo
    remaining = hi - lo
    while remaining:
        level = remaining.bit_length() - 1
        parts.append(read(level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    root = parts[-1]
    for h in reversed(parts[:-1]):
        root = node_hash(h, root)
    return root


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index - lo < k:
            path.append(_range_hash(lo + k, hi, read))
            hi = lo + k
        else:
            path.append(_range_hash(lo, lo + k, read))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, read: NodeReader) -> list[bytes]:
    """Proof that the tree of ``old_size`` is a prefix of the tree of ``new_size`` (§2.1.4.1)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    path: list[bytes] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            path.append(_range_hash(lo + k, hi, read))
            hi = lo + k
        else:
            path.append(_range_hash(lo, lo + k, read))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        path.append(_range_hash(lo, hi, read))
    path.reverse()
    return path


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree ``(size, root)``."""
    if not 0 <= index < size or not _well_formed([leaf, root, *proof]):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when ``proof`` shows ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    A proof from the empty tree proves nothing and is rejected; callers treat size 0 as trivially
    consistent before asking.
    """
    if old_size < 1 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof or not _well_formed([old_root, new_root, *proof]):
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
