"""ODD coverage: which ODD cells passing scenarios (and training data) cover, and the gap register.

Works on plain data: the ODD cells (each a mapping attribute → label, as the ODD parser enumerates
them), one :class:`ScenarioOutcome` per scenario and, optionally, the cells each dataset's ODD tags
cover. A scenario (or dataset cell) **covers** an ODD cell when it carries the cell's label for
every attribute of the cell; attributes the cell does not name do not matter, so cells may be
defined over a subset of the ODD's attributes.

Each cell without a passing scenario is a **gap**. Gaps are ranked by risk = severity × exposure
(S0–S3 × E0–E4, so 0–12):

* cells exercised only by failing scenarios take the largest S×E among them (basis ``failing``);
* cells no scenario exercises take the largest S×E among their *nearest* scenarios — those sharing
  the most attribute values with the cell (at least one) — since a neighbouring hazard is the best
  available estimate of what an untested cell risks (basis ``nearest``);
* cells sharing no attribute value with any scenario get risk 0 (basis ``none``).

Ties go to ``failing`` before ``nearest`` before ``none``, then to cells no dataset covers, then
to the cell key.

>>> cells = [{"environment.weather": "clear"}, {"environment.weather": "rain"}]
>>> runs = [ScenarioOutcome("cut-in", {"environment.weather": "clear"}, True, "S3", "E3")]
>>> cov = compute_coverage(cells, runs)
>>> [g.key for g in cov.gaps], cov.covered_fraction
(['environment.weather=rain'], 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._coverage_gaps import Gap, gap_for
from modelsteward.evaluation._report_fields import (
    OddValue,
    check_id,
    check_level,
    exposure_level,
    odd_tags,
    severity_level,
)

if TYPE_CHECKING:
    from modelsteward.evaluation.report import EvaluationReport

__all__ = [
    "COVERAGE_SCHEMA",
    "CellCoverage",
    "CoverageReport",
    "Gap",
    "ScenarioOutcome",
    "cell_key",
    "compute_coverage",
    "outcomes_from_report",
]

COVERAGE_SCHEMA = "https://modelsteward.dev/schemas/odd-coverage/v1"

Cell = tuple[tuple[str, str], ...]


def cell_key(cell: Cell) -> str:
    """``attr=label, attr=label`` in attribute order: how a cell is named in reports."""
    return ", ".join(f"{a}={v}" for a, v in cell)


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """One scenario as coverage sees it.

    Attributes:
        scenario_id: Scenario id.
        odd: Its ODD tags (attribute → value; ranges binned to the cell labels).
        passed: Whether it passed (every repetition).
        severity: ``S0``…``S3``.
        exposure: ``E0``…``E4``.
    """

    scenario_id: str
    odd: Mapping[str, OddValue]
    passed: bool
    severity: str
    exposure: str

    def __post_init__(self) -> None:
        where = f"scenario {self.scenario_id!r}"
        check_id(self.scenario_id, "scenario")
        check_level("S", self.severity, where)
        check_level("E", self.exposure, where)
        odd_tags(self.odd, where)

    @property
    def risk(self) -> int:
        """Severity × exposure, 0–12."""
        return severity_level(self.severity) * exposure_level(self.exposure)


@dataclass(frozen=True, slots=True)
class CellCoverage:
    """One row of the coverage matrix.

    Attributes:
        cell: The cell as sorted ``(attribute, label)`` pairs.
        passing: Ids of passing scenarios in the cell.
        failing: Ids of failing scenarios in the cell.
        datasets: Names of datasets whose ODD tags cover the cell.
    """

    cell: Cell
    passing: tuple[str, ...]
    failing: tuple[str, ...]
    datasets: tuple[str, ...]

    @property
    def key(self) -> str:
        """The cell's name."""
        return cell_key(self.cell)

    @property
    def covered(self) -> bool:
        """At least one passing scenario exercises the cell."""
        return bool(self.passing)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "key": self.key,
            "cell": dict(self.cell),
            "covered": self.covered,
            "passing": list(self.passing),
            "failing": list(self.failing),
            "datasets": list(self.datasets),
        }


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """The coverage matrix and the ranked gap register.

    Attributes:
        cells: One row per ODD cell, in the order given.
        gaps: Cells without a passing scenario, highest risk first (``rank`` 1 is the worst).
        outside: Ids of scenarios that match no cell (tagged outside the cells given).
        datasets: Names of the datasets considered.
    """

    cells: tuple[CellCoverage, ...]
    gaps: tuple[Gap, ...]
    outside: tuple[str, ...]
    datasets: tuple[str, ...]

    @property
    def covered_fraction(self) -> float:
        """Share of cells with a passing scenario."""
        return sum(1 for c in self.cells if c.covered) / len(self.cells)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        covered = sum(1 for c in self.cells if c.covered)
        return {
            "$schema": COVERAGE_SCHEMA,
            "totals": {
                "cells": len(self.cells),
                "covered": covered,
                "gaps": len(self.gaps),
                "covered_fraction": self.covered_fraction,
            },
            "datasets": list(self.datasets),
            "cells": [c.to_dict() for c in self.cells],
            "gaps": [g.to_dict() for g in self.gaps],
            "outside": list(self.outside),
        }


class _Index:
    """Items by their labels projected onto an attribute set, so matching a cell is a lookup."""

    def __init__(self, items: Iterable[tuple[str, Cell]]) -> None:
        self._items = [(name, dict(tags)) for name, tags in items]
        self._by_attributes: dict[tuple[str, ...], dict[tuple[str, ...], list[str]]] = {}

    def matching(self, cell: Cell) -> list[str]:
        attributes = tuple(a for a, _ in cell)
        table = self._by_attributes.get(attributes)
        if table is None:
            table = {}
            for name, tags in self._items:
                if all(a in tags for a in attributes):
                    table.setdefault(tuple(tags[a] for a in attributes), []).append(name)
            self._by_attributes[attributes] = table
        return sorted(set(table.get(tuple(v for _, v in cell), [])))


def _cells(cells: Sequence[Mapping[str, OddValue]]) -> list[Cell]:
    if not cells:
        raise InvalidInput("the ODD has no cells to cover", hint="check the ODD file's attributes")
    out = [odd_tags(c, f"ODD cell #{i}") for i, c in enumerate(cells)]
    seen: set[Cell] = set()
    for cell in out:
        if cell in seen:
            raise InvalidInput(f"ODD cell {cell_key(cell)!r} is listed twice")
        seen.add(cell)
    return out


def _rows(
    cells: Sequence[Cell],
    scenarios: Sequence[ScenarioOutcome],
    tags: Mapping[str, Cell],
    datasets: Mapping[str, Iterable[Mapping[str, OddValue]]],
) -> list[CellCoverage]:
    """One matrix row per cell."""
    passed = {s.scenario_id: s.passed for s in scenarios}
    index = _Index(tags.items())
    data_index = _Index(
        (name, odd_tags(c, f"dataset {name!r}"))
        for name, covered in datasets.items()
        for c in covered
    )
    rows = []
    for cell in cells:
        inside = index.matching(cell)
        rows.append(
            CellCoverage(
                cell=cell,
                passing=tuple(i for i in inside if passed[i]),
                failing=tuple(i for i in inside if not passed[i]),
                datasets=tuple(data_index.matching(cell)),
            )
        )
    return rows


def compute_coverage(
    cells: Sequence[Mapping[str, OddValue]],
    scenarios: Sequence[ScenarioOutcome],
    datasets: Mapping[str, Iterable[Mapping[str, OddValue]]] | None = None,
) -> CoverageReport:
    """The coverage matrix of ``cells`` and its gap register.

    Args:
        cells: ODD cells, each attribute → label.
        scenarios: Scenario outcomes (ids unique).
        datasets: Dataset name → the cells its ODD tags cover (optional).

    Raises:
        InvalidInput: no cells, a duplicate cell or scenario id, or a malformed label.
    """
    odd_cells = _cells(cells)
    ids = [s.scenario_id for s in scenarios]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise InvalidInput(f"scenario ids listed twice: {twice}")
    tags = {s.scenario_id: odd_tags(s.odd, s.scenario_id) for s in scenarios}
    rows = _rows(odd_cells, scenarios, tags, datasets or {})
    ratings = {s.scenario_id: (s.severity, s.exposure) for s in scenarios}
    gaps = [
        gap_for(row.cell, row.failing, row.datasets, ratings, tags, datasets_given=bool(datasets))
        for row in rows
        if not row.covered
    ]
    gaps.sort(key=lambda g: g.order())
    used = {i for row in rows for i in (*row.passing, *row.failing)}
    return CoverageReport(
        cells=tuple(rows),
        gaps=tuple(g.ranked(i + 1) for i, g in enumerate(gaps)),
        outside=tuple(sorted(set(ids) - used)),
        datasets=tuple(sorted(datasets or {})),
    )


def outcomes_from_report(report: EvaluationReport) -> list[ScenarioOutcome]:
    """The scenario outcomes of an evaluation report (tags, verdict, severity, exposure)."""
    return [
        ScenarioOutcome(s.scenario_id, dict(s.odd), s.passed, s.severity, s.exposure)
        for s in report.scenarios
    ]
