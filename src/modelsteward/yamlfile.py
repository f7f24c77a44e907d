"""Read a user's YAML file safely: the safe loader (libyaml when built), duplicate keys refused.

Every YAML file a user hands Steward (ODD files, scenarios, model adapters, dataset options)
goes through here. PyYAML keeps the last of two equal keys without a word; in an ODD or a
scenario that silently drops a value, so a duplicate is an error naming the key.

>>> load_yaml("a: 1\\nb: [x, y]\\n", "example.yaml")
{'a': 1, 'b': ['x', 'y']}
>>> load_yaml("a: 1\\na: 2\\n", "example.yaml")
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: example.yaml: not valid YAML (key 'a' appears twice, line 2)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modelsteward.errors import InvalidInput

__all__ = ["load_yaml", "read_yaml"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.YAMLError):
    pass


class _StrictLoader(_Base):  # type: ignore[misc]  # the base is chosen at import time
    """The safe loader, refusing a mapping that names a key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base constructor reports it
            if key in seen:
                line = key_node.start_mark.line + 1
                raise _DuplicateKey(f"key {key!r} appears twice, line {line}")
            seen.add(key)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result


def load_yaml(text: str, origin: str) -> Any:
    """Parse YAML text; ``origin`` names the file in error messages.

    Raises:
        InvalidInput: the text is not valid YAML or repeats a key.
    """
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise InvalidInput(
            f"{origin}: not valid YAML ({detail})", hint="check the indentation and quoting"
        ) from exc


def read_yaml(path: Path, what: str) -> Any:
    """Read and parse a YAML file; ``what`` says which kind of file it is (``ODD file``).

    Raises:
        InvalidInput: the file is missing, unreadable or not valid YAML.
    """
    path = path.expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidInput(f"{what} {path} does not exist", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InvalidInput(f"{what} {path} is a folder, not a file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} {path} cannot be read: {exc}") from exc
    return load_yaml(text, str(path))
