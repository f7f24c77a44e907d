"""Tabular profiles: rows, column types and records per source of Parquet, CSV and JSONL files.

Files are streamed a block at a time (Parquet row counts and types come from its footer), so a
multi-gigabyte table is profiled without being loaded whole. A *source column* (for example the
fleet or vendor each record came from) is counted per distinct value.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "drives.csv"
    >>> _ = path.write_text("fleet,speed\\nmunich,12.5\\nberlin,3.0\\nmunich,\\n")
    >>> p = profile_table(path, source_column="fleet")
    >>> p.format, p.rows, [(c.name, c.type, c.null_count) for c in p.columns]
    ('csv', 3, [('fleet', 'string', 0), ('speed', 'double', 1)])
    >>> p.source_counts
    {'munich': 2, 'berlin': 1}
    >>> TableProfile.from_dict(p.to_dict()) == p
    True
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelsteward.data._arrow_io import (
    MIXED_TYPES,
    csv_batches,
    csv_names,
    jsonl_tables,
    read_errors,
    table_format,
)
from modelsteward.errors import InvalidInput

__all__ = ["TABULAR_SUFFIXES", "ColumnInfo", "TableFormat", "TableProfile", "profile_table"]

TableFormat = Literal["parquet", "csv", "jsonl"]
TABULAR_SUFFIXES = frozenset({".parquet", ".csv", ".jsonl", ".ndjson"})  # lower case
_FORMATS: tuple[TableFormat, ...] = ("parquet", "csv", "jsonl")
_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error")


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a table.

    Attributes:
        name: Column name.
        type: Arrow type as text (``int64``, ``string``, ``struct<lat: double, …>``); columns
            whose JSONL type changes between lines read ``int64 | string``.
        nullable: Whether the schema allows nulls.
        null_count: Nulls counted (Parquet: from statistics; ``None`` when unknown).
    """

    name: str
    type: str
    nullable: bool = True
    null_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "null_count": self.null_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnInfo:
        """Inverse of :meth:`to_dict`."""
        nulls = data.get("null_count")
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            nullable=bool(data.get("nullable", True)),
            null_count=None if nulls is None else int(nulls),
        )


@dataclass(frozen=True)
class TableProfile:
    """What a table file holds.

    Attributes:
        format: ``parquet``, ``csv`` or ``jsonl``.
        rows: Records in the file.
        columns: Column names, types and null counts, in file order.
        source_column: The column counted per value, if one was asked for.
        source_counts: Records per distinct source value (nulls not counted), most first.
    """

    format: TableFormat
    rows: int
    columns: tuple[ColumnInfo, ...]
    source_column: str | None = None
    source_counts: dict[str, int] = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' names, in file order."""
        return tuple(c.name for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "format": self.format,
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns],
            "source_column": self.source_column,
            "source_counts": dict(self.source_counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableProfile:
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidInput: The mapping is not a table profile.
        """
        try:
            fmt = data["format"]
            if fmt not in _FORMATS:
                raise ValueError(f"unknown format {fmt!r}")
            return cls(
                format=cast(TableFormat, fmt),
                rows=int(data["rows"]),
                columns=tuple(ColumnInfo.from_dict(c) for c in data["columns"]),
                source_column=data.get("source_column"),
                source_counts={str(k): int(v) for k, v in data.get("source_counts", {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"not a table profile: {exc!r}", hint="pass the output of TableProfile.to_dict()"
            ) from exc


def profile_table(path: Path, *, source_column: str | None = None) -> TableProfile | None:
    """Profile a ``.parquet``, ``.csv`` or ``.jsonl``/``.ndjson`` file (suffix in any case).

    Args:
        path: The file.
        source_column: A column to count records by (e.g. ``fleet``), or ``None``.

    Returns:
        The profile, or ``None`` for any other suffix.

    Raises:
        InvalidInput: The file is malformed or unreadable, or it has no ``source_column``
            (the message names the file and lists the columns it has).
    """
    fmt = table_format(path)
    if fmt not in _FORMATS:
        return None
    with read_errors(path, fmt):
        if fmt == "parquet":
            return _profile_parquet(path, source_column)
        if fmt == "csv":
            return _profile_csv(path, source_column)
        return _profile_jsonl(path, source_column)


def _missing_source(path: Path, source: str, names: Iterable[str]) -> InvalidInput:
    listed = ", ".join(names) or "(none)"
    return InvalidInput(
        f"{path}: no column {source!r} to count sources by; available columns: {listed}",
        hint="pass one of the available columns as the source column",
    )


def _count_values(counts: Counter[str], column: pa.Array | pa.ChunkedArray) -> None:
    for entry in pc.value_counts(pc.drop_null(column)).to_pylist():
        counts[str(entry["values"])] += int(entry["counts"])


def _ranked(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _profile_parquet(path: Path, source: str | None) -> TableProfile:
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    meta = parquet.metadata
    nulls: dict[str, int | None] = {}
    for i in range(meta.num_columns):
        name = meta.schema.column(i).path
        total: int | None = 0
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if total is None or stats is None or not stats.has_null_count:
                total = None
            else:
                total += stats.null_count
        nulls[name] = total
    columns = tuple(ColumnInfo(f.name, str(f.type), f.nullable, nulls.get(f.name)) for f in schema)
    counts: Counter[str] = Counter()
    if source is not None:
        if source not in schema.names:
            raise _missing_source(path, source, schema.names)
        for batch in parquet.iter_batches(columns=[source], batch_size=1 << 20):
            _count_values(counts, batch.column(0))
    return TableProfile("parquet", meta.num_rows, columns, source, _ranked(counts))


def _profile_csv(path: Path, source: str | None) -> TableProfile:
    """Types are inferred from the first block; a column that later fails its inferred type
    (a number column that turns out to hold text) is re-read as text."""
    names = csv_names(path) if path.stat().st_size else []
    if source is not None and source not in names:
        raise _missing_source(path, source, names)
    forced: dict[str, pa.DataType] = {}
    while True:
        try:
            return _csv_pass(path, forced, source)
        except pa.ArrowInvalid as exc:
            match = _CONVERSION.search(str(exc))
            if match is None or int(match.group(1)) >= len(names):
                raise
            name = names[int(match.group(1))]
            if name in forced:
                raise
            forced[name] = pa.string()


def _csv_pass(path: Path, forced: dict[str, pa.DataType], source: str | None) -> TableProfile:
    schema: pa.Schema | None = None
    rows = 0
    nulls: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for batch in csv_batches(path, column_types=forced):
        schema = schema or batch.schema
        rows += batch.num_rows
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            nulls[name] += column.null_count
        if source is not None:
            _count_values(counts, batch.column(source))
    fields = list(schema) if schema is not None else []
    columns = tuple(ColumnInfo(f.name, str(f.type), f.nullable, nulls[f.name]) for f in fields)
    return TableProfile("csv", rows, columns, source, _ranked(counts))


def _profile_jsonl(path: Path, source: str | None) -> TableProfile:
    types: dict[str, list[pa.DataType | str]] = {}
    nulls: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    rows = 0
    for table in jsonl_tables(path):
        present = set(table.schema.names)
        for f in table.schema:
            if f.name not in types:
                types[f.name] = []
                nulls[f.name] += rows  # absent from every earlier line
            mixed = (f.metadata or {}).get(MIXED_TYPES.encode())
            kind = mixed.decode() if mixed else f.type
            if kind not in types[f.name]:
                types[f.name].append(kind)
            nulls[f.name] += table.column(f.name).null_count
        for name in types.keys() - present:
            nulls[name] += table.num_rows  # absent from every line of this block
        if source is not None and source in present:
            _count_values(counts, table.column(source))
        rows += table.num_rows
    if source is not None and source not in types:
        raise _missing_source(path, source, types)
    columns = tuple(
        ColumnInfo(name, _merged_type(seen), True, nulls[name]) for name, seen in types.items()
    )
    return TableProfile("jsonl", rows, columns, source, _ranked(counts))


def _merged_type(seen: list[pa.DataType | str]) -> str:
    """One type for a JSONL column: the widest when blocks disagree compatibly (``null`` then
    ``int64``; ``int64`` then ``double``), else every type seen (``int64 | string``)."""
    known = [t for t in seen if isinstance(t, str) or not pa.types.is_null(t)] or seen
    if not any(isinstance(t, str) for t in known):
        try:
            schemas = [pa.schema([("c", t)]) for t in known]
            return str(pa.unify_schemas(schemas, promote_options="permissive").field("c").type)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    parts = {part for t in known for part in str(t).split(" | ")}
    return " | ".join(sorted(parts))
