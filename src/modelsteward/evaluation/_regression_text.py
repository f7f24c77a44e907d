"""The one-sentence explanations regressions and changes carry.

>>> headline("merge", "S1", "QM")
'merge (S1, QM)'
>>> text = explain("merge", "S2", "B", (4, 4), (4, 4), [("min_headway_s", 0.5, 0.1, 0.2)])
>>> for part in text.split("; "):
...     print(part)
merge (S2, ASIL B): passed 4/4 in the baseline, 4/4 now
min_headway_s margin 0.5 → 0.1 (drop 0.4 > tolerance 0.2)
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["explain", "headline", "number"]


def number(value: float) -> str:
    """A short, stable rendering of a margin: at most three decimals, no trailing zeros."""
    if value != 0 and abs(value) < 0.001:
        return f"{value:.2e}"
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def headline(scenario_id: str, severity: str, asil: str) -> str:
    """``id (S3, ASIL C)``; QM is written bare."""
    rating = asil if asil == "QM" else f"ASIL {asil}"
    return f"{scenario_id} ({severity}, {rating})"


def _margin(
    criterion: str, before: float | None, after: float | None, tolerance: float | None
) -> str:
    if before is None:
        return f"{criterion} margin {number(after or 0.0)} (not measured in the baseline)"
    if after is None:
        return f"{criterion} margin {number(before)} → not measured now"
    text = f"{criterion} margin {number(before)} → {number(after)}"
    if tolerance is not None and before - after > tolerance + 1e-9:
        text += f" (drop {number(before - after)} > tolerance {number(tolerance)})"
    return text


def explain(
    scenario_id: str,
    severity: str,
    asil: str,
    baseline: tuple[int, int],
    current: tuple[int, int],
    margins: Sequence[tuple[str, float | None, float | None, float | None]],
) -> str:
    """``id (S, ASIL): passed a/b in the baseline, c/d now; crit margin x → y; …``."""
    parts = [
        f"{headline(scenario_id, severity, asil)}: passed {baseline[0]}/{baseline[1]} in the "
        f"baseline, {current[0]}/{current[1]} now"
    ]
    parts += [_margin(*row) for row in margins]
    return "; ".join(parts)
