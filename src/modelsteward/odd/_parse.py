"""Validate an ODD mapping; every error names the file, the section and the attribute.

>>> odd = parse_odd({"odd": "demo", "environment": {"weather": {"values": ["clear", "fog"]}},
...                  "exclude": [{"environment.weather": "fog"}]}, "odd.yaml")
>>> [a.key for a in odd.attributes], odd.exclude[0].describe()
(['environment.weather'], 'environment.weather = fog')
>>> parse_odd({"odd": "demo", "weather": {}}, "odd.yaml")
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: odd.yaml: unknown group 'weather'
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.odd._model import (
    GROUPS,
    Attribute,
    Clause,
    Conditional,
    Enumeration,
    Match,
    NumericRange,
    Scalar,
    normalize_number,
    value_key,
)

__all__ = ["ParsedOdd", "parse_odd"]

_HINT = "see docs/odd.md for the ODD file format"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP = ("odd", "version", "description", *GROUPS, "include", "exclude", "conditional")
_ATTRIBUTE_KEYS = ("values", "range", "bins", "unit", "description")


@dataclass(frozen=True)
class ParsedOdd:
    """A validated ODD file."""

    name: str
    version: int | str
    description: str
    attributes: tuple[Attribute, ...]
    include: tuple[Clause, ...]
    exclude: tuple[Clause, ...]
    conditional: tuple[Conditional, ...]


class _Reader:
    """Carries the file name into every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, message: str, hint: str = _HINT) -> InvalidInput:
        return InvalidInput(f"{self.origin}: {message}", hint=hint)

    def unknown(self, where: str, key: object, known: tuple[str, ...]) -> InvalidInput:
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "expected one of " + ", ".join(known)
        return self.fail(f"{where} {key!r}", hint=hint)

    def text(self, value: object, where: str, *, required: bool = False) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(f"{where} must be a non-empty string, not {value!r}")
        return value.strip()

    def number(self, value: object, where: str) -> int | float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(f"{where} must be a number, not {value!r}")
        return normalize_number(value)

    def scalar(self, value: object, where: str) -> Scalar:
        if isinstance(value, bool):
            raise self.fail(
                f"{where}: {value!r} is read as a boolean", hint="quote it, e.g. 'yes' or 'on'"
            )
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and math.isfinite(value):
            return normalize_number(value)
        raise self.fail(f"{where} must be a string or a number, not {value!r}")


def parse_odd(data: object, origin: str) -> ParsedOdd:
    """Validate a parsed ODD file; ``origin`` names it in errors.

    Raises:
        InvalidInput: the first problem found, naming file, section and attribute.
    """
    read = _Reader(origin)
    if not isinstance(data, Mapping):
        raise read.fail(
            "an ODD file is a mapping with odd, scenery, environment and dynamic_elements"
        )
    for key in data:
        if key not in _TOP:
            raise read.unknown("unknown group", key, _TOP)
    attributes = _attributes(read, data)
    by_key = {a.key: a for a in attributes}
    include = _clauses(read, data.get("include"), "include", by_key, allow_empty=False)
    return ParsedOdd(
        name=read.text(data.get("odd"), "odd (the ODD's name)", required=True),
        version=_version(read, data.get("version", 1)),
        description=read.text(data.get("description"), "description"),
        attributes=attributes,
        include=include,
        exclude=_clauses(read, data.get("exclude"), "exclude", by_key, allow_empty=True),
        conditional=_conditionals(read, data.get("conditional"), by_key),
    )


def _version(read: _Reader, value: object) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise read.fail(f"version must be a whole number ≥ 1 or a string, not {value!r}")


def _attributes(read: _Reader, data: Mapping[Any, Any]) -> tuple[Attribute, ...]:
    found: list[Attribute] = []
    for group in GROUPS:
        section = data.get(group)
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise read.fail(f"{group} must map attribute names to their values or range")
        for name, spec in section.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise read.fail(
                    f"{group}: attribute name {name!r} is not allowed",
                    hint="use lower case letters, digits and _, starting with a letter",
                )
            found.append(_attribute(read, f"{group}.{name}", spec))
    if not found:
        raise read.fail(
            "the ODD lists no attributes", hint="add scenery, environment or dynamic_elements"
        )
    return tuple(found)


def _attribute(read: _Reader, key: str, spec: object) -> Attribute:
    if not isinstance(spec, Mapping):
        raise read.fail(f"{key} must be {{values: [...]}} or {{range: {{min: …, max: …}}}}")
    for field in spec:
        if field not in _ATTRIBUTE_KEYS:
            raise read.unknown(f"{key}: unknown key", field, _ATTRIBUTE_KEYS)
    if ("values" in spec) == ("range" in spec):
        raise read.fail(f"{key} needs exactly one of values or range")
    unit = read.text(spec.get("unit"), f"{key}.unit")
    description = read.text(spec.get("description"), f"{key}.description")
    if "values" in spec:
        if "bins" in spec:
            raise read.fail(f"{key}.bins needs a range, not values")
        return Enumeration(key, _values(read, key, spec["values"]), unit, description)
    low, high = _bounds(read, key, spec["range"])
    edges = _edges(read, key, spec.get("bins"), low, high)
    return NumericRange(key, low, high, edges, unit, description)


def _values(read: _Reader, key: str, raw: object) -> tuple[Scalar, ...]:
    if not isinstance(raw, list) or not raw:
        raise read.fail(f"{key}.values must be a non-empty list", hint="e.g. values: [clear, rain]")
    values: dict[str, Scalar] = {}
    for item in raw:
        value = read.scalar(item, f"{key}.values")
        if value_key(value) in values:
            raise read.fail(f"{key}.values lists {value!r} twice")
        values[value_key(value)] = value
    return tuple(values.values())


def _bounds(read: _Reader, key: str, raw: object) -> tuple[int | float, int | float]:
    if not isinstance(raw, Mapping) or set(raw) != {"min", "max"}:
        raise read.fail(f"{key}.range must be {{min: number, max: number}}, not {raw!r}")
    low = read.number(raw["min"], f"{key}.range.min")
    high = read.number(raw["max"], f"{key}.range.max")
    if low >= high:
        raise read.fail(f"{key}.range: min ({low}) must be below max ({high})")
    return low, high


def _edges(
    read: _Reader, key: str, raw: object, low: int | float, high: int | float
) -> tuple[int | float, ...]:
    if raw is None:
        return (low, high)
    if not isinstance(raw, list) or not raw:
        raise read.fail(f"{key}.bins must be a non-empty list of bin edges, e.g. [0, 20, 30]")
    edges = [read.number(item, f"{key}.bins") for item in raw]
    for edge in edges:
        if not low <= edge <= high:
            raise read.fail(f"{key}.bins: edge {edge} is outside the range {low}–{high}")
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise read.fail(f"{key}.bins must be strictly increasing, not {edges}")
    return tuple(sorted({low, *edges, high}))


def _clauses(
    read: _Reader, raw: object, section: str, by_key: Mapping[str, Attribute], *, allow_empty: bool
) -> tuple[Clause, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or (not raw and not allow_empty):
        hint = "remove it to include every listed value" if section == "include" else _HINT
        raise read.fail(f"{section} must be a non-empty list of conditions", hint=hint)
    return tuple(_clause(read, item, f"{section}[{i}]", by_key) for i, item in enumerate(raw))


def _conditionals(
    read: _Reader, raw: object, by_key: Mapping[str, Attribute]
) -> tuple[Conditional, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise read.fail("conditional must be a list of {when: …, then: …} rules")
    rules: list[Conditional] = []
    for i, item in enumerate(raw):
        where = f"conditional[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"when", "then"}:
            raise read.fail(f"{where} must have exactly the keys when and then")
        when = _clause(read, item["when"], f"{where}.when", by_key)
        rules.append(Conditional(when, _clause(read, item["then"], f"{where}.then", by_key)))
    return tuple(rules)


def _clause(read: _Reader, raw: object, where: str, by_key: Mapping[str, Attribute]) -> Clause:
    if not isinstance(raw, Mapping) or not raw:
        raise read.fail(
            f"{where} must map attributes to values", hint="e.g. {environment.weather: fog}"
        )
    matches: list[Match] = []
    for key, value in raw.items():
        attribute = by_key.get(key) if isinstance(key, str) else None
        if attribute is None:
            raise read.unknown(f"{where}: unknown attribute", key, tuple(by_key))
        if isinstance(attribute, Enumeration):
            matches.append(_enum_match(read, attribute, value, f"{where}: {key}"))
        else:
            matches.append(_range_match(read, attribute, value, f"{where}: {key}"))
    return Clause(tuple(matches))


def _enum_match(read: _Reader, attribute: Enumeration, raw: object, where: str) -> Match:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise read.fail(f"{where}: the list of values is empty")
    declared = {value_key(v): v for v in attribute.values}
    chosen: list[Scalar] = []
    for item in items:
        value = declared.get(value_key(read.scalar(item, where)))
        if value is None:
            allowed = ", ".join(attribute.labels)
            raise read.fail(f"{where}: {item!r} is not a value of {attribute.key} ({allowed})")
        if value not in chosen:
            chosen.append(value)
    return Match(attribute.key, values=tuple(chosen))


def _range_match(read: _Reader, attribute: NumericRange, raw: object, where: str) -> Match:
    span = f"{attribute.minimum}–{attribute.maximum}"
    if isinstance(raw, Mapping):
        if not raw or not set(raw) <= {"min", "max"}:
            raise read.fail(f"{where}: a range condition is {{min: …}}, {{max: …}} or both")
        low = None if raw.get("min") is None else read.number(raw["min"], f"{where}.min")
        high = None if raw.get("max") is None else read.number(raw["max"], f"{where}.max")
        for bound in (low, high):
            if bound is not None and not attribute.minimum <= bound <= attribute.maximum:
                raise read.fail(f"{where}: {bound} is outside the range {span}")
        if low is not None and high is not None and low > high:
            raise read.fail(f"{where}: min ({low}) is above max ({high})")
        return Match(attribute.key, low=low, high=high)
    items = raw if isinstance(raw, list) and raw else [raw]
    points = tuple(read.number(item, where) for item in items)
    for point in points:
        if not attribute.minimum <= point <= attribute.maximum:
            raise read.fail(f"{where}: {point} is outside the range {span}")
    return Match(attribute.key, values=points)
