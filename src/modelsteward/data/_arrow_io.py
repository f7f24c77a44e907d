"""Streaming readers for tables and text, with byte progress and one error shape.

Every reader yields Arrow data a block at a time, so a multi-gigabyte file is never held whole;
every Arrow or OS failure becomes :class:`~modelsteward.errors.InvalidInput` naming the file.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "t.jsonl"
    >>> _ = path.write_text('{"a": 1}\\n{"a": 2, "b": "x"}\\n')
    >>> [t.num_rows for t in jsonl_tables(path)]
    [2]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from queue import Empty, Queue
from threading import Event
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from modelsteward.errors import InvalidInput

__all__ = [
    "MIXED_TYPES",
    "TABLE_FORMATS",
    "ByteCallback",
    "csv_batches",
    "csv_names",
    "jsonl_tables",
    "read_ahead",
    "read_errors",
    "table_format",
    "text_lines",
]

ByteCallback = Callable[[int], None]
MIXED_TYPES = "steward.types"  # field metadata: the JSON types of a column read as text
_T = TypeVar("_T")
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_CSV_BLOCK = 16 * 1024 * 1024
_JSON_CHUNK = 64 * 1024 * 1024
_JSON_BLOCK = 4 * 1024 * 1024
_TEXT_CHUNK = 16 * 1024 * 1024


def table_format(path: Path) -> str | None:
    """``csv``, ``tsv``, ``jsonl`` or ``parquet`` from the suffix (any case), else ``None``."""
    suffix = path.suffix.lower()
    return "parquet" if suffix == ".parquet" else TABLE_FORMATS.get(suffix)


@contextmanager
def read_errors(path: Path, fmt: str) -> Iterator[None]:
    """Turn Arrow and OS errors raised inside the block into ``InvalidInput`` naming ``path``."""
    try:
        yield
    except pa.ArrowException as exc:
        raise InvalidInput(
            f"{path}: not a readable {fmt} file: {exc}",
            hint=f"check that the file is well-formed {fmt} (UTF-8 text for csv/jsonl)",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read it: {exc}") from exc


def csv_batches(
    path: Path,
    *,
    delimiter: str = ",",
    column_types: dict[str, pa.DataType] | None = None,
    all_text: bool = False,
    on_bytes: ByteCallback | None = None,
) -> Iterator[pa.RecordBatch]:
    """Record batches of a CSV/TSV file, parsed on Arrow's threads.

    Args:
        path: The file.
        delimiter: ``","`` or ``"\\t"``.
        column_types: Types to force by column name (others are inferred).
        all_text: Read every column as text (no inference, so no late conversion errors).
        on_bytes: Called with the size of each block read.
    """
    if path.stat().st_size == 0:
        return
    read_options = pa_csv.ReadOptions(block_size=_CSV_BLOCK, use_threads=True)
    parse_options = pa_csv.ParseOptions(delimiter=delimiter)
    types = dict(column_types or {})
    if all_text:
        types = {name: pa.string() for name in csv_names(path, parse_options)}
    convert = pa_csv.ConvertOptions(column_types=types, strings_can_be_null=True)
    # A native file, so Arrow's read-ahead threads never wait for the GIL; progress is where the
    # read-ahead has got to.
    with pa.OSFile(str(path)) as handle:
        reader = pa_csv.open_csv(
            handle, read_options=read_options, parse_options=parse_options, convert_options=convert
        )
        reported = 0
        for batch in reader:
            if on_bytes is not None:
                position = handle.tell()
                on_bytes(position - reported)
                reported = position
            yield batch
        if on_bytes is not None and handle.size() > reported:
            on_bytes(handle.size() - reported)


def csv_names(path: Path, parse_options: pa_csv.ParseOptions | None = None) -> list[str]:
    """The header's column names, from a small first block (a big one if the header is long)."""
    for block in (1024 * 1024, _CSV_BLOCK):
        try:
            options = pa_csv.ReadOptions(block_size=block, use_threads=False)
            reader = pa_csv.open_csv(path, read_options=options, parse_options=parse_options)
            names: list[str] = reader.schema.names
            return names
        except pa.ArrowInvalid:
            if block == _CSV_BLOCK:
                raise
    return []


def jsonl_tables(path: Path, *, on_bytes: ByteCallback | None = None) -> Iterator[pa.Table]:
    """Tables of about 64 MiB of whole lines each; columns may differ between tables."""
    with path.open("rb") as handle:
        carry = b""
        while True:
            data = handle.read(_JSON_CHUNK)
            if data and on_bytes is not None:
                on_bytes(len(data))
            block, carry = (carry + data, b"") if not data else _split_lines(carry + data)
            if block.strip():
                yield _read_json(block)
            if not data:
                return


def read_ahead(items: Iterable[_T], reader: ThreadPoolExecutor, depth: int = 2) -> Iterator[_T]:
    """``items`` in order, produced up to ``depth`` ahead on the ``reader`` thread."""
    handoff: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                handoff.put((True, item))
        except Exception as exc:  # noqa: BLE001 - handed over and re-raised by the consumer
            handoff.put((False, exc))
            return
        handoff.put((False, None))

    producer = reader.submit(produce)
    try:
        while True:
            ok, item = handoff.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while not producer.done():  # unblock a producer waiting on a full queue
            with suppress(Empty):
                handoff.get(timeout=0.05)


def _split_lines(buffer: bytes) -> tuple[bytes, bytes]:
    cut = buffer.rfind(b"\n") + 1
    return buffer[:cut], buffer[cut:]


def _read_json(block: bytes) -> pa.Table:
    """Arrow's JSON reader; a line longer than a parse block gets one block for the chunk, and a
    field whose JSON type changes between lines (which Arrow refuses) gets the Python reader."""
    try:
        return _arrow_json(block, _JSON_BLOCK)
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc) and "changed from" not in str(exc):
            raise
        failure = exc
    if "straddl" in str(failure):
        try:
            return _arrow_json(block, len(block) + 1)
        except pa.ArrowInvalid as exc:
            if "changed from" not in str(exc):
                raise
    return _python_json(block)


def _arrow_json(block: bytes, block_size: int) -> pa.Table:
    options = pa_json.ReadOptions(block_size=block_size, use_threads=block_size < len(block))
    return pa_json.read_json(pa.BufferReader(block), read_options=options)


_PY_TYPES = {bool: "bool", int: "int64", float: "double", str: "string", dict: "struct"}


def _python_json(block: bytes) -> pa.Table:
    """Lines parsed by ``json``; a column of mixed JSON types becomes text (non-strings as JSON)
    whose field metadata ``steward.types`` lists the types seen, e.g. ``int64 | string``."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(block.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise pa.ArrowInvalid(f"JSON parse error in line {number} of a block: {exc}") from exc
        if not isinstance(record, dict):
            raise pa.ArrowInvalid(f"JSON line {number} of a block is not an object")
        records.append(record)
    names = list(dict.fromkeys(key for record in records for key in record))
    fields, arrays = [], []
    for name in names:
        values = [record.get(name) for record in records]
        try:
            array = pa.array(values)
            fields.append(pa.field(name, array.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            seen = {_PY_TYPES.get(type(v), "list") for v in values if v is not None}
            array = pa.array(
                [v if isinstance(v, str) or v is None else json.dumps(v) for v in values],
                pa.string(),
            )
            fields.append(
                pa.field(name, pa.string(), metadata={MIXED_TYPES: " | ".join(sorted(seen))})
            )
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def text_lines(path: Path, *, on_bytes: ByteCallback | None = None) -> Iterator[pa.Array]:
    """Lines of a text file, about 16 MiB at a time (undecodable bytes become U+FFFD)."""
    with path.open("rb") as handle:
        carry = b""
        while True:
            data = handle.read(_TEXT_CHUNK)
            if data and on_bytes is not None:
                on_bytes(len(data))
            buffer = carry + data
            cut = len(buffer) if not data else _text_cut(buffer)
            block, carry = buffer[:cut], buffer[cut:]
            if block:
                text = block.decode("utf-8", errors="replace")
                lines = pc.split_pattern(pa.array([text], pa.large_string()), pattern="\n")
                flat = lines.flatten()
                yield flat if not text.endswith("\n") else flat[:-1]
            if not data:
                return


def _text_cut(buffer: bytes) -> int:
    """After the last newline, else the last space, else before a split UTF-8 sequence."""
    for sep in (b"\n", b" "):
        cut = buffer.rfind(sep) + 1
        if cut:
            return cut
    cut = len(buffer)
    while cut > 0 and 0x80 <= buffer[cut - 1] <= 0xBF:
        cut -= 1
    if cut > 0 and buffer[cut - 1] >= 0xC0:
        cut -= 1
    return cut if cut > 0 else len(buffer)
