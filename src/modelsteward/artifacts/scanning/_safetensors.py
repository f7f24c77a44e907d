"""A strict safetensors header check (no tensor is loaded) and the shard-index sanity check.

Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section.
Every tensor must say exactly where its bytes are, and the tensors must tile the data section:
no overlaps, no gaps, no trailing bytes, so nothing hides in a file that looks like weights.

    >>> import json, struct, tempfile
    >>> from pathlib import Path
    >>> from modelsteward.artifacts.scanning import scan_file
    >>> header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    >>> path = Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> _ = path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    >>> scan_file("model.safetensors", path, path.parent).verdict
    <Verdict.SAFE: 'safe'>
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter
from typing import Any

from modelsteward.artifacts.scanning._target import (
    STEWARD_VERSION,
    Findings,
    ScanTarget,
    sibling_file,
)
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = ["DTYPE_BITS", "MAX_HEADER_BYTES", "check_weight_index", "scan_safetensors"]

MAX_HEADER_BYTES = 100_000_000
"""The reference implementation's limit on the JSON header (100 MB)."""

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32,
    "F64": 64, "I64": 64, "U64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip
"""Bits per element of every safetensors dtype, including the sub-byte ones."""

_TENSOR_KEYS = frozenset({"dtype", "shape", "data_offsets"})
SCANNER = "steward-safetensors"


class _Malformed(Exception):
    """The file breaks the format; the message is the finding."""


def scan_safetensors(target: ScanTarget) -> FileVerdict:
    """Check a safetensors file's header and offsets; unsafe on any violation."""
    found = Findings()
    try:
        header, data_size = _read_header(target)
        _check_tensors(header, data_size, found)
    except _Malformed as exc:
        found.unsafe(str(exc))
    return found.build(target, "safetensors", SCANNER, STEWARD_VERSION)


def _read_header(target: ScanTarget) -> tuple[dict[str, Any], int]:
    if target.size < 8:
        raise _Malformed(f"file is {target.size} bytes, shorter than the 8-byte header length")
    with target.real.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > MAX_HEADER_BYTES:
            raise _Malformed(f"header length {length} exceeds the {MAX_HEADER_BYTES}-byte limit")
        if length > target.size - 8:
            raise _Malformed(f"header length {length} exceeds the file size ({target.size} bytes)")
        raw = handle.read(length)
    if not raw.startswith(b"{"):
        raise _Malformed("header does not start with '{'")
    try:
        header = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError as exc:
        raise _Malformed(f"header is not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except (ValueError, RecursionError) as exc:
        raise _Malformed(f"header is not valid JSON ({str(exc)[:200]})") from exc
    if not isinstance(header, dict):
        raise _Malformed("header is not a JSON object")
    return header, target.size - 8 - length


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Malformed(f"header names {key!r} twice")
        seen[key] = value
    return seen


def _no_constant(name: str) -> None:
    raise _Malformed(f"header holds the non-JSON constant {name}")


def _check_tensors(header: dict[str, Any], data_size: int, found: Findings) -> None:
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        found.unsafe("__metadata__ must map strings to strings")
    spans: list[tuple[int, int, str]] = []
    for name, info in header.items():
        try:
            spans.append(_tensor_span(name, info, data_size))
        except _Malformed as exc:
            found.unsafe(str(exc))
    if not found.unsafe_reasons:
        _check_tiling(spans, data_size, found)
    found.details.update(
        {
            "tensors": len(header),
            "dtypes": dict(
                Counter(str(i.get("dtype")) for i in header.values() if isinstance(i, dict))
            ),
            "data_bytes": data_size,
        }
    )
    if isinstance(metadata, dict) and len(json.dumps(metadata)) <= 4096:
        found.details["metadata"] = metadata


def _tensor_span(name: str, info: Any, data_size: int) -> tuple[int, int, str]:
    if not isinstance(info, dict):
        raise _Malformed(f"tensor {name!r}: entry is not an object")
    if set(info) != _TENSOR_KEYS:
        odd = sorted(set(info) ^ _TENSOR_KEYS)
        raise _Malformed(f"tensor {name!r}: missing or unexpected keys {odd}")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise _Malformed(f"tensor {name!r}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_natural(d) for d in shape):
        raise _Malformed(f"tensor {name!r}: shape {shape!r} is not a list of non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_natural, offsets))):
        raise _Malformed(f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end]")
    begin, end = offsets
    if end < begin:
        raise _Malformed(f"tensor {name!r}: data_offsets end {end} is before begin {begin}")
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if bits % 8:
        raise _Malformed(
            f"tensor {name!r}: shape {shape} of {dtype} is not a whole number of bytes"
        )
    if end - begin != bits // 8:
        raise _Malformed(
            f"tensor {name!r}: data_offsets span {end - begin} bytes but shape {shape} of "
            f"{dtype} needs {bits // 8}"
        )
    if end > data_size:
        raise _Malformed(
            f"tensor {name!r}: data_offsets end {end} is beyond the data section "
            f"({data_size} bytes)"
        )
    return begin, end, name


def _natural(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tiling(spans: list[tuple[int, int, str]], data_size: int, found: Findings) -> None:
    cursor, previous = 0, ""
    for begin, end, name in sorted(spans):
        if begin < cursor:
            found.unsafe(f"tensors {previous!r} and {name!r} overlap (bytes {begin}-{cursor})")
        elif begin > cursor:
            found.unsafe(f"{begin - cursor} unclaimed bytes before tensor {name!r}")
        if end >= cursor:
            cursor, previous = end, name
    if cursor < data_size:
        found.unsafe(f"{data_size - cursor} trailing bytes after the last tensor")


def check_weight_index(index: Any, target: ScanTarget, found: Findings) -> None:
    """Every shard a ``*.index.json`` ``weight_map`` names must be a file inside the model.

    Args:
        index: The parsed JSON document.
        target: The index file.
        found: Where findings go.
    """
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if weight_map is None:
        return
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        found.unsafe("weight_map must map tensor names to shard file names")
        return
    shards = sorted(set(weight_map.values()))
    found.details["shards"] = shards[:100]
    for shard in shards:
        _, problem = sibling_file(target, shard)
        if problem:
            found.unsafe(f"weight_map names shard {shard!r}, {problem}")
