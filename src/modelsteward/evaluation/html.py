"""Self-contained, print-friendly HTML for evaluation reports, regressions and ODD coverage.

No JavaScript and no external assets: charts are inline SVG, styles are inline CSS, and every piece
of text from a report (titles, ids, labels) is escaped.

>>> from modelsteward.evaluation.coverage import ScenarioOutcome, compute_coverage
>>> fog = {"environment.weather": "fog"}
>>> cov = compute_coverage([fog], [ScenarioOutcome("a<b", fog, False, "S2", "E3")])
>>> page = render_coverage_html(cov)
>>> page.startswith("<!DOCTYPE html>"), "a&lt;b" in page, "<script" in page
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from modelsteward.evaluation._html_svg import RateBar, rate_bars_svg, reliability_svg
from modelsteward.evaluation._regression_text import number
from modelsteward.evaluation.baseline import Regression, RegressionReport, ScenarioChange
from modelsteward.evaluation.coverage import CellCoverage, CoverageReport
from modelsteward.evaluation.report import EvaluationReport, ScenarioSummary

__all__ = ["render_coverage_html", "render_report_html"]

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1b1b; margin: 2em auto; max-width: 62em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; }
dl.meta dt { font-weight: 600; } code { font-size: 0.9em; word-break: break-all; }
tr.fail td { background: #fde8e8; }
.critical { color: #8b0000; font-weight: 600; } .ok { color: #1d6b2f; }
.frame { fill: none; stroke: #888; } .bar { fill: #4a78b5; } .diagonal { stroke: #c0392b;
  stroke-dasharray: 4 3; } .err { stroke: #111; stroke-width: 1.5; } .grid { stroke: #ddd; }
.conf { stroke: #e67e22; stroke-width: 2; }
.tick, .label { font-size: 11px; } .axis { font-size: 12px; }
@media print { body { margin: 0; max-width: none; } section { break-inside: avoid; }
  tr.fail td, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
""".strip()


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _page(title: str, body: Sequence[str]) -> str:
    head = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
    )
    return head + f"<h1>{_e(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _interval(low: float, high: float) -> str:
    return f"[{_pct(low)}, {_pct(high)}]"


def _meta(report: EvaluationReport) -> str:
    rows = [
        ("Model", report.model_ref),
        ("Model digest", report.model_digest),
        ("Suite digest", report.suite_digest),
        ("ODD digest", report.odd_digest or "none"),
        ("Created", report.created_at),
        ("Report digest", str(report.digest)),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd><code>{_e(v)}</code></dd>" for k, v in rows)
    return f'<dl class="meta">{items}</dl>'


def _summary(report: EvaluationReport) -> str:
    t = report.totals
    level = f"{report.confidence_level * 100:g}%"
    items = [
        f"Scenarios: {t.scenarios} ({t.passed} passed, {t.failed} failed, {t.flaky} flaky)",
        f"Repetitions passed: {t.repetition_passes}/{t.repetitions} = {_pct(t.pass_rate)}, "
        f"Wilson {level} {_interval(*t.interval)}",
    ]
    if report.calibration is not None:
        c = report.calibration
        items.append(f"Calibration: ECE {c.ece:.3f}, MCE {c.mce:.3f} over {c.samples} steps")
    if report.abstention_rate is not None:
        items.append(
            f"Abstention: {_pct(report.abstention_rate)} of steps below confidence "
            f"{report.abstention_threshold:g}"
        )
    if report.latency is not None:
        lat = report.latency
        items.append(
            f"Latency (ms): p50 {lat.p50:.3f}, p90 {lat.p90:.3f}, p99 {lat.p99:.3f}, "
            f"max {lat.max:.3f}, mean {lat.mean:.3f} over {lat.count} calls"
        )
    lis = "".join(f"<li>{_e(i)}</li>" for i in items)
    return f'<section id="summary">\n<h2>Summary</h2>\n<ul>{lis}</ul>\n</section>'


def _change_list(title: str, items: Sequence[Regression | ScenarioChange], css: str) -> str:
    if not items:
        return ""
    cls = f' class="{css}"' if css else ""
    lis = "".join(f"<li{cls}>{_e(i.explanation)}</li>" for i in items)
    return f"<h3>{_e(title)} ({len(items)})</h3>\n<ul>{lis}</ul>"


def _regressions(reg: RegressionReport) -> str:
    verdict = (
        f'<p><strong class="critical">{len(reg.critical)} critical regression(s)</strong></p>'
        if reg.has_critical
        else '<p class="ok"><strong>No critical regressions.</strong></p>'
    )
    parts = [
        '<section id="regressions">',
        "<h2>Regressions against the baseline</h2>",
        f"<p>Baseline <code>{_e(reg.baseline_digest)}</code> (report "
        f"<code>{_e(reg.baseline_report_digest)}</code>).</p>",
        verdict,
    ]
    if reg.suite_changed:
        parts.append("<p>The scenario suite differs from the baseline's.</p>")
    parts += [
        _change_list("Critical regressions", reg.critical, "critical"),
        _change_list("Non-critical regressions", reg.non_critical, ""),
        _change_list("Improvements", reg.improvements, ""),
        _change_list("New scenarios", reg.new, ""),
        _change_list("Removed scenarios", reg.removed, ""),
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def _reliability(report: EvaluationReport) -> str:
    head = '<section id="calibration">\n<h2>Reliability diagram</h2>'
    if report.calibration is None:
        return f"{head}\n<p>The model reported no confidences.</p>\n</section>"
    c = report.calibration
    note = (
        f"<p>Accuracy per confidence bin (bars) and the bin's mean confidence (ticks) against "
        "perfect calibration (dashed). "
        f"ECE {c.ece:.3f}, MCE {c.mce:.3f}, {c.samples} steps.</p>"
    )
    return f"{head}\n{note}\n{reliability_svg(c)}\n</section>"


def _slices(report: EvaluationReport) -> str:
    bars: list[RateBar] = [
        (s.key, s.pass_rate, s.interval[0], s.interval[1], f"{s.passes}/{s.repetitions}")
        for s in report.slices
    ]
    level = f"{report.confidence_level * 100:g}%"
    title = f"Pass rate per ODD slice with Wilson {level} intervals"
    return (
        f'<section id="slices">\n<h2>Pass rate per ODD slice</h2>\n'
        f"<p>Repetitions passed per ODD attribute value; whiskers show the Wilson {level} "
        f"interval.</p>\n{rate_bars_svg(bars, title)}\n</section>"
    )


def _scenario_row(s: ScenarioSummary) -> str:
    margins = "<br>".join(f"{_e(c.name)}: {_e(number(c.worst_margin))}" for c in s.criteria)
    cells = [
        f"<td><code>{_e(s.scenario_id)}</code></td>",
        f"<td>{_e(s.title)}</td>",
        f"<td>{_e(s.asil)}</td>",
        f"<td>{_e(f'{s.severity}/{s.exposure}/{s.controllability}')}</td>",
        f"<td>{'passed' if s.passed else 'failed'}</td>",
        f'<td class="num">{s.passes}/{s.repetitions}</td>',
        f'<td class="num">{_e(_interval(*s.interval))}</td>',
        f"<td>{margins or '—'}</td>",
        f"<td>{'yes' if s.flaky else 'no'}</td>",
    ]
    cls = "" if s.passed else ' class="fail"'
    return f"<tr{cls}>{''.join(cells)}</tr>"


_SCENARIO_COLUMNS = (
    "Scenario",
    "Title",
    "ASIL",
    "S/E/C",
    "Verdict",
    "Passed",
    "Wilson",
    "Worst margins",
    "Flaky",
)


def _scenarios(report: EvaluationReport) -> str:
    head = "".join(f"<th>{h}</th>" for h in _SCENARIO_COLUMNS)
    rows = "\n".join(_scenario_row(s) for s in report.scenarios)
    return (
        f'<section id="scenarios">\n<h2>Scenarios</h2>\n<table>\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>\n</section>"
    )


def _frame_slices(report: EvaluationReport) -> str:
    """Per-ODD-slice frame accuracy of each logged-replay scenario (empty without replays)."""
    level = f"{report.confidence_level * 100:g}%"
    parts = []
    for s in report.scenarios:
        if not s.frame_slices:
            continue
        bars: list[RateBar] = [
            (f.key, f.accuracy, f.interval[0], f.interval[1], f"{f.correct}/{f.frames}")
            for f in s.frame_slices
        ]
        title = f"Frame accuracy per ODD slice of {s.scenario_id}"
        parts.append(f"<h3><code>{_e(s.scenario_id)}</code></h3>\n{rate_bars_svg(bars, title)}")
    if not parts:
        return ""
    return (
        '<section id="replay">\n<h2>Logged replay: accuracy per ODD slice</h2>\n'
        f"<p>Frames where the model chose the labelled action; whiskers show the Wilson {level} "
        "interval.</p>\n" + "\n".join(parts) + "\n</section>"
    )


def render_report_html(
    report: EvaluationReport,
    regressions: RegressionReport | None = None,
    *,
    title: str = "Evaluation report",
) -> str:
    """The evaluation report (and its regressions, if given) as one HTML page."""
    body = [_meta(report), _summary(report)]
    if regressions is not None:
        body.append(_regressions(regressions))
    body += [_reliability(report), _slices(report), _frame_slices(report), _scenarios(report)]
    return _page(title, [part for part in body if part])


def _gap_table(cov: CoverageReport) -> str:
    if not cov.gaps:
        return '<p class="ok">Every cell has a passing scenario.</p>'
    rows = "\n".join(
        f'<tr><td class="num">{g.rank}</td><td><code>{_e(g.key)}</code></td>'
        f'<td class="num">{g.risk}</td><td>{_e(g.basis)}</td><td>{_e(g.reason)}</td></tr>'
        for g in cov.gaps
    )
    return (
        "<table>\n<thead><tr><th>Rank</th><th>Cell</th><th>S×E</th><th>Basis</th>"
        f"<th>Reason</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
    )


def _matrix_row(cell: CellCoverage) -> str:
    cls = "" if cell.covered else ' class="fail"'
    lists = (cell.passing, cell.failing, cell.datasets)
    tds = "".join(f"<td>{_e(', '.join(names) or '—')}</td>" for names in lists)
    return f"<tr{cls}><td><code>{_e(cell.key)}</code></td>{tds}</tr>"


def _matrix(cov: CoverageReport, limit: int) -> str:
    shown = cov.cells[:limit]
    rows = "\n".join(_matrix_row(c) for c in shown)
    more = len(cov.cells) - len(shown)
    note = f"\n<p>{more} more cells are listed in the JSON report.</p>" if more > 0 else ""
    return (
        "<table>\n<thead><tr><th>Cell</th><th>Passing scenarios</th><th>Failing scenarios</th>"
        f"<th>Datasets</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>{note}"
    )


def render_coverage_html(
    coverage: CoverageReport, *, title: str = "ODD coverage", matrix_limit: int = 500
) -> str:
    """The gap register and the coverage matrix (first ``matrix_limit`` cells) as one HTML page."""
    covered = sum(1 for c in coverage.cells if c.covered)
    summary = (
        f"<p>{covered} of {len(coverage.cells)} ODD cells ({_pct(coverage.covered_fraction)}) "
        f"have a passing scenario; {len(coverage.gaps)} gaps.</p>"
    )
    if coverage.outside:
        summary += f"\n<p>Scenarios outside every cell: {_e(', '.join(coverage.outside))}.</p>"
    body = [
        f'<section id="coverage-summary">\n{summary}\n</section>',
        f'<section id="gaps">\n<h2>Gap register</h2>\n'
        f"<p>Cells without a passing scenario, ranked by severity × exposure.</p>\n"
        f"{_gap_table(coverage)}\n</section>",
        f'<section id="matrix">\n<h2>Coverage matrix</h2>\n{_matrix(coverage, matrix_limit)}\n'
        "</section>",
    ]
    return _page(title, body)
