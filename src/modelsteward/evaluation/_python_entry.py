"""Import a ``module:callable`` entry point from a model folder without leaking into ``sys``.

The folder's modules are imported under a private package named after the folder's path, so two
model folders that both ship ``policy.py`` never shadow each other, and bytecode is not written:
importing a model must not add ``__pycache__`` files to the folder whose digest Steward checks.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput

__all__ = ["load_entry", "parse_entry"]

_ENTRY = re.compile(r"^([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*):([A-Za-z_][\w]*)$")


def parse_entry(entry: str, *, field: str = "model") -> tuple[str, str]:
    """Split ``module:callable``; raises InvalidInput naming ``field`` when malformed."""
    match = _ENTRY.match(entry.strip())
    if match is None:
        raise InvalidInput(
            f"{field}: {entry!r} is not a Python entry point",
            hint="write module:callable, e.g. driver:act",
        )
    return match.group(1), match.group(2)


def _folder_package(folder: Path) -> str:
    alias = "_steward_model_" + hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    if alias not in sys.modules:
        package = types.ModuleType(alias)
        package.__path__ = [str(folder)]
        sys.modules[alias] = package
    return alias


def _import(module: str, folder: Path | None) -> types.ModuleType:
    if folder is None:
        return importlib.import_module(module)
    alias = _folder_package(folder)
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    sys.path.insert(0, str(folder))  # sibling modules imported absolutely, at import time
    try:
        return importlib.import_module(f"{alias}.{module}")
    finally:
        sys.path.remove(str(folder))
        sys.dont_write_bytecode = writes_bytecode


def load_entry(entry: str, folder: Path | None = None) -> Callable[..., Any]:
    """The callable named by ``entry``, imported from ``folder`` (or the normal path).

    Raises:
        InvalidInput: Malformed entry, module not found, failing import, missing attribute.
    """
    module_name, attribute = parse_entry(entry)
    try:
        module = _import(module_name, folder)
    except ModuleNotFoundError as exc:
        where = f" in {folder}" if folder else ""
        raise InvalidInput(f"entry {entry!r}: module {module_name!r} not found{where}") from exc
    except (ImportError, SyntaxError) as exc:
        raise InvalidInput(f"entry {entry!r}: importing {module_name!r} failed: {exc!r}") from exc
    target = getattr(module, attribute, None)
    if not callable(target):
        raise InvalidInput(f"entry {entry!r}: {module_name} has no callable {attribute!r}")
    return target  # type: ignore[no-any-return]
