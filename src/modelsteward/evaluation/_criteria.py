"""Pass criteria of a closed-loop scenario, each with a signed margin (positive = passing).

Outcomes are the report's :class:`~modelsteward.evaluation.report.CriterionOutcome`, so a runner
hands them to the report as they are. ``no_collision`` is scored as numbers: value 1 (no crash)
or 0, threshold 1, margin +1 or -1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.report import CriterionOutcome

if TYPE_CHECKING:
    from modelsteward.evaluation.closed_loop import EpisodeResult

__all__ = ["CRITERIA", "criteria_passed", "evaluate_criteria"]


def _floor(attribute: str) -> Callable[[EpisodeResult, float], tuple[float, float]]:
    def check(result: EpisodeResult, limit: float) -> tuple[float, float]:
        value = float(getattr(result, attribute))
        return value, value - limit

    return check


def _ceiling(attribute: str) -> Callable[[EpisodeResult, float], tuple[float, float]]:
    def check(result: EpisodeResult, limit: float) -> tuple[float, float]:
        value = float(getattr(result, attribute))
        return value, limit - value

    return check


CRITERIA: dict[str, Callable[[EpisodeResult, float], tuple[float, float]]] = {
    "min_ttc_s": _floor("min_ttc_s"),
    "min_headway_s": _floor("min_headway_s"),
    "min_route_completion": _floor("route_completion"),
    "max_decel_mps2": _ceiling("max_decel_mps2"),
    "max_lane_departures": _ceiling("lane_departures"),
}
"""Numeric criteria: name → (result, limit) → (value reached, margin)."""


def _number(name: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidInput(f"criteria.{name}: expected a number, got {raw!r}")
    return float(raw)


def evaluate_criteria(
    result: EpisodeResult, criteria: Mapping[str, Any]
) -> dict[str, CriterionOutcome]:
    """Check every criterion of a scenario against one episode.

    Args:
        result: The episode.
        criteria: The scenario's ``criteria`` mapping (``no_collision``, ``min_ttc_s``,
            ``min_headway_s``, ``max_decel_mps2``, ``max_lane_departures``,
            ``min_route_completion``). ``no_collision: false`` switches that check off.

    Returns:
        Outcomes by criterion name, in the order given.

    Raises:
        InvalidInput: No criteria (fail closed), an unknown criterion, or a non-numeric limit.
    """
    if not criteria:
        raise InvalidInput("a scenario needs at least one pass criterion", hint="add criteria:")
    outcomes: dict[str, CriterionOutcome] = {}
    for name, raw in criteria.items():
        if name == "no_collision":
            if not isinstance(raw, bool):
                raise InvalidInput(f"criteria.no_collision: expected true or false, got {raw!r}")
            if raw:
                margin = -1.0 if result.collision else 1.0
                held = not result.collision
                outcomes[name] = CriterionOutcome(name, 1.0 if held else 0.0, 1.0, margin)
            continue
        check = CRITERIA.get(name)
        if check is None:
            known = ", ".join(["no_collision", *CRITERIA])
            raise InvalidInput(f"criteria.{name}: unknown criterion", hint=f"known: {known}")
        limit = _number(name, raw)
        value, margin = check(result, limit)
        outcomes[name] = CriterionOutcome(name, value, limit, margin)
    return outcomes


def criteria_passed(outcomes: Mapping[str, CriterionOutcome]) -> bool:
    """True when every outcome passed (and there is at least one: fail closed)."""
    return bool(outcomes) and all(outcome.passed for outcome in outcomes.values())
