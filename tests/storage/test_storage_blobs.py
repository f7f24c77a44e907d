"""The content-addressed blob store: whole blobs or none, named by digest, verified on read."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelsteward.errors import BlobCorrupted, NotFound, VerificationFailed
from modelsteward.storage.blobs import BlobStore
from modelsteward.types import Digest


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]


def test_put_then_get_returns_the_same_bytes(store: BlobStore) -> None:
    data = bytes(range(256)) * 4096  # larger than one read chunk

    digest = store.put(data)

    assert digest == Digest(hashlib.sha256(data).hexdigest())
    assert store.exists(digest)
    assert store.get(digest) == data


def test_empty_blob_round_trips(store: BlobStore) -> None:
    digest = store.put(b"")

    assert str(digest) == f"sha256:{hashlib.sha256(b'').hexdigest()}"
    assert store.get(digest) == b""


def test_putting_the_same_bytes_twice_stores_one_file(store: BlobStore) -> None:
    first = store.put(b"same bytes")
    before = store.path(first).stat()

    second = store.put(b"same bytes")

    assert first == second
    after = store.path(second).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path(first)]


def test_blobs_are_filed_under_sha256_and_the_first_two_hex_digits(store: BlobStore) -> None:
    data = b"layout"
    hexdigest = hashlib.sha256(data).hexdigest()

    digest = store.put(data)

    expected = store.root / "sha256" / hexdigest[:2] / hexdigest[2:]
    assert store.path(digest) == expected
    assert expected.read_bytes() == data


def test_stored_blobs_are_read_only(store: BlobStore) -> None:
    digest = store.put(b"immutable")

    mode = stat.S_IMODE(store.path(digest).stat().st_mode)

    assert mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0


def test_a_blob_whose_bytes_changed_is_reported_corrupted(store: BlobStore) -> None:
    digest = store.put(b"original contents")
    target = store.path(digest)
    os.chmod(target, 0o644)
    target.write_bytes(b"tampered contents")

    with pytest.raises(BlobCorrupted) as excinfo:
        store.get(digest)

    assert isinstance(excinfo.value, VerificationFailed)
    assert str(digest) in excinfo.value.message
    assert str(target) in excinfo.value.hint


def test_a_truncated_blob_is_reported_corrupted(store: BlobStore) -> None:
    digest = store.put(b"x" * 1000)
    target = store.path(digest)
    os.chmod(target, 0o644)
    with target.open("r+b") as handle:
        handle.truncate(999)

    with pytest.raises(BlobCorrupted):
        store.get(digest)


def test_a_missing_blob_is_not_found(store: BlobStore) -> None:
    digest = Digest.of(b"never stored")

    assert not store.exists(digest)
    with pytest.raises(NotFound, match=digest.hex):
        store.get(digest)


def test_a_deleted_blob_is_not_found(store: BlobStore) -> None:
    digest = store.put(b"short-lived")
    store.path(digest).unlink()

    with pytest.raises(NotFound):
        store.get(digest)


def test_put_leaves_no_temporary_files(store: BlobStore) -> None:
    for i in range(50):
        store.put(f"blob {i}".encode())

    assert _temp_files(store.root) == []
    assert sum(1 for p in store.root.rglob("*") if p.is_file()) == 50


def test_concurrent_puts_of_the_same_bytes_leave_one_whole_blob(store: BlobStore) -> None:
    data = os.urandom(256 * 1024)

    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(lambda _: store.put(data), range(32)))

    assert len(digests) == 1
    (digest,) = digests
    assert store.get(digest) == data
    assert _temp_files(store.root) == []
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path(digest)]
