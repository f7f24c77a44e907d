"""Decide ODD membership exactly: every attribute is cut into finitely many *atoms*.

An enumeration's atoms are its values. A range's atoms are the points where something changes
(min, max, bin edges, condition bounds) and the open gaps between them; every condition holds
either for all of an atom or for none of it. A question such as "can any situation in this cell
be inside the ODD?" is then a search over atoms with three-valued logic (true, false, unknown
while an attribute still has several possible atoms), which stops as soon as the answer is fixed.

>>> from modelsteward.odd._model import Clause, Enumeration, Match
>>> weather = Enumeration("environment.weather", ("clear", "fog"))
>>> rules = Rules.build((weather,), (), (Clause((Match(weather.key, ("fog",)),)),), ())
>>> rules.find({weather.key: rules.domain.full(weather.key)}, want=True)
{'environment.weather': 0}
>>> rules.find({weather.key: frozenset({1})}, want=True) is None
True
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.odd._model import (
    Attribute,
    Clause,
    Conditional,
    Enumeration,
    Match,
    NumericRange,
    Scalar,
    value_key,
)

__all__ = ["Domain", "Rules"]

Atoms = frozenset[int]
_Literal = tuple[str, Atoms]


class Domain:
    """The atoms of every attribute."""

    def __init__(self, attributes: Iterable[Attribute], matches: Iterable[Match]) -> None:
        self._enums: dict[str, dict[str, int]] = {}
        self._points: dict[str, list[float]] = {}
        for attribute in attributes:
            if isinstance(attribute, Enumeration):
                keys = [value_key(v) for v in attribute.values]
                self._enums[attribute.key] = {k: i for i, k in enumerate(keys)}
            else:
                self._points[attribute.key] = [float(e) for e in attribute.edges]
        for match in matches:
            points = self._points.get(match.key)
            if points is not None:
                extra = [v for v in (*match.values, match.low, match.high) if v is not None]
                points.extend(float(v) for v in extra if not isinstance(v, str))
        for key, points in self._points.items():
            self._points[key] = sorted(set(points))

    def size(self, key: str) -> int:
        """How many atoms the attribute has."""
        if key in self._enums:
            return len(self._enums[key])
        return 2 * len(self._points[key]) - 1

    def full(self, key: str) -> Atoms:
        """Every atom of the attribute."""
        return frozenset(range(self.size(key)))

    def value(self, key: str, value: Scalar) -> int | None:
        """The atom holding one value (``None`` if the attribute does not have it)."""
        if key in self._enums:
            return self._enums[key].get(value_key(value))
        if isinstance(value, str):
            return None
        points = self._points[key]
        if not points[0] <= value <= points[-1]:
            return None
        i = bisect.bisect_left(points, value)
        return 2 * i if points[i] == value else 2 * i - 1

    def interval(self, key: str, low: float, high: float, *, closed: bool = True) -> Atoms:
        """The atoms meeting ``low ≤ x ≤ high`` (``low ≤ x < high`` when not ``closed``)."""
        points = self._points[key]
        found: set[int] = set()
        for i, point in enumerate(points):
            if low <= point <= high and (closed or point < high):
                found.add(2 * i)
            if i + 1 < len(points) and low < points[i + 1] and point < high:
                found.add(2 * i + 1)
        return frozenset(found)

    def match(self, match: Match) -> Atoms:
        """The atoms where a condition holds."""
        if match.values:
            atoms = (self.value(match.key, v) for v in match.values)
            return frozenset(a for a in atoms if a is not None)
        points = self._points[match.key]
        low = points[0] if match.low is None else float(match.low)
        high = points[-1] if match.high is None else float(match.high)
        return self.interval(match.key, low, high)

    def bins(self, attribute: NumericRange) -> tuple[Atoms, ...]:
        """The atoms of each bin of a range, in order."""
        edges = attribute.edges
        last = len(edges) - 2
        return tuple(
            self.interval(attribute.key, edges[i], edges[i + 1], closed=i == last)
            for i in range(last + 1)
        )


@dataclass(frozen=True)
class _Compiled:
    clause: Clause
    literals: tuple[_Literal, ...]


def _truth(literals: tuple[_Literal, ...], assign: Mapping[str, Atoms]) -> bool | None:
    """Kleene AND of the literals: False if one surely fails, True if all surely hold."""
    result: bool | None = True
    for key, allowed in literals:
        current = assign[key]
        if current.isdisjoint(allowed):
            return False
        if not current <= allowed:
            result = None
    return result


@dataclass(frozen=True)
class Rules:
    """The include / exclude / conditional sections, compiled to atoms."""

    domain: Domain
    include: tuple[_Compiled, ...]
    exclude: tuple[_Compiled, ...]
    conditional: tuple[tuple[_Compiled, _Compiled, Conditional], ...]
    referenced: tuple[str, ...]

    @classmethod
    def build(
        cls,
        attributes: tuple[Attribute, ...],
        include: tuple[Clause, ...],
        exclude: tuple[Clause, ...],
        conditional: tuple[Conditional, ...],
    ) -> Rules:
        """Compile the sections of a parsed ODD."""
        clauses = [*include, *exclude, *(c for r in conditional for c in (r.when, r.then))]
        matches = [m for clause in clauses for m in clause.matches]
        domain = Domain(attributes, matches)

        def compiled(clause: Clause) -> _Compiled:
            return _Compiled(clause, tuple((m.key, domain.match(m)) for m in clause.matches))

        used = {m.key for m in matches}
        return cls(
            domain=domain,
            include=tuple(compiled(c) for c in include),
            exclude=tuple(compiled(c) for c in exclude),
            conditional=tuple((compiled(r.when), compiled(r.then), r) for r in conditional),
            referenced=tuple(a.key for a in attributes if a.key in used),
        )

    def truth(self, assign: Mapping[str, Atoms]) -> bool | None:
        """Is the situation inside the ODD: True, False, or None (depends on the unfixed atoms)."""
        parts: list[bool | None] = []
        if self.include:
            parts.append(_any(_truth(c.literals, assign) for c in self.include))
        parts.extend(_not(_truth(c.literals, assign)) for c in self.exclude)
        for when, then, _ in self.conditional:
            parts.append(_any([_not(_truth(when.literals, assign)), _truth(then.literals, assign)]))
        if False in parts:
            return False
        return True if all(p is True for p in parts) else None

    def find(self, assign: Mapping[str, Atoms], *, want: bool) -> dict[str, int] | None:
        """One atom per referenced attribute, within ``assign``, where the ODD answers ``want``.

        Attributes missing from ``assign`` may take any atom; ``None`` means no such situation.
        """
        full = {k: assign.get(k, self.domain.full(k)) for k in self.referenced}
        if any(not atoms for atoms in full.values()):
            return None
        return self._search(full, want)

    def _search(self, assign: dict[str, Atoms], want: bool) -> dict[str, int] | None:
        verdict = self.truth(assign)
        if verdict is want:
            return {k: min(atoms) for k, atoms in assign.items()}
        if verdict is not None:
            return None
        key = next(k for k in self.referenced if len(assign[k]) > 1)
        for atom in sorted(assign[key]):
            found = self._search({**assign, key: frozenset({atom})}, want)
            if found is not None:
                return found
        return None

    def explain(self, witness: Mapping[str, int], tagged: Iterable[str]) -> list[str]:
        """Why a concrete situation (one atom per referenced attribute) is outside the ODD.

        Each reason names the attributes it depends on that the tags leave open.
        """
        assign = {k: frozenset({a}) for k, a in witness.items()}
        known = set(tagged)

        def note(*clauses: Clause) -> str:
            open_keys = sorted({m.key for c in clauses for m in c.matches} - known)
            return f" ({', '.join(open_keys)} not tagged)" if open_keys else ""

        reasons: list[str] = []
        if self.include and not any(_truth(c.literals, assign) for c in self.include):
            wanted = " or ".join(c.clause.describe() for c in self.include)
            reasons.append(
                f"in no include entry: {wanted}{note(*(c.clause for c in self.include))}"
            )
        for i, c in enumerate(self.exclude):
            if _truth(c.literals, assign):
                reasons.append(f"excluded by exclude[{i}]: {c.clause.describe()}{note(c.clause)}")
        for i, (when, then, rule) in enumerate(self.conditional):
            if _truth(when.literals, assign) and not _truth(then.literals, assign):
                reasons.append(
                    f"conditional[{i}]: when {rule.when.describe()}, "
                    f"{rule.then.describe()} is required{note(rule.when, rule.then)}"
                )
        return reasons

    def to_dict(self) -> dict[str, Any]:
        """The sections as the ODD file writes them."""
        return {
            "include": [c.clause.to_dict() for c in self.include],
            "exclude": [c.clause.to_dict() for c in self.exclude],
            "conditional": [rule.to_dict() for _, _, rule in self.conditional],
        }


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _any(values: Iterable[bool | None]) -> bool | None:
    result: bool | None = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result
