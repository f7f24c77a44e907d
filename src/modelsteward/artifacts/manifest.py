"""OpenSSF Model Signing (OMS v1.0) manifests: every file of a model and its SHA-256.

The manifest's *root digest* — SHA-256 over the concatenated raw file digests, in path order — is
a model version's identity. It is exactly the subject digest that ``model_signing`` puts in its
signature bundles, so ``steward hash`` and the reference tool agree on what a model *is*.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "weights.bin").write_bytes(b"abc")
    >>> m = hash_model(folder)
    >>> [f.path for f in m.files], m.total_size
    (['weights.bin'], 3)

Rules (the OMS defaults, so the reference verifier reproduces the same manifest):
- every regular file under the folder, recursively; ``.git/``, ``.gitattributes``, ``.github/``
  and ``.gitignore`` at the top are ignored;
- a symbolic link to a file inside the folder is hashed as its target (recorded as
  ``allow_symlinks``); a link that escapes the folder, a linked folder or a special file is
  refused; an empty folder is refused;
- a single file is a manifest with one resource named ``"."``.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from modelsteward.errors import InvalidInput, MalformedEvidence
from modelsteward.types import Digest

__all__ = [
    "GIT_PATHS",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "FileDigest",
    "ManifestDiff",
    "ModelManifest",
    "hash_file",
    "hash_model",
    "list_model_files",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")
_SLICE = 16 * 1024 * 1024  # bytes per hashlib.update: big enough to release the GIL for long


@dataclass(frozen=True, slots=True)
class FileDigest:
    """One file of a model: its POSIX path relative to the model root, SHA-256 and size."""

    path: str
    sha256: str
    size: int

    def sort_key(self) -> tuple[str, ...]:
        """OMS orders resources as ``PurePosixPath`` does: component by component."""
        return PurePosixPath(self.path).parts or (".",)


@dataclass(frozen=True)
class ManifestDiff:
    """How a folder differs from a registered manifest."""

    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """True when nothing differs."""
        return not (self.changed or self.missing or self.extra)

    def describe(self) -> list[str]:
        """One line per difference, for humans."""
        return (
            [f"changed: {p}" for p in self.changed]
            + [f"missing: {p}" for p in self.missing]
            + [f"extra:   {p}" for p in self.extra]
        )


@dataclass(frozen=True)
class ModelManifest:
    """The hashed contents of a model folder or file."""

    name: str
    files: tuple[FileDigest, ...]
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = ()
    _root: Digest = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.files, key=FileDigest.sort_key))
        object.__setattr__(self, "files", ordered)
        paths = [f.path for f in ordered]
        if len(set(paths)) != len(paths):
            raise MalformedEvidence("manifest lists a file twice")
        root = hashlib.sha256()
        for item in ordered:
            root.update(bytes.fromhex(item.sha256))
        object.__setattr__(self, "_root", Digest(root.hexdigest()))

    @property
    def root_digest(self) -> Digest:
        """The model version's identity (OMS subject digest)."""
        return self._root

    @property
    def total_size(self) -> int:
        """Bytes across all files."""
        return sum(f.size for f in self.files)

    def serialization(self) -> dict[str, Any]:
        """The OMS ``serialization`` block a verifier uses to re-hash the folder."""
        block: dict[str, Any] = {
            "method": "files",
            "hash_type": "sha256",
            "allow_symlinks": self.allow_symlinks,
        }
        if self.ignore_paths:
            block["ignore_paths"] = list(self.ignore_paths)
        return block

    def statement(self) -> dict[str, Any]:
        """The in-toto v1 statement (OMS v1.0 predicate) that a signature covers."""
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.name, "digest": {"sha256": self.root_digest.hex}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "serialization": self.serialization(),
                "resources": [
                    {"name": f.path, "algorithm": "sha256", "digest": f.sha256} for f in self.files
                ],
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Stored form: the statement plus file sizes."""
        return {
            "format": "steward.manifest/v1",
            "statement": self.statement(),
            "sizes": {f.path: f.size for f in self.files},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelManifest:
        """Parse :meth:`to_dict` output; checks the recorded root digest."""
        try:
            statement = data["statement"]
            sizes = data.get("sizes", {})
            manifest = cls.from_statement(statement, sizes)
        except (KeyError, TypeError) as exc:
            raise MalformedEvidence(f"not a Steward manifest: missing {exc}") from exc
        return manifest

    @classmethod
    def from_statement(
        cls, statement: dict[str, Any], sizes: dict[str, int] | None = None
    ) -> ModelManifest:
        """Rebuild a manifest from an OMS in-toto statement (e.g. a signature's payload)."""
        try:
            if statement["_type"] != STATEMENT_TYPE:
                raise MalformedEvidence(f"not an in-toto v1 statement: {statement['_type']!r}")
            if statement["predicateType"] != PREDICATE_TYPE:
                raise MalformedEvidence(
                    f"unsupported predicate type {statement['predicateType']!r}",
                    hint=f"Steward reads OMS v1.0 ({PREDICATE_TYPE})",
                )
            (subject,) = statement["subject"]
            predicate = statement["predicate"]
            serialization = predicate["serialization"]
            if serialization.get("method") != "files" or serialization.get("hash_type") != (
                "sha256"
            ):
                raise MalformedEvidence(
                    f"unsupported serialization {serialization!r}",
                    hint="Steward reads OMS manifests hashed per file with sha256",
                )
            files = []
            for resource in predicate["resources"]:
                if resource["algorithm"] != "sha256":
                    raise MalformedEvidence(f"unsupported algorithm {resource['algorithm']!r}")
                digest = Digest(str(resource["digest"])).hex
                size = int((sizes or {}).get(resource["name"], -1))
                files.append(FileDigest(str(resource["name"]), digest, size))
            manifest = cls(
                name=str(subject["name"]),
                files=tuple(files),
                allow_symlinks=bool(serialization["allow_symlinks"]),
                ignore_paths=tuple(str(p) for p in serialization.get("ignore_paths", ())),
            )
            claimed = subject["digest"]["sha256"]
        except (KeyError, TypeError, ValueError, InvalidInput) as exc:
            if isinstance(exc, MalformedEvidence):
                raise
            raise MalformedEvidence(f"malformed OMS statement: {exc}") from exc
        if claimed != manifest.root_digest.hex:
            raise MalformedEvidence(
                f"statement root digest {claimed} does not match its resources "
                f"({manifest.root_digest.hex})"
            )
        return manifest

    def diff(self, actual: ModelManifest) -> ManifestDiff:
        """What changed from this (expected) manifest to ``actual``."""
        expected = {f.path: f.sha256 for f in self.files}
        found = {f.path: f.sha256 for f in actual.files}
        return ManifestDiff(
            changed=tuple(
                sorted(p for p in expected.keys() & found.keys() if expected[p] != found[p])
            ),
            missing=tuple(sorted(expected.keys() - found.keys())),
            extra=tuple(sorted(found.keys() - expected.keys())),
        )


def hash_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """SHA-256 of one file, streamed through ``mmap`` in large slices (no copies)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return digest.hexdigest()
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = memoryview(mapped)
            try:
                for start in range(0, size, _SLICE):
                    chunk = view[start : start + _SLICE]
                    digest.update(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
                    chunk.release()
            finally:
                view.release()
    return digest.hexdigest()


def list_model_files(
    root: Path, ignore: Iterable[str] = ()
) -> tuple[list[tuple[str, Path, int]], bool]:
    """Every file to hash as ``(posix path, real path, size)`` and whether links were followed.

    Raises ``InvalidInput`` for a missing path, an empty folder, a link escaping the folder, a
    linked folder or a special file — nothing is hashed until the whole tree is acceptable.
    """
    if not root.exists() and not root.is_symlink():
        raise InvalidInput(f"{root} does not exist", hint="give the model folder or file")
    if root.is_file():
        return [(".", root, root.stat().st_size)], False
    if not root.is_dir():
        raise InvalidInput(f"{root} is neither a file nor a folder")
    real_root = root.resolve()
    skip = {PurePosixPath(p) for p in (*GIT_PATHS, *ignore)}
    found: list[tuple[str, Path, int]] = []
    followed = False
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                rel = PurePosixPath(Path(entry.path).relative_to(root).as_posix())
                if any(rel == s or s in rel.parents for s in skip):
                    continue
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    followed = True
                    found.append(_follow_link(Path(entry.path), rel, real_root))
                elif stat.S_ISDIR(info.st_mode):
                    stack.append(Path(entry.path))
                elif stat.S_ISREG(info.st_mode):
                    found.append((str(rel), Path(entry.path), info.st_size))
                else:
                    raise InvalidInput(
                        f"{rel} is not a regular file (socket, pipe or device)",
                        hint="remove it from the model folder",
                    )
    if not found:
        raise InvalidInput(f"{root} holds no files", hint="point at the downloaded model snapshot")
    return found, followed


def _follow_link(link: Path, rel: PurePosixPath, real_root: Path) -> tuple[str, Path, int]:
    target = link.resolve()
    if not target.is_relative_to(real_root):
        raise InvalidInput(
            f"{rel} is a symbolic link escaping the model folder (to {target})",
            hint="copy the real file into the folder (cp -L) or remove the link",
        )
    if not target.is_file():
        raise InvalidInput(
            f"{rel} is a symbolic link to {'a folder' if target.is_dir() else 'nothing'}",
            hint="replace linked folders with real ones (cp -rL)",
        )
    return str(rel), target, target.stat().st_size


def hash_model(
    path: Path,
    *,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    ignore: Iterable[str] = (),
) -> ModelManifest:
    """Hash a model folder or file into an OMS manifest, files in parallel.

    Args:
        path: the model folder (or single file).
        workers: hashing threads (default: one per core).
        on_bytes: called with each slice's length, for progress bars (from worker threads).
        on_plan: called once with ``(file count, total bytes)`` before hashing starts.
        ignore: extra relative paths to leave out (recorded in the manifest).
    """
    path = path.expanduser()
    ignore = tuple(ignore)
    files, followed = list_model_files(path, ignore)
    if on_plan:
        on_plan(len(files), sum(size for _, _, size in files))
    # largest first, so the last file to finish is a small one
    files.sort(key=lambda item: item[2], reverse=True)
    jobs = workers or os.cpu_count() or 1

    def one(item: tuple[str, Path, int]) -> FileDigest:
        rel, real, _ = item
        try:
            sha = hash_file(real, on_bytes)
            size = real.stat().st_size
        except OSError as exc:
            raise InvalidInput(f"cannot read {rel}: {exc.strerror}") from exc
        return FileDigest(rel, sha, size)

    with ThreadPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        digests = list(pool.map(one, files))
    name = path.name or path.resolve().name
    # recorded like the reference signer does, so `--no-ignore-git-paths` verifiers agree too
    ignored = set(ignore) | (set(GIT_PATHS) if path.is_dir() else set())
    return ModelManifest(name, tuple(digests), followed, tuple(sorted(ignored)))
