"""Writing the dossier's files into the ``--out`` folder: checked first, then written atomically.

>>> import pathlib, tempfile
>>> out = check_out_folder(pathlib.Path(tempfile.mkdtemp()) / "new", ("dossier.json",))
>>> out.exists()
False
>>> [p.name for p in write_files(out, {"dossier.json": b"{}"})]
['dossier.json']
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from modelsteward.errors import InvalidInput

__all__ = ["check_out_folder", "write_files"]


def check_out_folder(out: Path, names: Iterable[str]) -> Path:
    """``out`` as a folder that exists or can be created, and written; nothing is created yet.

    Raises:
        InvalidInput: ``out`` is a file, lies under a file, is not writable, or one of ``names``
            is a folder there.
    """
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInput(
            f"--out {out} is a file, not a folder",
            hint="give a folder: the dossier is two files, dossier.json and dossier.html",
        )
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidInput(
            f"--out {out} cannot be written ({probe} is not a writable folder)",
            hint="choose a folder you can write to",
        )
    for name in names:
        if (out / name).is_dir():
            raise InvalidInput(f"--out {out}: {name} there is a folder, not a file")
    return out


def write_files(out: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write each file atomically (a temporary file, then a rename), replacing older copies.

    Raises:
        InvalidInput: A file cannot be written; the files already written are removed.
    """
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=out, prefix=f".{name}-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, out / name)
            finally:
                Path(tmp).unlink(missing_ok=True)
            written.append(out / name)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror}", hint="check --out") from exc
    return written
