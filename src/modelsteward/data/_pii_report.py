"""What a PII scan found: per column, per file, and for a whole dataset (JSON-safe).

>>> f = PiiFinding(column="notes", type=PiiType.EMAIL, count=2, samples=("j***@e***.com",))
>>> r = PiiReport(files=(FilePiiFindings("a.csv", "csv", 10, 1, (f,)),), scanner="s")
>>> r.counts, r.by_column
({'email': 2}, {('a.csv', 'notes'): {'email': 2}})
>>> PiiReport.from_dict(r.to_dict()) == r
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.data._pii_detect import PiiType
from modelsteward.errors import InvalidInput

__all__ = ["FilePiiFindings", "PiiFinding", "PiiReport", "UnconfirmedFinding"]

_ORDER = {t: i for i, t in enumerate(PiiType)}


@dataclass(frozen=True)
class PiiFinding:
    """One PII type in one column (``None`` for plain text) of one file.

    Attributes:
        column: Column name; nested fields read ``parent.child``, list items ``name[]``.
        type: The category.
        count: Values found (for a coordinate column: rows holding a position).
        kinds: Finer counts, e.g. ``(("us_ssn", 3), ("de_idnr", 1))``.
        samples: Up to three redacted examples; never a raw value.
    """

    column: str | None
    type: PiiType
    count: int
    kinds: tuple[tuple[str, int], ...] = ()
    samples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "column": self.column,
            "type": self.type.value,
            "count": self.count,
            "kinds": dict(self.kinds),
            "samples": list(self.samples),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PiiFinding:
        """Inverse of :meth:`to_dict`."""
        return cls(
            column=data["column"],
            type=PiiType(data["type"]),
            count=int(data["count"]),
            kinds=tuple((str(k), int(v)) for k, v in data.get("kinds", {}).items()),
            samples=tuple(str(s) for s in data.get("samples", ())),
        )


@dataclass(frozen=True)
class UnconfirmedFinding:
    """Valid values not counted because the context their kind requires was missing.

    A random 16-digit ID passes Luhn and an issuer range about one time in fifty, so a card
    number written without separators counts only next to a word such as ``card`` or ``visa``
    (or in a column named so); likewise bare national-ID digit runs. Those without context are
    tallied here, so a reviewer can still look.
    """

    column: str | None
    type: PiiType
    kind: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"column": self.column, "type": self.type.value, "kind": self.kind,
                "count": self.count}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnconfirmedFinding:
        """Inverse of :meth:`to_dict`."""
        return cls(
            column=data["column"],
            type=PiiType(data["type"]),
            kind=str(data["kind"]),
            count=int(data["count"]),
        )


@dataclass(frozen=True)
class FilePiiFindings:
    """The scan of one file.

    Attributes:
        rel: The file's path as the caller named it (relative to the dataset root).
        format: ``csv``, ``tsv``, ``jsonl``, ``parquet``, ``text`` or ``skipped``.
        bytes_scanned: Bytes of the file read (0 when skipped).
        rows_scanned: Table rows, or text lines.
        findings: One entry per (column, type) with a non-zero count.
        unconfirmed: Valid values lacking their required context (see
            :class:`UnconfirmedFinding`).
        skipped: Why the file was not scanned (binary content), else ``None``.
    """

    rel: str
    format: str
    bytes_scanned: int
    rows_scanned: int
    findings: tuple[PiiFinding, ...] = ()
    unconfirmed: tuple[UnconfirmedFinding, ...] = ()
    skipped: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Values found per type."""
        return _sum_counts(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "rel": self.rel,
            "format": self.format,
            "bytes_scanned": self.bytes_scanned,
            "rows_scanned": self.rows_scanned,
            "findings": [f.to_dict() for f in self.findings],
            "unconfirmed": [s.to_dict() for s in self.unconfirmed],
            "skipped": self.skipped,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FilePiiFindings:
        """Inverse of :meth:`to_dict`."""
        return cls(
            rel=str(data["rel"]),
            format=str(data["format"]),
            bytes_scanned=int(data["bytes_scanned"]),
            rows_scanned=int(data["rows_scanned"]),
            findings=tuple(PiiFinding.from_dict(f) for f in data.get("findings", ())),
            unconfirmed=tuple(UnconfirmedFinding.from_dict(s) for s in data.get("unconfirmed", ())),
            skipped=data.get("skipped"),
        )


def _sum_counts(findings: tuple[PiiFinding, ...]) -> dict[str, int]:
    totals: dict[PiiType, int] = {}
    for f in findings:
        totals[f.type] = totals.get(f.type, 0) + f.count
    return {t.value: n for t, n in sorted(totals.items(), key=lambda kv: _ORDER[kv[0]]) if n}


@dataclass(frozen=True)
class PiiReport:
    """The scan of a set of files.

    Attributes:
        files: Per-file findings, in the order scanned.
        scanner: Scanner name and version with its validators' versions.
    """

    files: tuple[FilePiiFindings, ...]
    scanner: str

    @property
    def counts(self) -> dict[str, int]:
        """Values found per type, over every file."""
        return _sum_counts(tuple(f for file in self.files for f in file.findings))

    @property
    def by_column(self) -> dict[tuple[str, str | None], dict[str, int]]:
        """Values found per type, keyed by ``(file, column)``."""
        out: dict[tuple[str, str | None], dict[str, int]] = {}
        for file in self.files:
            for f in file.findings:
                cell = out.setdefault((file.rel, f.column), {})
                cell[f.type.value] = cell.get(f.type.value, 0) + f.count
        return out

    @property
    def bytes_scanned(self) -> int:
        """Bytes read over every scanned file."""
        return sum(f.bytes_scanned for f in self.files)

    @property
    def rows_scanned(self) -> int:
        """Rows (tables) and lines (text) over every scanned file."""
        return sum(f.rows_scanned for f in self.files)

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """``(file, reason)`` for every file not scanned."""
        return tuple((f.rel, f.skipped) for f in self.files if f.skipped is not None)

    def samples(self, pii_type: PiiType | str) -> tuple[str, ...]:
        """Every redacted sample of one type, over every file and column."""
        wanted = PiiType(pii_type)
        return tuple(
            s for file in self.files for f in file.findings if f.type is wanted for s in f.samples
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; the totals are included for readers and ignored by :meth:`from_dict`."""
        return {
            "scanner": self.scanner,
            "bytes_scanned": self.bytes_scanned,
            "rows_scanned": self.rows_scanned,
            "counts": self.counts,
            "by_column": [
                {"file": rel, "column": column, "counts": counts}
                for (rel, column), counts in self.by_column.items()
            ],
            "skipped": [{"file": rel, "reason": why} for rel, why in self.skipped],
            "files": [f.to_dict() for f in self.files],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PiiReport:
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidInput: The mapping is not a PII report.
        """
        try:
            return cls(
                files=tuple(FilePiiFindings.from_dict(f) for f in data["files"]),
                scanner=str(data["scanner"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"not a PII report: {exc!r}", hint="pass the output of PiiReport.to_dict()"
            ) from exc
