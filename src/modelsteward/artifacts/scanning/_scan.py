"""Scan a model folder or file: one verdict per file, exactly the files hashing sees.

>>> import tempfile
>>> from pathlib import Path, PurePosixPath
>>> from modelsteward.artifacts.scanning import scan_model
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "README.md").write_text("# A model\\n")
>>> _ = (folder / "modeling_x.py").write_text("import os\\n")
>>> report = scan_model(folder)
>>> report.summary
{'files': 2, 'safe': 1, 'unsafe': 0, 'unscanned': 1}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath

import onnx

from modelsteward.artifacts.manifest import list_model_files
from modelsteward.artifacts.scanning._detect import HEAD_BYTES, route
from modelsteward.artifacts.scanning._target import ScanTarget
from modelsteward.artifacts.scanning._verdict import FileVerdict, ScanReport, Verdict
from modelsteward.errors import InvalidInput

__all__ = ["scan_file", "scan_model"]


def scan_model(path: Path, *, on_file: Callable[[str], None] | None = None) -> ScanReport:
    """Scan every file of a model folder (or a single model file).

    Args:
        path: The model folder or file.
        on_file: Called with each file's relative path before it is scanned (progress).

    Returns:
        One verdict per file, in path order.

    Raises:
        InvalidInput: ``path`` is missing, an empty folder, holds a link escaping it or a special
            file (exactly as hashing refuses them), or a file cannot be read.
    """
    path = path.expanduser()
    files, _ = list_model_files(path)
    verdicts = []
    for rel, real, _size in sorted(files, key=lambda item: PurePosixPath(item[0]).parts):
        if on_file:
            on_file(rel)
        verdicts.append(scan_file(rel, real, path))
    return ScanReport(tuple(_claim_external_data(verdicts)))


def scan_file(rel: str, real: Path, root: Path) -> FileVerdict:
    """Scan one file of a model. Never raises on malformed content: that is an unsafe verdict.

    Args:
        rel: POSIX path relative to the model root (``"."`` for a single-file model).
        real: Where the file's bytes are.
        root: The model root (folder, or the file itself for a single-file model).

    Raises:
        InvalidInput: The file cannot be opened at all.
    """
    try:
        with real.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        target = ScanTarget(rel, real, root, real.stat().st_size, head)
    except OSError as exc:
        raise InvalidInput(f"cannot read {rel}: {exc.strerror or exc}") from exc
    chosen = route(target)
    try:
        return chosen.run(target)
    # Fail closed: a parser crashing on hostile bytes is a finding, not an outage. This is the
    # one place any error is caught; third-party parsers raise arbitrary types (zipfile even
    # raises OSError when a hostile header makes it seek before the start of the file).
    except Exception as exc:  # noqa: BLE001
        return FileVerdict(
            path=rel,
            format=chosen.fmt,
            verdict=Verdict.UNSAFE,
            scanner=chosen.scanner,
            scanner_version=chosen.version,
            findings=(
                f"{chosen.scanner} failed on this file ({type(exc).__name__}: {str(exc)[:200]}); "
                "treated as unsafe",
            ),
        )


def _claim_external_data(verdicts: list[FileVerdict]) -> list[FileVerdict]:
    """Files an ONNX model reads as raw external tensor data are data, not unknown binaries."""
    claims: dict[str, list[str]] = {}
    for verdict in verdicts:
        if verdict.format == "onnx" and verdict.verdict is not Verdict.UNSAFE:
            for rel in verdict.details.get("external_data", []):
                claims.setdefault(rel, []).append(verdict.path)
    claimed = []
    for verdict in verdicts:
        owners = claims.get(verdict.path)
        # only files no scanner recognised: a pickle stays a pickle whoever points at it
        if owners and verdict.format == "unknown" and verdict.verdict is Verdict.UNSCANNED:
            verdict = replace(
                verdict,
                format="onnx-external-data",
                verdict=Verdict.SAFE,
                scanner="onnx",
                scanner_version=onnx.__version__,
                findings=(),
                details={"external_data_of": owners},
            )
        claimed.append(verdict)
    return claimed
