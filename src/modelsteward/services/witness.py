"""The witness folder: a second place that keeps a copy of every signed checkpoint.

A witness that never forgets what it saw catches a ledger that was rolled back (restored from an
old copy) or forked (rewritten and re-signed). Files are named ``<size>-<root prefix>.checkpoint``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from modelsteward.errors import InvalidInput

__all__ = ["WitnessFolder"]


class WitnessFolder:
    """Checkpoint copies in a folder (typically on another disk or host mount)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, size: int, root: bytes, note: str) -> Path:
        """Write a checkpoint copy atomically; idempotent."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(
                f"witness folder {self.path} cannot be created: {exc.strerror}",
                hint="fix STEWARD_WITNESS_DIR",
            ) from exc
        target = self.path / f"{size:012d}-{root.hex()[:16]}.checkpoint"
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(note)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        return target

    def notes(self) -> list[str]:
        """Every checkpoint note seen, oldest (smallest) first."""
        if not self.path.is_dir():
            return []
        return [p.read_text(encoding="utf-8") for p in sorted(self.path.glob("*.checkpoint"))]
