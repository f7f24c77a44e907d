"""HTML reports: self-contained, escaped, and pinned by golden files."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evaluation_factories import repetition, report, scenario
from modelsteward.evaluation.baseline import Baseline, compare
from modelsteward.evaluation.coverage import ScenarioOutcome, compute_coverage
from modelsteward.evaluation.html import render_coverage_html, render_report_html
from modelsteward.evaluation.report import EvaluationReport, ScenarioResult

GOLDEN = Path(__file__).parent / "golden"
W, D = "environment.weather", "dynamic_elements.traffic_density"
_VOID = {"meta", "br"}  # HTML void elements we emit; SVG ones self-close


class _Balance(HTMLParser):
    """Fails on an end tag that does not close the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _assert_well_formed(page: str) -> None:
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert checker.stack == []


def _small_report(title: str = "Aggressive cut-in in dense traffic") -> EvaluationReport:
    steps = [(0.95, True), (0.85, True), (0.65, False), (0.55, True), (0.15, False)]
    cut_in = ScenarioResult(
        "cut-in-aggressive-dense",
        title,
        "C",
        "S3",
        "E3",
        "C2",
        {W: "clear", D: "dense"},
        tuple(
            repetition(
                1000 + i,
                {"min_ttc_s": m, "no_collision": 0.0},
                steps=steps,
                latencies_ns=[1_200_000 + 100_000 * i],
            )
            for i, m in enumerate([0.6, -0.4, 0.2, 0.3])
        ),
    )
    nominal = scenario(
        "nominal-light",
        [{"min_ttc_s": 2.5}] * 4,
        severity="S1",
        asil="QM",
        odd={W: "rain", D: "light"},
    )
    replayed = ScenarioResult(
        "replay-held-out",
        "Held-out <teacher> frames",
        "QM",
        "S1",
        "E4",
        "C1",
        {W: "clear"},
        (repetition(1, {"min_accuracy": 0.05}),),
        frame_slices={f"{W}=clear": (40, 38), f"{W}=rain": (20, 9)},
    )
    return report([cut_in, nominal, replayed])


def _small_regressions(now: EvaluationReport) -> object:
    locked = report(
        [
            scenario(
                "cut-in-aggressive-dense", [{"min_ttc_s": 0.8}] * 4, odd={W: "clear", D: "dense"}
            )
        ]
    )
    return compare(
        Baseline.from_report(locked), now, {"cut-in-aggressive-dense": {"min_ttc_s": 0.3}}
    )


def _small_coverage() -> object:
    cells = [{W: w, D: d} for w in ("clear", "rain") for d in ("light", "dense")]
    outcomes = [
        ScenarioOutcome("cut-in-aggressive-dense", {W: "clear", D: "dense"}, False, "S3", "E3"),
        ScenarioOutcome("nominal-light", {W: "rain", D: "light"}, True, "S1", "E4"),
    ]
    return compute_coverage(cells, outcomes, {"highd": [{W: "clear", D: "dense"}]})


def _golden(name: str, text: str) -> None:
    # To regenerate after an intended change, run
    #   UPDATE_GOLDEN=1 .venv/bin/pytest tests/evaluation -k golden
    # and review the diff of tests/evaluation/golden/ before keeping it.
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_report_html_matches_the_golden_file() -> None:
    now = _small_report()
    _golden("report.html", render_report_html(now, _small_regressions(now)))  # type: ignore[arg-type]


def test_coverage_html_matches_the_golden_file() -> None:
    _golden("coverage.html", render_coverage_html(_small_coverage()))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "page",
    [
        lambda: render_report_html(_small_report()),
        lambda: render_report_html(report([scenario("a", [{"min_ttc_s": 1.0}])])),
        lambda: render_coverage_html(_small_coverage()),  # type: ignore[arg-type]
    ],
)
def test_html_is_self_contained_and_well_formed(page: object) -> None:
    text = page()  # type: ignore[operator]
    assert "<script" not in text.lower()
    for external in (" src=", " href=", "@import", "url("):
        assert external not in text
    _assert_well_formed(text)


def test_html_escapes_scenario_titles() -> None:
    page = render_report_html(_small_report(title='<img src=x onerror="alert(1)"> & co'))
    assert "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in page


def test_html_escapes_odd_labels_in_the_slice_chart() -> None:
    made = report([scenario("a", [{"min_ttc_s": 1.0}], odd={W: "<rain>"})])
    page = render_report_html(made)
    assert "<rain>" not in page
    assert "environment.weather=&lt;rain&gt;" in page


def test_reliability_diagram_draws_one_bar_per_non_empty_bin() -> None:
    page = render_report_html(_small_report())
    diagram = page.split('<section id="calibration">')[1].split("</section>")[0]
    assert diagram.count('class="bar"') == 5
    assert 'class="diagonal"' in diagram


def test_report_without_confidences_says_so() -> None:
    page = render_report_html(report([scenario("a", [{"min_ttc_s": 1.0}])]))
    assert "The model reported no confidences." in page


def test_critical_regressions_are_highlighted() -> None:
    now = _small_report()
    page = render_report_html(now, _small_regressions(now))  # type: ignore[arg-type]
    assert '<li class="critical">cut-in-aggressive-dense (S3, ASIL C): passed 4/4' in page


def test_coverage_matrix_is_truncated_with_a_note() -> None:
    page = render_coverage_html(_small_coverage(), matrix_limit=2)  # type: ignore[arg-type]
    assert "2 more cells are listed in the JSON report." in page


def test_long_slice_labels_are_cut_but_kept_in_full_in_a_tooltip() -> None:
    long_value = "a-very-long-odd-label-" * 4
    page = render_report_html(report([scenario("a", [{"min_ttc_s": 1.0}], odd={W: long_value})]))
    assert f"<title>{W}={long_value}</title>" in page
    shown = f"{W}={long_value}"[:47] + "…"
    assert f"</title>{shown}</text>" in page
