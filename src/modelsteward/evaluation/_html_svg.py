"""Inline SVG charts for the HTML reports: reliability diagram and pass-rate bars with error bars.

Coordinates are written with one decimal so the markup is stable across platforms.

>>> from modelsteward.evaluation.stats import calibration
>>> reliability_svg(calibration([0.9, 0.2], [True, False], bins=2)).startswith("<svg")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from modelsteward.evaluation.stats import Calibration

__all__ = ["RateBar", "rate_bars_svg", "reliability_svg"]

_PLOT = 240.0  # side of the reliability plot area, px
_LEFT, _TOP = 44.0, 12.0
_ROW = 20.0  # height of one pass-rate bar row, px
_LABEL_W = 300.0
_BAR_W = 260.0
_LABEL_CHARS = 48  # what fits in _LABEL_W at 11px; longer labels are cut, in full in <title>

RateBar = tuple[str, float, float, float, str]
"""(label, rate, low, high, annotation) for one bar."""


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _axes(label_x: str, label_y: str) -> list[str]:
    x0, y0, side = _LEFT, _TOP + _PLOT, _PLOT
    out = [
        f'<rect x="{_f(x0)}" y="{_f(_TOP)}" width="{_f(side)}" height="{_f(side)}" class="frame"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        x, y = x0 + tick * side, y0 - tick * side
        out.append(
            f'<text x="{_f(x)}" y="{_f(y0 + 14)}" class="tick" text-anchor="middle">{tick:g}</text>'
        )
        out.append(
            f'<text x="{_f(x0 - 6)}" y="{_f(y + 4)}" class="tick" text-anchor="end">{tick:g}</text>'
        )
    out.append(
        f'<text x="{_f(x0 + side / 2)}" y="{_f(y0 + 30)}" class="axis" '
        f'text-anchor="middle">{escape(label_x)}</text>'
    )
    out.append(
        f'<text x="12" y="{_f(_TOP + side / 2)}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 12 {_f(_TOP + side / 2)})">{escape(label_y)}</text>'
    )
    return out


def reliability_svg(cal: Calibration) -> str:
    """Accuracy per confidence bin as bars against the diagonal of perfect calibration."""
    width, height = _LEFT + _PLOT + 12, _TOP + _PLOT + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-labelledby="rd-title">',
        f'<title id="rd-title">Reliability diagram: ECE {cal.ece:.3f}, MCE {cal.mce:.3f}, '
        f"{cal.samples} samples</title>",
    ]
    parts += _axes("confidence", "accuracy")
    y0 = _TOP + _PLOT
    for b in cal.bins:
        if b.accuracy is None:
            continue
        x = _LEFT + b.lower * _PLOT
        w = (b.upper - b.lower) * _PLOT
        h = b.accuracy * _PLOT
        conf_y = y0 - (b.mean_confidence or 0.0) * _PLOT
        parts.append(
            f'<rect x="{_f(x + 1)}" y="{_f(y0 - h)}" width="{_f(max(w - 2, 1))}" '
            f'height="{_f(h)}" class="bar"><title>{b.lower:g}–{b.upper:g}: accuracy '
            f"{b.accuracy:.3f}, mean confidence {b.mean_confidence or 0:.3f}, n={b.count}"
            "</title></rect>"
        )
        # The bin's mean confidence as a tick, so a bar of accuracy 0 still shows its gap.
        parts.append(
            f'<line x1="{_f(x + 1)}" y1="{_f(conf_y)}" x2="{_f(x + max(w - 1, 2))}" '
            f'y2="{_f(conf_y)}" class="conf"/>'
        )
    parts.append(
        f'<line x1="{_f(_LEFT)}" y1="{_f(y0)}" x2="{_f(_LEFT + _PLOT)}" y2="{_f(_TOP)}" '
        'class="diagonal"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _bar_row(i: int, bar: RateBar) -> list[str]:
    label, rate, low, high, note = bar
    y = _TOP + i * _ROW
    x0 = _LABEL_W
    mid = y + _ROW / 2
    lo, hi = x0 + low * _BAR_W, x0 + high * _BAR_W
    shown = label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"
    return [
        f'<text x="{_f(x0 - 6)}" y="{_f(mid + 4)}" class="label" text-anchor="end">'
        f"<title>{escape(label)}</title>{escape(shown)}</text>",
        f'<rect x="{_f(x0)}" y="{_f(y + 4)}" width="{_f(rate * _BAR_W)}" '
        f'height="{_f(_ROW - 8)}" class="bar"/>',
        f'<line x1="{_f(lo)}" y1="{_f(mid)}" x2="{_f(hi)}" y2="{_f(mid)}" class="err"/>',
        f'<line x1="{_f(lo)}" y1="{_f(mid - 5)}" x2="{_f(lo)}" y2="{_f(mid + 5)}" class="err"/>',
        f'<line x1="{_f(hi)}" y1="{_f(mid - 5)}" x2="{_f(hi)}" y2="{_f(mid + 5)}" class="err"/>',
        f'<text x="{_f(x0 + _BAR_W + 8)}" y="{_f(mid + 4)}" class="tick">{escape(note)}</text>',
    ]


def rate_bars_svg(bars: Sequence[RateBar], title: str) -> str:
    """Horizontal pass-rate bars on [0, 1], each with its Wilson interval as an error bar."""
    width = _LABEL_W + _BAR_W + 120
    height = _TOP + len(bars) * _ROW + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-labelledby="sb-title">',
        f'<title id="sb-title">{escape(title)}</title>',
    ]
    for i, bar in enumerate(bars):
        parts += _bar_row(i, bar)
    base = _TOP + len(bars) * _ROW
    for tick in (0.0, 0.5, 1.0):
        x = _LABEL_W + tick * _BAR_W
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(_TOP)}" x2="{_f(x)}" y2="{_f(base)}" class="grid"/>'
        )
        parts.append(
            f'<text x="{_f(x)}" y="{_f(base + 14)}" class="tick" '
            f'text-anchor="middle">{tick:g}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
