"""Content-addressed blob store: ``blobs/sha256/ab/cdef…``, written atomically, verified on read.

>>> import tempfile, pathlib
>>> store = BlobStore(pathlib.Path(tempfile.mkdtemp()))
>>> d = store.put(b"hello")
>>> store.get(d)
b'hello'
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from modelsteward.errors import BlobCorrupted, NotFound
from modelsteward.types import Digest

__all__ = ["BlobStore"]

_CHUNK = 1 << 20


class BlobStore:
    """Immutable blobs named by their SHA-256 digest under ``root/sha256/``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: Digest) -> Path:
        """Where the blob with ``digest`` lives (whether or not it exists)."""
        return self.root / digest.algorithm / digest.hex[:2] / digest.hex[2:]

    def exists(self, digest: Digest) -> bool:
        """True when the blob is stored."""
        return self.path(digest).is_file()

    def put(self, data: bytes) -> Digest:
        """Store ``data``; idempotent. The blob appears whole or not at all."""
        digest = Digest.of(data)
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def get(self, digest: Digest) -> bytes:
        """The blob's bytes, re-hashed before they are returned.

        Raises:
            NotFound: no such blob.
            BlobCorrupted: the stored bytes no longer match the digest.
        """
        target = self.path(digest)
        try:
            data = target.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"blob {digest} is not in the store") from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest.hex:
            raise BlobCorrupted(
                f"blob {digest} is corrupted: its bytes hash to sha256:{actual}",
                hint=f"restore {target} from a backup",
            )
        return data


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
