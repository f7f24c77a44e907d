"""Which scanner reads a file: magic bytes first, then the file name.

A name can lie (``weights.bin`` may be a PyTorch zip, a raw pickle or plain bytes), so the
first bytes decide whenever they identify a format; the name only decides among the rest.

    >>> from pathlib import Path
    >>> from modelsteward.artifacts.scanning._detect import route
    >>> from modelsteward.artifacts.scanning._target import ScanTarget
    >>> route(ScanTarget("weights.bin", Path("weights.bin"), Path("."), 9, b"PK\\x03\\x04")).fmt
    'zip'
    >>> route(ScanTarget("README.md", Path("README.md"), Path("."), 5, b"# Hi\\n")).scanner
    'steward-text'
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass

import onnx

from modelsteward.artifacts.scanning import _archives, _inert
from modelsteward.artifacts.scanning._gguf import GGUF_VERSION, scan_gguf
from modelsteward.artifacts.scanning._onnx import scan_onnx
from modelsteward.artifacts.scanning._pickle import FICKLING_VERSION
from modelsteward.artifacts.scanning._safetensors import SCANNER as SAFETENSORS
from modelsteward.artifacts.scanning._safetensors import scan_safetensors
from modelsteward.artifacts.scanning._target import STEWARD_VERSION, ScanTarget
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = ["HEAD_BYTES", "Route", "route"]

HEAD_BYTES = 64
"""How many leading bytes detection looks at."""

_PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".joblib"})
_TORCH_SUFFIXES = frozenset({".bin", ".pt", ".pth", ".ckpt"})
_COMPRESSED_SUFFIXES = frozenset({".z", ".gz", ".bz2", ".xz", ".lzma"})
_TEXT_SUFFIXES = frozenset(
    {".md", ".txt", ".rst", ".csv", ".tsv", ".cfg", ".ini", ".toml", ".jsonl", ".gitattributes"}
)
_TEXT_STEMS = ("license", "licence", "notice", "readme", "copying", "authors", "citation")
_KNOWN_UNSCANNED = {
    ".h5": "hdf5", ".hdf5": "hdf5", ".keras": "keras", ".pb": "tensorflow",
    ".tflite": "tflite", ".msgpack": "flax-msgpack", ".npy": "numpy", ".npz": "numpy",
    ".so": "native-library", ".dll": "native-library", ".dylib": "native-library",
    ".sh": "shell", ".engine": "tensorrt", ".plan": "tensorrt", ".mlmodel": "coreml",
}  # fmt: skip


@dataclass(frozen=True)
class Route:
    """The scanner chosen for a file, named so a crash can still be blamed on it.

    Attributes:
        fmt: The format detection settled on.
        scanner: The scanner's name.
        version: The scanner's version.
        run: Scans the file.
    """

    fmt: str
    scanner: str
    version: str
    run: Callable[[ScanTarget], FileVerdict]


def _steward(fmt: str, run: Callable[[ScanTarget], FileVerdict], scanner: str) -> Route:
    return Route(fmt, scanner, STEWARD_VERSION, run)


def _pickles(fmt: str, run: Callable[[ScanTarget], FileVerdict]) -> Route:
    return Route(fmt, "fickling", FICKLING_VERSION, run)


def route(target: ScanTarget) -> Route:
    """Pick the scanner for ``target`` from its first bytes, then its name."""
    head, suffix, name = target.head, target.suffix, target.name.lower()
    # safetensors has no magic number and its first byte is a length: a 640-byte header starts
    # b"\x80\x02", like a pickle. Its structure ('{' right after a length that fits) decides.
    if _looks_like_safetensors(head, target.size):
        return _steward("safetensors", scan_safetensors, SAFETENSORS)
    by_magic = _by_magic(head, suffix)
    if by_magic is not None:
        return by_magic
    if suffix == ".safetensors":
        return _steward("safetensors", scan_safetensors, SAFETENSORS)
    if suffix == ".onnx":
        return Route("onnx", "onnx", onnx.__version__, scan_onnx)
    if suffix == ".gguf":
        return Route("gguf", "gguf", GGUF_VERSION, scan_gguf)
    if suffix in _PICKLE_SUFFIXES:
        fmt = "joblib" if suffix == ".joblib" else "pickle"
        return _pickles(fmt, functools.partial(_archives.scan_pickle, fmt=fmt))
    if suffix in _TORCH_SUFFIXES:
        return _pickles("pickle", _archives.scan_maybe_pickle)
    return _by_name(name, suffix)


def _by_magic(head: bytes, suffix: str) -> Route | None:
    if head.startswith(b"GGUF"):
        return Route("gguf", "gguf", GGUF_VERSION, scan_gguf)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _pickles("zip", _archives.scan_zip)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO 2-5
        fmt = "joblib" if suffix == ".joblib" else "pickle"
        return _pickles(fmt, functools.partial(_archives.scan_pickle, fmt=fmt))
    compression = _archives.compression_of(head)
    pickle_named = suffix in _PICKLE_SUFFIXES or suffix in _COMPRESSED_SUFFIXES
    # zlib's two-byte header ('x^', 'x\x9c', ...) also starts ordinary text: trust it only
    # when the name says pickle or compressed
    if compression and (compression in ("gzip", "bz2", "xz") or pickle_named):
        fmt = "compressed"
        if suffix in _PICKLE_SUFFIXES:
            fmt = "joblib" if suffix == ".joblib" else "pickle"
        scan = functools.partial(_archives.scan_compressed, fmt=fmt, compression=compression)
        return _pickles("joblib" if fmt == "joblib" else "compressed-pickle", scan)
    return None


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 0 < length <= size - 8


def _by_name(name: str, suffix: str) -> Route:
    if suffix == ".json":
        return _steward("json", _inert.scan_json, "steward-json")
    if suffix in (".yaml", ".yml"):
        return _steward("yaml", functools.partial(_inert.scan_text, fmt="yaml"), "steward-text")
    if suffix in (".jinja", ".j2"):
        return _steward("jinja", functools.partial(_inert.scan_text, fmt="jinja"), "steward-text")
    if suffix == ".py":
        return _steward("python", _inert.scan_python, "steward-detect")
    if suffix == ".model":
        return _steward("sentencepiece", _inert.scan_sentencepiece, "steward-sentencepiece")
    if suffix in _TEXT_SUFFIXES or name.startswith(_TEXT_STEMS) or name == ".gitattributes":
        return _steward("text", _inert.scan_text, "steward-text")
    fmt = _KNOWN_UNSCANNED.get(suffix, "unknown")
    return _steward(fmt, functools.partial(_inert.scan_unknown, fmt=fmt), "steward-detect")
