"""GGUF (llama.cpp) files: a bounds pre-check, then gguf.GGUFReader for metadata and templates.

GGUF weights are plain data, but the file carries a Jinja chat template that runtimes render, and
a hostile header can make a naive reader loop for ever (an array claiming 2**63 elements reads as
empty past the end of the file). So the layout is walked first with every count checked against
the bytes left; only then does ``GGUFReader`` (memory-mapped, no tensor math) read it.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import gguf, numpy as np
    >>> from modelsteward.artifacts.scanning import scan_file
    >>> path = Path(tempfile.mkdtemp()) / "tiny.gguf"
    >>> writer = gguf.GGUFWriter(path, arch="llama")
    >>> writer.add_tensor("w", np.ones((2, 2), dtype=np.float32))
    >>> writer.write_header_to_file(); writer.write_kv_data_to_file()
    >>> writer.write_tensors_to_file(); writer.close()
    >>> scan_file("tiny.gguf", path, path.parent).details["architecture"]
    'llama'
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from importlib.metadata import version
from typing import Any

import gguf

from modelsteward.artifacts.scanning._target import Findings, ScanTarget
from modelsteward.artifacts.scanning._templates import suspicious_jinja
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = ["GGUF_VERSION", "scan_gguf"]

GGUF_VERSION = version("gguf")

_SCALAR_BYTES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
_MAX_DIMS = 8
_MAX_NESTING = 4
_TEMPLATE_KEY = "tokenizer.chat_template"
_SUMMARY_KEYS = {
    "general.architecture": "architecture",
    "general.name": "name",
    "general.file_type": "file_type",
    "general.quantization_version": "quantization_version",
}
# gguf readers raise these on malformed files (numpy views of the wrong size, bad enums, ...)
_READER_ERRORS = (ValueError, KeyError, IndexError, TypeError, OverflowError, struct.error)


class _Malformed(Exception):
    """The layout is broken; the message is the finding."""


def scan_gguf(target: ScanTarget) -> FileVerdict:
    """Check a GGUF file's layout, surface its metadata and judge its chat templates."""
    found = Findings()
    try:
        _check_layout(target)
        reader = gguf.GGUFReader(target.real, "r")
        _summarise(reader, found)
    except _Malformed as exc:
        found.unsafe(f"malformed GGUF: {exc}")
    except _READER_ERRORS as exc:
        found.unsafe(f"malformed GGUF: {type(exc).__name__}: {str(exc)[:200]}")
    return found.build(target, "gguf", "gguf", GGUF_VERSION)


def _summarise(reader: gguf.GGUFReader, found: Findings) -> None:
    details: dict[str, Any] = {"tensors": len(reader.tensors)}
    for key, label in _SUMMARY_KEYS.items():
        field = reader.get_field(key)
        if field is not None:
            details[label] = _plain(field.contents())
    details["tensor_types"] = dict(Counter(t.tensor_type.name for t in reader.tensors))
    templates: dict[str, str] = {}
    for key, field in reader.fields.items():
        if key == _TEMPLATE_KEY or key.startswith(_TEMPLATE_KEY + "."):
            value = field.contents()
            if not isinstance(value, str):
                found.unsafe(f"{key} is not a string")
                continue
            templates[key] = value
            for reason in suspicious_jinja(value):
                found.unsafe(f"{key} contains {reason}")
    if _TEMPLATE_KEY in templates:
        details["chat_template"] = templates[_TEMPLATE_KEY]
    if len(templates) > 1 or (templates and _TEMPLATE_KEY not in templates):
        details["chat_templates"] = templates
    found.details.update(details)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _check_layout(target: ScanTarget) -> None:
    if target.size < 24:
        raise _Malformed(f"file is {target.size} bytes, too short for a GGUF header")
    with (
        target.real.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf,
    ):
        _Walker(buf).walk()


class _Walker:
    """Follows the header exactly as the reader will, refusing any count the file cannot hold."""

    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.offset = 0
        self.order = "<"

    def walk(self) -> None:
        if self.buf[:4] != b"GGUF":
            raise _Malformed("missing the GGUF magic number")
        self.offset = 4
        if self._u32() & 0xFFFF == 0:
            self.order = ">"  # written for the other byte order, as the reader detects it
        tensor_count, kv_count = self._u64(), self._u64()
        self._bounded(kv_count, 13, "metadata entries")
        for _ in range(kv_count):
            self._string()
            self._value(self._u32(), 0)
        self._bounded(tensor_count, 24, "tensors")
        for _ in range(tensor_count):
            self._string()
            dims = self._u32()
            if dims > _MAX_DIMS:
                raise _Malformed(f"a tensor claims {dims} dimensions")
            self._skip(8 * dims)
            self._skip(4 + 8)

    def _value(self, kind: int, depth: int) -> None:
        if kind in _SCALAR_BYTES:
            self._skip(_SCALAR_BYTES[kind])
        elif kind == _STRING:
            self._string()
        elif kind == _ARRAY:
            if depth >= _MAX_NESTING:
                raise _Malformed("arrays nested too deeply")
            item, count = self._u32(), self._u64()
            if item in _SCALAR_BYTES:
                self._skip(count * _SCALAR_BYTES[item])
                return
            self._bounded(count, 8 if item == _STRING else 12, "array elements")
            for _ in range(count):
                self._value(item, depth + 1)
        else:
            raise _Malformed(f"unknown metadata value type {kind}")

    def _bounded(self, count: int, least: int, what: str) -> None:
        left = len(self.buf) - self.offset
        if count * least > left:
            raise _Malformed(f"claims {count} {what} but only {left} bytes remain")

    def _skip(self, size: int) -> None:
        if self.offset + size > len(self.buf):
            raise _Malformed(
                f"needs {size} bytes at offset {self.offset}, past the end of the file"
            )
        self.offset += size

    def _string(self) -> None:
        self._skip(self._u64())

    def _u32(self) -> int:
        start = self.offset
        self._skip(4)
        return int(struct.unpack_from(self.order + "I", self.buf, start)[0])

    def _u64(self) -> int:
        start = self.offset
        self._skip(8)
        return int(struct.unpack_from(self.order + "Q", self.buf, start)[0])
