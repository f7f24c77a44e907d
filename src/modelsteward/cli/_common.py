"""What every command group shares: settings from the root options, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from modelsteward.errors import InvalidInput

if TYPE_CHECKING:  # imported when used: `steward hash` and `steward scan` need no database stack
    from modelsteward.bootstrap import Steward
    from modelsteward.config import Settings

__all__ = [
    "STATE",
    "console",
    "err_console",
    "load_settings",
    "open_steward",
    "print_json",
    "read_text",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class _State:
    home: Path | None = None
    verbose: bool = False
    json_errors: bool = False


STATE = _State()


def load_settings(home: Path | None = None) -> Settings:
    """Settings from ``STEWARD_*`` plus ``--home``; invalid values are an ``InvalidInput``."""
    from pydantic import ValidationError

    from modelsteward.config import Settings

    overrides: dict[str, Any] = {}
    if home or STATE.home:
        overrides["home"] = home or STATE.home
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "STEWARD_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise InvalidInput(f"{field}: {first['msg']}", hint="see docs/settings.md") from exc


@contextmanager
def open_steward() -> Iterator[Steward]:
    """The services of the configured workspace, closed when the block ends (even on error)."""
    from modelsteward.bootstrap import open_workspace

    steward = open_workspace(load_settings())
    try:
        yield steward
    finally:
        steward.close()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_text(path: Path, what: str) -> str:
    """Read a user-supplied file, turning OS errors into ``InvalidInput``."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"{what} file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} file {path} cannot be read: {exc}") from exc


def write_output(path: Path, text: str) -> None:
    """Write a file the user asked for with ``--out``."""
    try:
        path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        path.expanduser().write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}", hint="check --out") from exc
