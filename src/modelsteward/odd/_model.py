"""The parsed ODD's building blocks: attributes, matches, clauses (values, not behaviour).

Values are compared by :func:`value_key`: strings trimmed and case-folded, numbers by value, so
``3``, ``3.0`` and ``"3"`` are the same lane count and ``Motorway`` matches ``motorway``.

>>> value_key(" Motorway "), value_key(3.0), value_key("3")
('motorway', '3', '3')
>>> format_number(2.50), format_number(36.0)
('2.5', '36')
>>> Match("environment.weather", values=("fog",)).describe()
'environment.weather = fog'
>>> Match("dynamic_elements.ego_speed_mps", high=25).describe()
'dynamic_elements.ego_speed_mps ≤ 25'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "GROUPS",
    "Attribute",
    "Clause",
    "Conditional",
    "Enumeration",
    "Match",
    "NumericRange",
    "Scalar",
    "format_number",
    "normalize_number",
    "value_key",
]

GROUPS = ("scenery", "environment", "dynamic_elements")
"""The three BSI PAS 1883 taxonomy groups, in the order the ODD file lists them."""

Scalar = str | int | float


def normalize_number(value: int | float) -> int | float:
    """An integral float becomes an int, so ``36`` and ``36.0`` digest the same."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """A number as people write it: ``20``, ``2.5`` (no trailing ``.0``)."""
    return repr(normalize_number(value))


def value_key(value: Scalar) -> str:
    """The form two values are compared in (trimmed, case-folded; numbers by value)."""
    if isinstance(value, str):
        return value.strip().casefold()
    return format_number(value)


def _label(value: Scalar) -> str:
    return value if isinstance(value, str) else format_number(value)


@dataclass(frozen=True)
class Enumeration:
    """An attribute whose values are listed, e.g. ``environment.weather: [clear, rain, fog]``."""

    key: str
    values: tuple[Scalar, ...]
    unit: str = ""
    description: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """Each value as text, in the ODD's spelling (the cell labels)."""
        return tuple(_label(v) for v in self.values)

    def to_dict(self) -> dict[str, Any]:
        """The canonical form (the digest covers it)."""
        return _extras({"values": list(self.values)}, self.unit, self.description)


@dataclass(frozen=True)
class NumericRange:
    """A numeric attribute ``min … max`` cut into bins at ``edges`` (which include min and max).

    Bin ``i`` holds ``edges[i] ≤ x < edges[i+1]``; the last bin also holds ``max``.
    """

    key: str
    minimum: int | float
    maximum: int | float
    edges: tuple[int | float, ...]
    unit: str = ""
    description: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """Each bin as text, e.g. ``20–30`` (the cell labels)."""
        pairs = zip(self.edges, self.edges[1:], strict=False)
        return tuple(f"{format_number(a)}–{format_number(b)}" for a, b in pairs)

    def bin_of(self, value: int | float) -> int | None:
        """The index of the bin holding ``value``, or ``None`` outside ``min … max``."""
        if not self.minimum <= value <= self.maximum:
            return None
        for index, upper in enumerate(self.edges[1:-1]):
            if value < upper:
                return index
        return len(self.edges) - 2

    def to_dict(self) -> dict[str, Any]:
        """The canonical form (the digest covers it)."""
        data = {"range": {"min": self.minimum, "max": self.maximum}, "bins": list(self.edges)}
        return _extras(data, self.unit, self.description)


Attribute = Enumeration | NumericRange


def _extras(data: dict[str, Any], unit: str, description: str) -> dict[str, Any]:
    if unit:
        data["unit"] = unit
    if description:
        data["description"] = description
    return data


@dataclass(frozen=True)
class Match:
    """One attribute's condition: one of ``values``, or a closed interval ``low … high``."""

    key: str
    values: tuple[Scalar, ...] = ()
    low: int | float | None = None
    high: int | float | None = None

    def to_value(self) -> Any:
        """The condition as the ODD file writes it (a list of values or ``{min, max}``)."""
        if self.values:
            return list(self.values)
        bounds = {"min": self.low, "max": self.high}
        return {k: v for k, v in bounds.items() if v is not None}

    def describe(self) -> str:
        """The condition in words, e.g. ``environment.weather = fog``."""
        if self.values:
            shown = ", ".join(_label(v) for v in self.values)
            return f"{self.key} = {shown}" if len(self.values) == 1 else f"{self.key} in {shown}"
        if self.low is not None and self.high is not None:
            return f"{self.key} in {format_number(self.low)}–{format_number(self.high)}"
        if self.low is not None:
            return f"{self.key} ≥ {format_number(self.low)}"
        assert self.high is not None  # the parser refuses a match with neither bound
        return f"{self.key} ≤ {format_number(self.high)}"


@dataclass(frozen=True)
class Clause:
    """Conditions that hold together: an include or exclude entry, a ``when``, a ``then``."""

    matches: tuple[Match, ...]

    def to_dict(self) -> dict[str, Any]:
        """The clause as the ODD file writes it."""
        return {m.key: m.to_value() for m in self.matches}

    def describe(self) -> str:
        """The clause in words."""
        return " and ".join(m.describe() for m in self.matches)


@dataclass(frozen=True)
class Conditional:
    """``when`` the first clause holds, the second must hold too."""

    when: Clause
    then: Clause

    def to_dict(self) -> dict[str, Any]:
        """The rule as the ODD file writes it."""
        return {"when": self.when.to_dict(), "then": self.then.to_dict()}
