"""The operational design domain: attributes, membership, and the cells coverage is counted in.

An ODD file lists the attributes of the three BSI PAS 1883 groups (``scenery``, ``environment``,
``dynamic_elements``) as enumerations or numeric ranges, then narrows the domain with ``include``,
``exclude`` and ``conditional`` sections (the format is in ``docs/odd.md``). Scenarios and
datasets carry *tags* (``group.attribute`` → value); this module checks them, decides whether a
tag set is inside the ODD, and maps it to a *cell* of the coverage matrix.

>>> odd = OddSpec.from_mapping({
...     "odd": "highway-pilot",
...     "environment": {"weather": {"values": ["clear", "rain", "fog"]}},
...     "dynamic_elements": {"ego_speed_mps": {"range": {"min": 0, "max": 36},
...                                            "bins": [20, 30]}},
...     "exclude": [{"environment.weather": "fog"}],
...     "conditional": [{"when": {"environment.weather": "rain"},
...                      "then": {"dynamic_elements.ego_speed_mps": {"max": 25}}}],
... }, origin="odd.yaml")
>>> len(odd.cells())  # clear × 3 bins, rain × 2 bins (30–36 is above 25), no fog
5
>>> tags = {"environment.weather": "rain", "dynamic_elements.ego_speed_mps": 28}
>>> odd.contains(tags), odd.cell_of(tags).label
(False, 'environment.weather=rain, dynamic_elements.ego_speed_mps=20–30')
>>> odd.check_tags({"environment.weather": "snow"})
["environment.weather: 'snow' is not one of clear, rain, fog"]
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import canonical_json
from modelsteward.odd._model import (
    GROUPS,
    Attribute,
    Clause,
    Conditional,
    Enumeration,
    NumericRange,
    format_number,
)
from modelsteward.odd._parse import parse_odd
from modelsteward.odd._solver import Atoms, Rules
from modelsteward.types import Digest
from modelsteward.yamlfile import read_yaml

__all__ = ["GROUPS", "MAX_CELLS", "Attribute", "Cell", "Enumeration", "NumericRange", "OddSpec"]

MAX_CELLS = 100_000
"""The most cells :meth:`OddSpec.cells` enumerates; more means choosing fewer dimensions."""

_DIMENSIONS_HINT = (
    "choose fewer attributes with --dimensions, "
    "e.g. --dimensions environment.weather,dynamic_elements.ego_speed_mps"
)


@dataclass(frozen=True, order=True)
class Cell:
    """One cell of the coverage matrix: a value (or range bin) for each chosen attribute."""

    coordinates: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        """``environment.weather=rain, dynamic_elements.ego_speed_mps=20–30``."""
        return ", ".join(f"{key}={value}" for key, value in self.coordinates)

    def to_dict(self) -> dict[str, str]:
        """Attribute → value label."""
        return dict(self.coordinates)


@dataclass(frozen=True)
class OddSpec:
    """A validated ODD. Build it with :meth:`from_path` or :meth:`from_mapping`."""

    name: str
    version: int | str
    description: str
    attributes: tuple[Attribute, ...]
    include: tuple[Clause, ...] = ()
    exclude: tuple[Clause, ...] = ()
    conditional: tuple[Conditional, ...] = ()
    origin: str = field(default="<mapping>", compare=False)
    _rules: Rules = field(init=False, repr=False, compare=False)
    _choices: dict[str, tuple[tuple[str, Atoms], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        rules = Rules.build(self.attributes, self.include, self.exclude, self.conditional)
        choices = {a.key: _choices(a, rules) for a in self.attributes}
        object.__setattr__(self, "_rules", rules)
        object.__setattr__(self, "_choices", choices)

    @classmethod
    def from_path(cls, path: str | Path) -> OddSpec:
        """Load and validate an ODD YAML file.

        Raises:
            InvalidInput: the file is missing or malformed; the message names the section and
                attribute at fault.
        """
        target = Path(path).expanduser()
        return cls.from_mapping(read_yaml(target, "ODD file"), origin=str(target))

    @classmethod
    def from_mapping(cls, data: Any, origin: str = "<mapping>") -> OddSpec:
        """Validate an already parsed ODD file; ``origin`` names it in error messages."""
        parsed = parse_odd(data, origin)
        return cls(
            name=parsed.name,
            version=parsed.version,
            description=parsed.description,
            attributes=parsed.attributes,
            include=parsed.include,
            exclude=parsed.exclude,
            conditional=parsed.conditional,
            origin=origin,
        )

    @property
    def keys(self) -> tuple[str, ...]:
        """Every attribute as ``group.attribute``, in file order."""
        return tuple(a.key for a in self.attributes)

    @property
    def groups(self) -> dict[str, tuple[Attribute, ...]]:
        """The attributes of each PAS 1883 group (a group may be empty)."""
        return {g: tuple(a for a in self.attributes if a.key.startswith(g + ".")) for g in GROUPS}

    def attribute(self, key: str) -> Attribute:
        """The attribute named ``group.attribute``.

        Raises:
            InvalidInput: the ODD has no such attribute.
        """
        for attribute in self.attributes:
            if attribute.key == key:
                return attribute
        raise InvalidInput(f"{self.origin}: unknown ODD attribute {key!r}", hint=self._near(key))

    def check_tags(self, tags: Mapping[str, Any]) -> list[str]:
        """The problems of a scenario's or dataset's ODD tags (empty when they are all valid).

        A tag is a value, a list of values, or for a range attribute ``{min: …, max: …}``.
        """
        if not isinstance(tags, Mapping):
            return [f"ODD tags must map group.attribute to a value, not {tags!r}"]
        found = self._assignment(tags)
        return found if isinstance(found, list) else []

    def contains(self, tags: Mapping[str, Any]) -> bool:
        """True when every situation the tags describe is inside the ODD.

        Attributes left out of the tags may take any value, so a tag set without
        ``environment.weather`` is not inside an ODD that excludes fog. Invalid or unknown
        tags are never inside.
        """
        return not self.outside_reasons(tags)

    def outside_reasons(self, tags: Mapping[str, Any]) -> list[str]:
        """Why the tags are not inside the ODD (empty when they are)."""
        if not isinstance(tags, Mapping):
            return self.check_tags(tags)
        assign = self._assignment(tags)
        if isinstance(assign, list):
            return assign
        witness = self._rules.find(assign, want=False)
        return [] if witness is None else self._rules.explain(witness, tags)

    def combinations(self, dimensions: Sequence[str] | None = None) -> int:
        """How many cells the chosen attributes span before exclusions (not enumerated)."""
        return math.prod(len(a.labels) for a in self._dimensions(dimensions))

    def cells(self, dimensions: Sequence[str] | None = None) -> list[Cell]:
        """The coverage cells over ``dimensions`` (default: every attribute), in file order.

        A cell is every combination of enumeration values and range bins that at least one
        situation inside the ODD falls in; fully excluded combinations are left out.

        Raises:
            InvalidInput: an unknown dimension, or more than :data:`MAX_CELLS` combinations.
        """
        chosen = self._dimensions(dimensions)
        total = math.prod(len(a.labels) for a in chosen)
        if total > MAX_CELLS:
            raise InvalidInput(
                f"{self.origin}: {total:,} cells over {len(chosen)} attributes is more than "
                f"{MAX_CELLS:,}",
                hint=_DIMENSIONS_HINT,
            )
        options = [self._options(a) for a in chosen]
        used = [i for i, a in enumerate(chosen) if a.key in self._rules.referenced]
        inside: dict[tuple[Atoms, ...], bool] = {}
        found: list[Cell] = []
        for combo in itertools.product(*options):
            memo = tuple(combo[i][1] for i in used)
            if memo not in inside:
                assign = {chosen[i].key: combo[i][1] for i in used}
                inside[memo] = self._rules.find(assign, want=True) is not None
            if inside[memo]:
                found.append(Cell(tuple((a.key, o[0]) for a, o in zip(chosen, combo, strict=True))))
        return found

    def cell_of(
        self, tags: Mapping[str, Any], dimensions: Sequence[str] | None = None
    ) -> Cell | None:
        """The cell one value per dimension falls in (a range value → its bin).

        ``None`` when a dimension is missing from the tags or its value is not valid. The cell
        is not checked against the ODD: use :meth:`contains` for that.
        """
        coordinates: list[tuple[str, str]] = []
        for attribute in self._dimensions(dimensions):
            value = tags.get(attribute.key)
            atoms = self._atoms(attribute.key, value)
            if isinstance(atoms, str) or isinstance(value, list | Mapping):
                return None
            labels = [label for label, bin_atoms in self._options(attribute) if atoms <= bin_atoms]
            coordinates.append((attribute.key, labels[0]))
        return Cell(tuple(coordinates))

    def cells_touched(
        self, tags: Mapping[str, Any], dimensions: Sequence[str] | None = None
    ) -> list[Cell]:
        """The ODD cells a multi-valued tag set (a dataset's) reaches; empty if a dimension is
        missing or invalid, since missing tags claim no coverage."""
        per_dimension: list[list[tuple[str, str]]] = []
        for attribute in self._dimensions(dimensions):
            atoms = self._atoms(attribute.key, tags.get(attribute.key))
            if isinstance(atoms, str):
                return []
            reached = [o for o in self._options(attribute) if not atoms.isdisjoint(o[1])]
            per_dimension.append([(attribute.key, label) for label, _ in reached])
        inside = set(self.cells(dimensions))
        touched = (Cell(tuple(combo)) for combo in itertools.product(*per_dimension))
        return [cell for cell in touched if cell in inside]

    def to_dict(self) -> dict[str, Any]:
        """The canonical form of the parsed ODD (what :attr:`digest` covers)."""
        data: dict[str, Any] = {
            "odd": self.name,
            "version": self.version,
            "description": self.description,
        }
        for group, attributes in self.groups.items():
            data[group] = {a.key.split(".", 1)[1]: a.to_dict() for a in attributes}
        return {**data, **self._rules.to_dict()}

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of :meth:`to_dict` (formatting does not count)."""
        return str(Digest.of(canonical_json(self.to_dict())))

    def _dimensions(self, dimensions: Sequence[str] | None) -> tuple[Attribute, ...]:
        if dimensions is None:
            return self.attributes
        if isinstance(dimensions, str) or not dimensions:
            raise InvalidInput(
                "choose at least one ODD attribute as a dimension", hint=_DIMENSIONS_HINT
            )
        if len(set(dimensions)) != len(dimensions):
            raise InvalidInput(f"a dimension is listed twice: {', '.join(dimensions)}")
        return tuple(self.attribute(key) for key in dimensions)

    def _options(self, attribute: Attribute) -> tuple[tuple[str, Atoms], ...]:
        return self._choices[attribute.key]

    def _near(self, key: object) -> str:
        close = difflib.get_close_matches(str(key), self.keys, n=1)
        return (
            f"did you mean {close[0]!r}?" if close else "the attributes are " + ", ".join(self.keys)
        )

    def _assignment(self, tags: Mapping[str, Any]) -> dict[str, Atoms] | list[str]:
        """The atoms each tag stands for, or every problem found."""
        assign: dict[str, Atoms] = {}
        problems: list[str] = []
        for key, value in tags.items():
            found = self._atoms(key, value)
            if isinstance(found, str):
                problems.append(found)
            else:
                assign[key] = found
        return problems or assign

    def _atoms(self, key: object, value: Any) -> Atoms | str:
        """The atoms one tag value stands for, or the problem with it."""
        attribute = next((a for a in self.attributes if a.key == key), None)
        if attribute is None:
            return f"unknown ODD attribute {key!r} ({self._near(key)})"
        if isinstance(value, Mapping):
            return self._range_atoms(attribute, value)
        items = value if isinstance(value, list) else [value]
        if not items:
            return f"{attribute.key}: the list of values is empty"
        atoms: set[int] = set()
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float) or item != item:
                return f"{attribute.key}: expected a string or a number, not {item!r}"
            if isinstance(attribute, NumericRange) and isinstance(item, str):
                return f"{attribute.key}: expected a number, not {item!r}"
            atom = self._rules.domain.value(attribute.key, item)
            if atom is None:
                return f"{attribute.key}: {item!r} is {_allowed(attribute)}"
            atoms.add(atom)
        return frozenset(atoms)

    def _range_atoms(self, attribute: Attribute, value: Mapping[Any, Any]) -> Atoms | str:
        key = attribute.key
        if not isinstance(attribute, NumericRange):
            return f"{key}: a {{min, max}} range is only for range attributes; list the values"
        low, high = value.get("min"), value.get("max")
        if (
            set(value) != {"min", "max"}
            or not isinstance(low, int | float)
            or not isinstance(high, int | float)
            or isinstance(low, bool)
            or isinstance(high, bool)
        ):
            return f"{key}: a range is {{min: number, max: number}}, not {dict(value)!r}"
        if low > high:
            return f"{key}: min ({low}) is above max ({high})"
        if low < attribute.minimum or high > attribute.maximum:
            return f"{key}: {low}–{high} is {_allowed(attribute)}"
        return self._rules.domain.interval(key, float(low), float(high))


def _choices(attribute: Attribute, rules: Rules) -> tuple[tuple[str, Atoms], ...]:
    """Each cell label of an attribute with the atoms it covers."""
    if isinstance(attribute, Enumeration):
        return tuple((label, frozenset({i})) for i, label in enumerate(attribute.labels))
    return tuple(zip(attribute.labels, rules.domain.bins(attribute), strict=True))


def _allowed(attribute: Attribute) -> str:
    if isinstance(attribute, Enumeration):
        return "not one of " + ", ".join(attribute.labels)
    lo, hi = format_number(attribute.minimum), format_number(attribute.maximum)
    return f"outside the range {lo}–{hi}"
