"""Offline PII scanning of dataset files: e-mails, phones, cards, IDs, IPs, positions, plates.

Nothing is downloaded and no model runs. Each string column (or text line) is filtered by one
combined candidate regex in Arrow's C++ engine (RE2); only candidate values reach Python, where
exact shapes are matched and *validated* by well-kept libraries — ``phonenumbers`` for numbering
plans, ``python-stdnum`` for Luhn and national-ID checksums, ``ipaddress`` for address ranges.
Tables (CSV, TSV, JSONL, Parquet) are counted per column; other text files per file (column
``None``); binary files are listed as skipped. Reports hold counts and redacted samples only.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "log.csv"
    >>> _ = path.write_text("note,gps_lat\\ncall +1 212-736-5000,48.137\\nok,48.138\\n")
    >>> found = scan_file(path, "log.csv")
    >>> [(f.column, f.type.value, f.count, f.samples) for f in found.findings]
    [('note', 'phone', 1, ('+1 ***-***-5000',)), ('gps_lat', 'gps_coordinates', 2, ('48.****',))]
    >>> [m.redacted for m in find_pii("card 4111 1111 1111 1111, not 4111 1111 1111 1112")]
    ['**** **** **** 1111']

Precision choices: a card number or German tax ID written as a bare digit run (which random IDs
pass by chance about one time in fifty) counts only with a context word in its text or column
name (``card``, ``visa``, ``Steuer-ID``…), else it is listed as *unconfirmed*; national phone
formats are checked against one region (``PiiPatterns.phone_region``; numbers written with ``+``
against all), and a phone must be written with separators or ``+``; loopback, unspecified,
link-local, multicast and reserved IP addresses, and four-part numbers after ``build``/``v``/
``version``, are not addresses; text coordinates need four decimals and are not both below 1°;
numeric columns count as positions by name and range, and are otherwise searched only for the
digit runs their name gives context to. UK plates (2001 format) and German plates (with the
hyphen) ship by default; other formats are added with ``extra_vehicle_plates``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import stdnum

from modelsteward.data._arrow_io import (
    csv_batches,
    jsonl_tables,
    read_errors,
    table_format,
    text_lines,
)
from modelsteward.data._pii_arrow import ColumnScan
from modelsteward.data._pii_detect import DEFAULT_PLATES, PiiType, build_detectors
from modelsteward.data._pii_ids import DEFAULT_NATIONAL_IDS, NATIONAL_ID_KINDS
from modelsteward.data._pii_match import Matcher, PiiMatch
from modelsteward.data._pii_patterns import check_plate_regex, check_region, patterns_from_mapping
from modelsteward.data._pii_report import (
    FilePiiFindings,
    PiiFinding,
    PiiReport,
    UnconfirmedFinding,
)
from modelsteward.errors import InvalidInput

__all__ = [
    "NATIONAL_ID_KINDS",
    "SCANNER",
    "FilePiiFindings",
    "PiiFinding",
    "PiiMatch",
    "PiiPatterns",
    "PiiReport",
    "PiiType",
    "UnconfirmedFinding",
    "find_pii",
    "scan_file",
    "scan_files",
]

SCANNER_VERSION = 1
SCANNER = (
    f"steward-pii {SCANNER_VERSION} (phonenumbers {phonenumbers.__version__}, "
    f"python-stdnum {stdnum.__version__})"
)

_TEXT_SUFFIXES = frozenset((
    ".txt", ".text", ".json", ".md", ".markdown", ".log", ".yaml", ".yml", ".xml", ".html",
    ".htm", ".rst", ".ini", ".cfg", ".toml", ".srt", ".vtt", ".sql", ".jsonc", ".geojson",
))  # fmt: skip
_BUILT_IN_KINDS = frozenset({"email", "card", "card_digits", "ipv4", "ipv6", "phone", "lat_lon"})
_SNIFF = 8192
_BATCH_ROWS = 131_072


@dataclass(frozen=True)
class PiiPatterns:
    """What to look for: enabled types, national-ID kinds, plate shapes, phone region.

    Attributes:
        phone_region: ISO region for numbers written without ``+`` (e.g. ``"US"``, ``"DE"``).
        national_ids: Kinds from :data:`NATIONAL_ID_KINDS`. The default set is ``us_ssn``,
            ``de_idnr``, ``fr_nir``, ``es_dni``, ``es_nie``, ``it_codicefiscale``, ``gb_nino``,
            ``ch_ssn`` and ``fi_hetu``; ``nl_bsn``, ``pl_pesel``, ``se_personnummer`` and
            ``dk_cpr`` are opt-in.
        vehicle_plates: ``(kind, regex)`` shapes; each regex must be valid RE2 and Python.
        types: The categories reported.
    """

    phone_region: str = "US"
    national_ids: tuple[str, ...] = DEFAULT_NATIONAL_IDS
    vehicle_plates: tuple[tuple[str, str], ...] = DEFAULT_PLATES
    types: frozenset[PiiType] = field(default_factory=lambda: frozenset(PiiType))

    def __post_init__(self) -> None:
        check_region(self.phone_region, "phone_region")
        unknown = sorted(set(self.national_ids) - set(NATIONAL_ID_KINDS))
        if unknown:
            raise InvalidInput(
                f"national_ids: unknown kind(s) {', '.join(unknown)}",
                hint=f"known kinds: {', '.join(sorted(NATIONAL_ID_KINDS))}",
            )
        taken = {*NATIONAL_ID_KINDS, *_BUILT_IN_KINDS}
        for kind, regex in self.vehicle_plates:
            if kind in taken:
                raise InvalidInput(
                    f"vehicle_plates.{kind}: the name is already used by another pattern",
                    hint="give each plate pattern its own name",
                )
            taken.add(kind)
            check_plate_regex(f"vehicle_plates.{kind}", regex)

    @classmethod
    def default(cls) -> PiiPatterns:
        """Every type, the default national IDs and plates, US phone numbers."""
        return _DEFAULT

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PiiPatterns:
        """Settings from a YAML/JSON mapping.

        Keys (all optional): ``phone_region``; ``types``; ``national_ids`` (replaces the
        default kinds) or ``extra_national_ids`` (adds to them); ``vehicle_plates`` (replaces)
        or ``extra_vehicle_plates`` (adds), each a mapping of kind name to regex.

        Raises:
            InvalidInput: An unknown key, region, type or kind, or a regex that does not
                compile (the message names the key).
        """
        return patterns_from_mapping(cls, data)

    def with_types(self, *types: PiiType | str) -> PiiPatterns:
        """The same settings reporting only ``types``."""
        return replace(self, types=frozenset(PiiType(t) for t in types))

    def matcher(self) -> Matcher:
        """The compiled detectors (cached per settings)."""
        return _matcher(self)


@functools.lru_cache(maxsize=32)
def _matcher(patterns: PiiPatterns) -> Matcher:
    return Matcher(
        build_detectors(
            patterns.phone_region, patterns.national_ids, patterns.vehicle_plates, patterns.types
        )
    )


_DEFAULT = PiiPatterns()


def find_pii(text: str, patterns: PiiPatterns = _DEFAULT) -> tuple[PiiMatch, ...]:
    """Every validated value in one string, by position, with its redacted form."""
    return tuple(patterns.matcher().find(text))


def scan_file(
    path: Path,
    rel: str,
    patterns: PiiPatterns = _DEFAULT,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> FilePiiFindings:
    """Scan one file.

    Args:
        path: The file on disk.
        rel: Its name in the report (normally relative to the dataset root).
        patterns: What to look for.
        on_bytes: Called with byte counts as the file is read, adding up to its size (a
            skipped file reports its size at once); for progress bars.

    Returns:
        Findings per column and type; a binary file comes back with ``skipped`` set.

    Raises:
        InvalidInput: A table file is malformed or a file is unreadable (the message names
            the file and the problem).
    """
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        return _scan(path, rel, patterns, on_bytes, pool)


def scan_files(
    items: Sequence[tuple[str, Path]],
    patterns: PiiPatterns = _DEFAULT,
    *,
    on_bytes: Callable[[int], None] | None = None,
) -> PiiReport:
    """Scan ``(rel, path)`` pairs in order; one report with per-file findings and totals.

    Args:
        items: ``(name in the report, file on disk)`` pairs.
        patterns: What to look for.
        on_bytes: As for :func:`scan_file`, over every file.

    Raises:
        InvalidInput: As for :func:`scan_file`; nothing is returned for the other files.
    """
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        files = tuple(_scan(path, rel, patterns, on_bytes, pool) for rel, path in items)
    return PiiReport(files=files, scanner=SCANNER)


def _workers() -> int:
    """RE2 filter workers, one per core."""
    return max(2, min(8, os.cpu_count() or 2))


def _scan(
    path: Path,
    rel: str,
    patterns: PiiPatterns,
    on_bytes: Callable[[int], None] | None,
    pool: ThreadPoolExecutor,
) -> FilePiiFindings:
    fmt = table_format(path)
    if fmt is None:
        with read_errors(path, "text"):
            skipped = _binary_reason(path)
        if skipped is not None:
            if on_bytes is not None:
                on_bytes(path.stat().st_size)  # keeps a progress bar over every file whole
            return FilePiiFindings(rel, "skipped", 0, 0, skipped=skipped)
        fmt = "text"
    matcher = Matcher(patterns.matcher().detectors, remember=True)
    state = ColumnScan(matcher, text_cells=fmt in ("csv", "tsv"))
    with read_errors(path, fmt):
        size = path.stat().st_size
        state.scan(_batches(path, fmt, on_bytes), pool)
    findings, unconfirmed = state.results()
    return FilePiiFindings(rel, fmt, size, state.rows, tuple(findings), tuple(unconfirmed))


def _batches(
    path: Path, fmt: str, on_bytes: Callable[[int], None] | None
) -> Iterator[pa.RecordBatch | pa.Array]:
    """Record batches of a table, or arrays of lines of a text file."""
    if fmt in ("csv", "tsv"):
        delimiter = "\t" if fmt == "tsv" else ","
        yield from csv_batches(path, delimiter=delimiter, all_text=True, on_bytes=on_bytes)
    elif fmt == "jsonl":
        for table in jsonl_tables(path, on_bytes=on_bytes):
            yield from table.to_batches(max_chunksize=_BATCH_ROWS)
    elif fmt == "parquet":
        yield from _parquet_batches(path, on_bytes)
    else:
        yield from text_lines(path, on_bytes=on_bytes)


def _parquet_batches(
    path: Path, on_bytes: Callable[[int], None] | None
) -> Iterator[pa.RecordBatch]:
    """Batches of a Parquet file; progress is the share of rows read times the file size."""
    parquet = pq.ParquetFile(path)
    size, total = path.stat().st_size, max(1, parquet.metadata.num_rows)
    rows = reported = 0
    for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, use_threads=True):
        yield batch
        rows += batch.num_rows
        if on_bytes is not None:
            done = size * rows // total
            on_bytes(done - reported)
            reported = done
    if on_bytes is not None and reported < size:
        on_bytes(size - reported)


def _binary_reason(path: Path) -> str | None:
    """Why a non-table file is not scanned as text, or ``None`` when it is text."""
    if path.suffix.lower() in _TEXT_SUFFIXES:
        return None
    with path.open("rb") as handle:
        head = handle.read(_SNIFF)
    if b"\x00" in head:
        return "binary content"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the sniff boundary
            return "binary content (not UTF-8 text)"
    return None
