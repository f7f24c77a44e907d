"""Scan results as values: a :class:`Verdict` per file, gathered into a :class:`ScanReport`.

Reports are stored as evidence, so both shapes round-trip through plain JSON-safe dicts.

    >>> from modelsteward.artifacts.scanning import FileVerdict, ScanReport, Verdict
    >>> code = FileVerdict("modeling.py", "python", Verdict.UNSCANNED, "steward-detect", "0.1.0")
    >>> report = ScanReport((code,))
    >>> [f.path for f in report.blocking()], report.blocking(accepted={"modeling.py"})
    (['modeling.py'], ())
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from modelsteward.errors import MalformedEvidence

__all__ = ["FileVerdict", "ScanReport", "Verdict"]

REPORT_FORMAT = "steward.scan/v1"


class Verdict(StrEnum):
    """What a scanner concluded about one file."""

    SAFE = "safe"
    """The scanner understood the whole file and found nothing that can run code."""
    UNSAFE = "unsafe"
    """The file can run code, is malformed, or could not be analysed. Always blocks."""
    UNSCANNED = "unscanned"
    """No scanner could vouch for the file. Blocks until a person accepts it by path."""


@dataclass(frozen=True)
class FileVerdict:
    """The verdict on one file of a model.

    Attributes:
        path: POSIX path relative to the model root (``"."`` for a single-file model).
        format: What the file is, e.g. ``"safetensors"``, ``"pickle"``, ``"pytorch-zip"``.
        verdict: Safe, unsafe or unscanned.
        scanner: The scanner that decided, e.g. ``"fickling"`` or ``"steward-safetensors"``.
        scanner_version: That scanner's version, so a verdict can be reproduced.
        findings: Human-readable reasons for an unsafe or unscanned verdict.
        details: JSON-safe extras (imports found, tensor count, chat template, ...).
    """

    path: str
    format: str
    verdict: Verdict
    scanner: str
    scanner_version: str
    findings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The stored form (plain JSON types)."""
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict.value,
            "scanner": self.scanner,
            "scanner_version": self.scanner_version,
            "findings": list(self.findings),
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileVerdict:
        """Parse :meth:`to_dict` output.

        Raises:
            MalformedEvidence: a field is missing or has the wrong type.
        """
        try:
            texts = {key: data[key] for key in ("path", "format", "scanner", "scanner_version")}
            findings = data.get("findings", [])
            details = data.get("details", {})
            verdict = Verdict(data["verdict"])
        except (KeyError, ValueError, TypeError) as exc:
            raise MalformedEvidence(f"not a Steward file verdict: {exc}") from exc
        if not all(isinstance(value, str) for value in texts.values()):
            raise MalformedEvidence("a file verdict's path, format and scanner must be strings")
        if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
            raise MalformedEvidence("a file verdict's findings must be a list of strings")
        if not isinstance(details, dict):
            raise MalformedEvidence("a file verdict's details must be an object")
        return cls(verdict=verdict, findings=tuple(findings), details=dict(details), **texts)


def _path_key(verdict: FileVerdict) -> tuple[str, ...]:
    return PurePosixPath(verdict.path).parts or (".",)


@dataclass(frozen=True)
class ScanReport:
    """The verdicts on every file of a model, in manifest (path) order.

    Attributes:
        files: One verdict per file.
    """

    files: tuple[FileVerdict, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.files, key=_path_key))
        paths = [f.path for f in ordered]
        if len(set(paths)) != len(paths):
            raise MalformedEvidence("a scan report lists a file twice")
        object.__setattr__(self, "files", ordered)

    @property
    def unsafe(self) -> tuple[FileVerdict, ...]:
        """Files found unsafe (or impossible to analyse)."""
        return tuple(f for f in self.files if f.verdict is Verdict.UNSAFE)

    @property
    def unscanned(self) -> tuple[FileVerdict, ...]:
        """Files no scanner could vouch for."""
        return tuple(f for f in self.files if f.verdict is Verdict.UNSCANNED)

    @property
    def scanners(self) -> dict[str, str]:
        """Name → version of every scanner that produced a verdict."""
        return {f.scanner: f.scanner_version for f in sorted(self.files, key=lambda f: f.scanner)}

    @property
    def summary(self) -> dict[str, int]:
        """File counts: total and per verdict."""
        counts = {"files": len(self.files)}
        for verdict in Verdict:
            counts[verdict.value] = sum(1 for f in self.files if f.verdict is verdict)
        return counts

    def blocking(self, accepted: Collection[str] = ()) -> tuple[FileVerdict, ...]:
        """The files that stop this model: every unsafe file, and unscanned ones not accepted.

        Args:
            accepted: Paths a person reviewed and accepted. Acceptance never clears an unsafe
                verdict.
        """
        return tuple(
            f
            for f in self.files
            if f.verdict is Verdict.UNSAFE
            or (f.verdict is Verdict.UNSCANNED and f.path not in accepted)
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form; ``scanners`` and ``summary`` are derived and repeated for readers."""
        return {
            "format": REPORT_FORMAT,
            "files": [f.to_dict() for f in self.files],
            "scanners": self.scanners,
            "summary": self.summary,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanReport:
        """Parse :meth:`to_dict` output.

        Raises:
            MalformedEvidence: not a scan report, or a file entry is malformed.
        """
        if not isinstance(data, Mapping) or data.get("format") != REPORT_FORMAT:
            raise MalformedEvidence(f"not a Steward scan report (expected {REPORT_FORMAT})")
        files = data.get("files")
        if not isinstance(files, list) or not all(isinstance(f, Mapping) for f in files):
            raise MalformedEvidence("a scan report's files must be a list of objects")
        return cls(tuple(FileVerdict.from_dict(f) for f in files))
