"""What a scanner receives (:class:`ScanTarget`) and how it builds its verdict (:class:`Findings`).

>>> from pathlib import Path
>>> from modelsteward.artifacts.scanning._target import Findings, ScanTarget
>>> target = ScanTarget("notes.bin", Path("notes.bin"), Path("."), 3, b"abc")
>>> found = Findings()
>>> found.unscanned("no scanner for this format")
>>> found.build(target, "unknown", "steward-detect", "0.1.0").verdict
<Verdict.UNSCANNED: 'unscanned'>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import modelsteward
from modelsteward.artifacts.scanning._verdict import FileVerdict, Verdict

__all__ = ["MAX_FINDINGS", "STEWARD_VERSION", "Findings", "ScanTarget", "sibling_file"]

STEWARD_VERSION: str = modelsteward.__version__
"""Version recorded for Steward's own scanners."""

MAX_FINDINGS = 20
"""Findings kept per file; a hostile file must not turn the report itself into a weapon."""


@dataclass(frozen=True)
class ScanTarget:
    """One file to scan.

    Attributes:
        rel: POSIX path relative to the model root (``"."`` for a single-file model).
        real: Where to read it (a link already resolved inside the model folder).
        root: The model root, a folder or the single file itself.
        size: Size in bytes.
        head: The first bytes of the file, for magic-number detection.
    """

    rel: str
    real: Path
    root: Path
    size: int
    head: bytes

    @property
    def name(self) -> str:
        """The file name as the model refers to it (the link's name, not its target's)."""
        return self.real.name if self.rel == "." else PurePosixPath(self.rel).name

    @property
    def suffix(self) -> str:
        """Lower-case extension with its dot (``".safetensors"``), or ``""``."""
        return PurePosixPath(self.name.lower()).suffix

    @property
    def folder(self) -> Path | None:
        """The model folder, or None for a single-file model (nothing lies beside it)."""
        return None if self.rel == "." else self.root

    @property
    def parent_rel(self) -> PurePosixPath:
        """The file's folder relative to the model root."""
        return PurePosixPath(self.rel).parent


@dataclass
class Findings:
    """Collects reasons while a scanner works and turns them into a :class:`FileVerdict`."""

    unsafe_reasons: list[str] = field(default_factory=list)
    unscanned_reasons: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def unsafe(self, reason: str) -> None:
        """Record a reason that makes the file unsafe."""
        self.unsafe_reasons.append(reason)

    def unscanned(self, reason: str) -> None:
        """Record a reason the file could not be vouched for."""
        self.unscanned_reasons.append(reason)

    @property
    def verdict(self) -> Verdict:
        """Unsafe beats unscanned beats safe."""
        if self.unsafe_reasons:
            return Verdict.UNSAFE
        if self.unscanned_reasons:
            return Verdict.UNSCANNED
        return Verdict.SAFE

    def build(self, target: ScanTarget, fmt: str, scanner: str, version: str) -> FileVerdict:
        """The verdict for ``target``; at most :data:`MAX_FINDINGS` reasons are kept."""
        reasons = self.unsafe_reasons + self.unscanned_reasons
        if len(reasons) > MAX_FINDINGS:
            extra = len(reasons) - MAX_FINDINGS + 1
            reasons = [*reasons[: MAX_FINDINGS - 1], f"... and {extra} more findings"]
        return FileVerdict(
            path=target.rel,
            format=fmt,
            verdict=self.verdict,
            scanner=scanner,
            scanner_version=version,
            findings=tuple(reasons),
            details=self.details,
        )


def sibling_file(target: ScanTarget, reference: str) -> tuple[str | None, str | None]:
    """Resolve a path a file names relative to its own folder (a shard, an external-data file).

    Returns:
        ``(model-relative POSIX path, None)`` when it is a regular file inside the model, else
        ``(None, problem)`` with a phrase that completes "... names X, <problem>".
    """
    path = PurePosixPath(reference)
    if not reference or "\x00" in reference:
        return None, "which is not a file name"
    if path.is_absolute() or PureWindowsPath(reference).drive or "\\" in reference:
        return None, "an absolute or Windows path outside the model folder"
    if ".." in path.parts:
        return None, "which climbs out of its folder with '..'"
    folder = target.folder
    if folder is None:
        return None, "but a single-file model has nothing beside it"
    rel = target.parent_rel.joinpath(path)
    resolved = folder.joinpath(*rel.parts).resolve()
    if not resolved.is_relative_to(folder.resolve()):
        return None, "which resolves outside the model folder"
    if not resolved.is_file():
        return None, "which is not a file in the model folder"
    return rel.as_posix(), None
