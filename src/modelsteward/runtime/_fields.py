"""Reading typed fields out of parsed JSON/YAML mappings, with errors that name the field.

Only the standard library: the runtime gate is embedded in vehicle processes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from modelsteward.errors import InvalidInput

__all__ = ["FieldReader"]

_MISSING = object()


class FieldReader:
    """Reads one mapping; every error names ``where.field`` and what was expected.

    Unknown keys are refused by :meth:`done`, so a misspelt limit never passes silently.
    """

    def __init__(self, data: object, where: str, *, source: str = "envelope") -> None:
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"{source}: {where or 'the document'} must be a mapping, found {_kind(data)}",
                hint="see docs/envelope.md for the format",
            )
        self._data: Mapping[str, Any] = data
        self._where = where
        self._source = source
        self._seen: set[str] = set()

    def path(self, key: str) -> str:
        """The dotted name of ``key`` under this mapping."""
        return f"{self._where}.{key}" if self._where else key

    def error(self, key: str, message: str) -> InvalidInput:
        """An error about ``key``, naming it."""
        return InvalidInput(
            f"{self._source}: {self.path(key)} {message}",
            hint="see docs/envelope.md for the format",
        )

    def raw(self, key: str, default: object = _MISSING) -> Any:
        """The value of ``key`` as parsed; required unless a default is given."""
        self._seen.add(key)
        if key in self._data:
            return self._data[key]
        if default is _MISSING:
            raise self.error(key, "is required")
        return default

    def has(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return key in self._data

    def sub(self, key: str, *, required: bool = True) -> FieldReader:
        """A reader for the mapping under ``key`` (an empty one when optional and absent)."""
        value = self.raw(key, _MISSING if required else {})
        return FieldReader(value, self.path(key), source=self._source)

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        """A finite number within bounds."""
        value = self.raw(key, _MISSING if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, found {_kind(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(key, f"must be finite, found {value!r}")
        if positive and number <= 0:
            raise self.error(key, f"must be greater than 0, found {value!r}")
        if minimum is not None and number < minimum:
            raise self.error(key, f"must be at least {minimum:g}, found {value!r}")
        if maximum is not None and number > maximum:
            raise self.error(key, f"must be at most {maximum:g}, found {value!r}")
        return number

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0) -> int:
        """A whole number ≥ ``minimum``."""
        value = self.raw(key, _MISSING if default is None else default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, found {_kind(value)}")
        if value < minimum:
            raise self.error(key, f"must be at least {minimum}, found {value}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        """A non-empty string."""
        value = self.raw(key, _MISSING if default is None else default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, found {_kind(value)}")
        return value

    def words(self, key: str) -> frozenset[str]:
        """A non-empty list of distinct non-empty strings."""
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, f"must be a non-empty list of strings, found {_kind(value)}")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(key, "must list non-empty strings only")
        if len(set(value)) != len(value):
            raise self.error(key, "lists a value twice")
        return frozenset(value)

    def done(self) -> None:
        """Refuse keys that were never read (typos would otherwise be ignored)."""
        unknown = sorted((set(self._data) - self._seen), key=str)
        if unknown:
            raise self.error(str(unknown[0]), "is not a known field (typo?)")


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"
