"""Files that hold pickles: raw pickles, PyTorch zip archives, joblib and other compressed pickles.

Every pickle is read into memory (at most :data:`MAX_PICKLE_BYTES`) and analysed by
:func:`._pickle.analyse_pickle`; nothing is ever unpickled.

    >>> import pickle, tempfile, zlib
    >>> from pathlib import Path
    >>> from modelsteward.artifacts.scanning import scan_file
    >>> path = Path(tempfile.mkdtemp()) / "model.joblib"
    >>> _ = path.write_bytes(zlib.compress(pickle.dumps({"coef": [0.5, 1.5]})))
    >>> scan_file("model.joblib", path, path.parent).verdict
    <Verdict.SAFE: 'safe'>
"""

from __future__ import annotations

import bz2
import io
import lzma
import pickletools
import zipfile
import zlib
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Protocol

from modelsteward.artifacts.scanning._pickle import (
    FICKLING_VERSION,
    IMPORT_OPCODES,
    analyse_pickle,
)
from modelsteward.artifacts.scanning._target import STEWARD_VERSION, Findings, ScanTarget
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = [
    "MAX_PICKLE_BYTES",
    "compression_of",
    "scan_compressed",
    "scan_maybe_pickle",
    "scan_pickle",
    "scan_zip",
]

MAX_PICKLE_BYTES = 2 * 1024**3
"""Largest pickle (or pickle member, or decompressed pickle) Steward reads into memory.

Read at call time, so a test can lower it instead of writing gigabytes."""

_CHUNK = 1024 * 1024
_SNIFF_BYTES = 64 * 1024


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


_DECOMPRESSORS: dict[str, Callable[[], _Decompressor]] = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "zlib": zlib.decompressobj,
    "bz2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
    "lzma": lzma.LZMADecompressor,
}


def compression_of(head: bytes) -> str | None:
    """The compression joblib may have used, from the first bytes; None if not compressed."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x5d\x00\x00"):
        return "lzma"
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0:
        return "zlib"
    return None


def _over_limit(what: str, size: int) -> str:
    return (
        f"{what} is {size} bytes, over the {MAX_PICKLE_BYTES}-byte limit for pickle analysis; "
        "not analysed"
    )


def _judge(data: bytes, found: Findings, label: str = "") -> None:
    analysis = analyse_pickle(data)
    prefix = f"{label} " if label else ""
    for problem in analysis.problems:
        found.unsafe(prefix + problem)
    if label:
        found.details.setdefault("pickles", {})[label] = analysis.details()
    else:
        found.details.update(analysis.details())


def scan_pickle(target: ScanTarget, fmt: str = "pickle") -> FileVerdict:
    """A raw pickle (``.pkl``, protocol-2+ ``.bin``, uncompressed joblib, legacy ``torch.save``)."""
    found = Findings()
    limit = MAX_PICKLE_BYTES
    if target.size > limit:
        found.unscanned(_over_limit("the pickle", target.size))
    else:
        _judge(target.real.read_bytes(), found)
    return found.build(target, fmt, "fickling", FICKLING_VERSION)


def scan_maybe_pickle(target: ScanTarget) -> FileVerdict:
    """A ``.bin``/``.pt``-style file with no magic number: ``torch.load`` would unpickle it.

    It is judged as a pickle if it decodes as one, or if the bytes before it stops decoding
    import anything (``pickle.load`` would run those imports before failing). Otherwise no
    unpickler could run code from it, and it is an unknown binary.
    """
    with target.real.open("rb") as handle:
        prefix = handle.read(_SNIFF_BYTES)
    if not _may_be_pickle(prefix):
        return _unknown_binary(target)
    if target.size > MAX_PICKLE_BYTES:
        found = Findings()
        found.unscanned(_over_limit("the file", target.size))
        return found.build(target, "pickle", "fickling", FICKLING_VERSION)
    data = target.real.read_bytes()
    analysis = analyse_pickle(data)
    if not analysis.parsed and not analysis.imports_before_error:
        return _unknown_binary(target)
    found = Findings()
    for problem in analysis.problems:
        found.unsafe(problem)
    found.details.update(analysis.details())
    return found.build(target, "pickle", "fickling", FICKLING_VERSION)


def _may_be_pickle(prefix: bytes) -> bool:
    """False when the bytes stop being a pickle, before any import, within ``prefix``.

    ``pickletools.genops`` only disassembles. An unpickler fails at the same byte, so if no
    import came before it, no unpickler can run code from this file. Running out of sniffed
    bytes decides nothing: the whole file is analysed then.
    """
    stream = io.BytesIO(prefix)
    try:
        for opcode, _arg, _pos in pickletools.genops(stream):
            if opcode.name in IMPORT_OPCODES:
                return True
    except ValueError:
        return stream.tell() >= len(prefix)
    return True


def _unknown_binary(target: ScanTarget) -> FileVerdict:
    found = Findings()
    found.unscanned("no scanner for this format (not a pickle, zip or any known model format)")
    return found.build(target, "unknown", "steward-detect", STEWARD_VERSION)


def scan_zip(target: ScanTarget) -> FileVerdict:
    """A zip archive: PyTorch's ``torch.save`` format when it holds ``*/data.pkl``.

    Every ``.pkl`` member is analysed; TorchScript code and encrypted members cannot be.
    """
    found = Findings()
    try:
        pickles, is_torch = _scan_members(target, found)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        found.unsafe(f"not a readable zip archive ({type(exc).__name__}: {str(exc)[:200]})")
        return found.build(target, "zip", "fickling", FICKLING_VERSION)
    if not pickles:
        found.unscanned("zip archive without pickle members: no scanner for its contents")
        return found.build(target, "zip", "steward-detect", STEWARD_VERSION)
    return found.build(target, "pytorch-zip" if is_torch else "zip", "fickling", FICKLING_VERSION)


def _scan_members(target: ScanTarget, found: Findings) -> tuple[int, bool]:
    """Analyse every ``.pkl`` member: (pickle members, is a torch.save archive)."""
    limit = MAX_PICKLE_BYTES
    with zipfile.ZipFile(target.real) as archive:
        members = archive.infolist()
        names = [m.filename for m in members]
        is_torch = any(PurePosixPath(n).name == "data.pkl" for n in names)
        pickles = [m for m in members if m.filename.endswith(".pkl")]
        found.details["members"] = len(members)
        if any("/code/" in f"/{n}" for n in names):
            found.unscanned(
                "TorchScript archive: the programs under code/ run when loaded and are not "
                "analysed; review and accept"
            )
        for member in pickles:
            if member.flag_bits & 0x1:
                found.unsafe(f"{member.filename} is encrypted and cannot be analysed")
            elif member.file_size > limit:
                found.unscanned(_over_limit(member.filename, member.file_size))
            else:
                with archive.open(member) as handle:
                    data = handle.read(limit + 1)
                if len(data) > limit:
                    found.unscanned(_over_limit(member.filename, len(data)))
                else:
                    _judge(data, found, member.filename)
    return len(pickles), is_torch


def scan_compressed(target: ScanTarget, fmt: str, compression: str) -> FileVerdict:
    """A compressed pickle (joblib with zlib, gzip, bz2, xz or lzma), decompressed in bounds.

    Args:
        target: The file.
        fmt: ``"joblib"`` or ``"pickle"`` when the name promises a pickle inside, else
            ``"compressed"`` (the contents are sniffed first).
        compression: One of the names :func:`compression_of` returns.
    """
    found = Findings()
    found.details["compression"] = compression
    name = "joblib" if fmt == "joblib" else "compressed-pickle"
    limit = MAX_PICKLE_BYTES
    try:
        data, complete, trailing = _inflate(target, compression, limit)
    except (zlib.error, lzma.LZMAError, OSError, EOFError) as exc:
        # bz2 reports corrupt data as OSError; the file itself was opened before this point
        found.unsafe(f"the {compression} stream is corrupt ({str(exc)[:200]})")
        return found.build(target, name, "fickling", FICKLING_VERSION)
    if len(data) > limit:
        found.unscanned(_over_limit("the decompressed pickle", len(data)))
    elif not complete:
        found.unsafe(f"the {compression} stream is truncated or corrupt")
    elif fmt == "compressed" and not (data and _may_be_pickle(bytes(data[:_SNIFF_BYTES]))):
        found.unscanned(f"{compression}-compressed file: no scanner for its contents")
        return found.build(target, "compressed", "steward-detect", STEWARD_VERSION)
    else:
        _judge(bytes(data), found)
    if trailing:
        found.unsafe(f"{trailing} bytes after the end of the {compression} stream are not analysed")
    return found.build(target, name, "fickling", FICKLING_VERSION)


def _inflate(target: ScanTarget, compression: str, limit: int) -> tuple[bytearray, bool, int]:
    """Decompress at most ``limit + 1`` bytes: (data, stream ended, bytes after its end)."""
    decompressor = _DECOMPRESSORS[compression]()
    data = bytearray()
    trailing = 0
    with target.real.open("rb") as handle:
        while len(data) <= limit and not decompressor.eof and (chunk := handle.read(_CHUNK)):
            data += decompressor.decompress(chunk, limit + 1 - len(data))
        if decompressor.eof:
            trailing = len(decompressor.unused_data) + target.size - handle.tell()
    return data, decompressor.eof, trailing
