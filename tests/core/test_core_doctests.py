"""Every example in a module docstring runs and shows what it says (CONVENTIONS.md)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import modelsteward


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(modelsteward.__path__, "modelsteward.")
        if ".migrations" not in info.name and not info.name.startswith("modelsteward.cli")
    )


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module: ModuleType = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
