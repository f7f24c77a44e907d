"""Gap register entries: the risk of an uncovered ODD cell, and why.

>>> fog_night = (("environment.time_of_day", "night"), ("environment.weather", "fog"))
>>> g = gap_for(fog_night, (), (), {"a": ("S2", "E3")},
...             {"a": (("environment.time_of_day", "day"), ("environment.weather", "fog"))},
...             datasets_given=False)
>>> g.basis, g.risk, g.shared
('nearest', 6, 1)
>>> g = gap_for((("environment.weather", "fog"),), ("a",), (), {"a": ("S2", "E3")},
...             {"a": (("environment.weather", "fog"),)}, datasets_given=False)
>>> g.basis, g.risk, g.reason
('failing', 6, 'exercised only by failing scenarios: a (S2×E3=6)')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelsteward.evaluation._report_fields import exposure_level, severity_level

__all__ = ["BASES", "Gap", "gap_for"]

BASES = ("failing", "nearest", "none")
_LISTED = 5

Cell = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """A cell with no passing scenario.

    Attributes:
        rank: Position in the register, 1 = highest risk.
        cell: The cell as sorted ``(attribute, label)`` pairs.
        risk: Severity × exposure (0–12) the ranking uses.
        basis: ``failing`` (scenarios here all fail), ``nearest`` (no scenario here; risk of the
            scenarios sharing most attribute values) or ``none`` (nothing related).
        scenarios: The scenarios the risk was taken from.
        shared: For ``nearest``, how many of the cell's attribute values they share.
        datasets: Datasets whose ODD tags cover the cell.
        reason: One sentence saying why the cell is a gap and where its risk comes from.
    """

    rank: int
    cell: Cell
    risk: int
    basis: str
    scenarios: tuple[str, ...]
    shared: int
    datasets: tuple[str, ...]
    reason: str

    @property
    def key(self) -> str:
        """The cell's name, ``attr=label, attr=label``."""
        return ", ".join(f"{a}={v}" for a, v in self.cell)

    def order(self) -> tuple[int, int, bool, str]:
        """Sort key: risk, then basis, then cells no dataset covers, then the key."""
        return (-self.risk, BASES.index(self.basis), bool(self.datasets), self.key)

    def ranked(self, rank: int) -> Gap:
        """This gap at position ``rank``."""
        return dataclasses.replace(self, rank=rank)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "rank": self.rank,
            "key": self.key,
            "cell": dict(self.cell),
            "risk": self.risk,
            "basis": self.basis,
            "scenarios": list(self.scenarios),
            "shared": self.shared,
            "datasets": list(self.datasets),
            "reason": self.reason,
        }


def _risk(rating: tuple[str, str]) -> int:
    return severity_level(rating[0]) * exposure_level(rating[1])


def _named(ids: Sequence[str], ratings: Mapping[str, tuple[str, str]]) -> str:
    shown = [f"{i} ({ratings[i][0]}×{ratings[i][1]}={_risk(ratings[i])})" for i in ids[:_LISTED]]
    more = len(ids) - _LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _nearest(
    cell: Cell, tags: Mapping[str, Cell], ratings: Mapping[str, tuple[str, str]]
) -> tuple[int, int, tuple[str, ...]]:
    """(shared count, risk, scenarios at that risk) of the scenarios nearest to ``cell``."""
    labels = set(cell)
    shared = {i: len(labels & set(t)) for i, t in tags.items()}
    best = max(shared.values(), default=0)
    if best == 0:
        return 0, 0, ()
    nearest = [i for i, n in shared.items() if n == best]
    risk = max(_risk(ratings[i]) for i in nearest)
    return best, risk, tuple(sorted(i for i in nearest if _risk(ratings[i]) == risk))


def gap_for(
    cell: Cell,
    failing: Sequence[str],
    datasets: Sequence[str],
    ratings: Mapping[str, tuple[str, str]],
    tags: Mapping[str, Cell],
    *,
    datasets_given: bool,
) -> Gap:
    """The (unranked) gap entry of an uncovered ``cell``.

    Args:
        cell: The cell.
        failing: Ids of the failing scenarios in the cell.
        datasets: Datasets covering the cell.
        ratings: Scenario id → (severity, exposure).
        tags: Scenario id → its ODD tags.
        datasets_given: Whether dataset coverage was asked for (it is then named in the reason).
    """
    if failing:
        risk = max(_risk(ratings[i]) for i in failing)
        basis, chosen, shared = "failing", tuple(sorted(failing)), len(cell)
        reason = f"exercised only by failing scenarios: {_named(chosen, ratings)}"
    else:
        shared, risk, chosen = _nearest(cell, tags, ratings)
        basis = "nearest" if chosen else "none"
        reason = (
            f"no scenario exercises this cell; the nearest share {shared} of {len(cell)} "
            f"attribute values: {_named(chosen, ratings)}"
            if chosen
            else "no scenario exercises this cell or shares any attribute value with it"
        )
    if datasets_given:
        reason += (
            f"; training data: {', '.join(datasets)}"
            if datasets
            else "; no training data covers it either"
        )
    return Gap(0, cell, risk, basis, chosen, shared, tuple(datasets), reason)
