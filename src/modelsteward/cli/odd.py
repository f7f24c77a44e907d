"""``steward odd check|coverage`` and ``steward scenarios check``: ODDs and scenario libraries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.errors import InvalidInput

if TYPE_CHECKING:
    from modelsteward.evaluation.scenarios import Scenario, ScenarioLibrary
    from modelsteward.odd.spec import Attribute, OddSpec
    from modelsteward.services.coverage import CoverageResult

__all__ = ["odd_app", "scenario_app"]

odd_app = typer.Typer(
    help="The operational design domain (ODD): check an ODD file.", no_args_is_help=True
)
scenario_app = typer.Typer(
    help="Scenario libraries: check a folder of scenario files.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


# A callback keeps each app a group even with one command, so `check` stays a subcommand
# (and `odd coverage` can join it).
@odd_app.callback()
def _odd_group() -> None:
    """The operational design domain (ODD)."""


@scenario_app.callback()
def _scenario_group() -> None:
    """Scenario libraries."""


def _dimensions(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@odd_app.command("check")
def check_odd(
    file: Annotated[Path, typer.Argument(help="The ODD YAML file.")],
    dimensions: Annotated[
        str | None,
        typer.Option(help="Count cells over these attributes only (comma-separated)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate an ODD file; show its groups, attributes and coverage cell count."""
    from modelsteward.odd.spec import MAX_CELLS, OddSpec

    odd = OddSpec.from_path(file)
    chosen = _dimensions(dimensions)
    combinations = odd.combinations(chosen)
    cells = len(odd.cells(chosen)) if combinations <= MAX_CELLS else None
    names = list(chosen or odd.keys)
    summary = {
        "file": str(file),
        "odd": odd.name,
        "version": odd.version,
        "digest": odd.digest,
        "attributes": len(odd.attributes),
        "dimensions": names,
        "combinations": combinations,
        "cells": cells,
        "spec": odd.to_dict(),
    }
    if json_out:
        print_json(summary)
        return
    _print_odd(odd)
    over = f"{len(names)} attributes"
    if cells is None:
        console.print(
            f"cells        {combinations:,} combinations over {over}: more than {MAX_CELLS:,}, "
            "choose fewer with --dimensions"
        )
    else:
        console.print(f"cells        {cells:,} of {combinations:,} combinations over {over}")


@odd_app.command("coverage")
def coverage_command(
    odd: Annotated[Path, typer.Option("--odd", help="The ODD file.")],
    suite: Annotated[Path, typer.Option("--suite", help="The scenario library folder.")],
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="A registered dataset whose ODD tags count (repeatable)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Verdicts of this model's newest evaluation on the suite."),
    ] = None,
    report: Annotated[
        str | None, typer.Option("--report", help="Verdicts of this stored evaluation.")
    ] = None,
    dimensions: Annotated[
        str | None,
        typer.Option(help="Span cells over these attributes only (comma-separated)."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Gaps to list (0: all).")] = 15,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write coverage.json and coverage.html into this folder."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The ODD coverage matrix and its gap register (cells with no passing scenario).

    A scenario passes only with evidence: the newest stored evaluation of this library (of
    --model if given, or --report). Gaps are ranked by severity × exposure.
    """
    from modelsteward.evaluation.html import render_coverage_html

    if top < 0:
        raise InvalidInput(f"--top {top} must be 0 or more")
    with open_steward() as app:
        result = app.coverage.compute(
            odd,
            suite,
            datasets=dataset or (),
            model=model,
            report=report,
            dimensions=_dimensions(dimensions),
        )
        if result.model is not None:  # a model's coverage is release evidence
            app.coverage.record(result)
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "coverage.json", out / "coverage.html"]
        written[0].write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n")
        title = f"ODD coverage of {result.odd}"
        written[1].write_text(render_coverage_html(result.coverage, title=title), encoding="utf-8")
    if json_out:
        print_json(result.to_dict())
        return
    _print_coverage(result, top, written)


def _print_coverage(result: CoverageResult, top: int, written: list[Path]) -> None:
    cov = result.coverage
    covered = sum(1 for c in cov.cells if c.covered)
    source = (
        f"verdicts of {escape(result.model or '')} (report {result.evaluation})"
        if result.evaluation
        else "no evaluation"
    )
    console.print(f"[bold]{escape(result.odd)}[/] over {', '.join(result.dimensions)}")
    console.print(f"{source}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    console.print(
        f"cells covered by a passing scenario: {covered}/{len(cov.cells)} "
        f"({cov.covered_fraction:.1%}); gaps: {len(cov.gaps)}"
    )
    if cov.datasets:
        with_data = sum(1 for c in cov.cells if c.datasets)
        console.print(f"cells covered by training data ({', '.join(cov.datasets)}): {with_data}")
    if cov.outside:
        console.print("scenarios outside these cells: " + ", ".join(cov.outside))
    shown = cov.gaps if top == 0 else cov.gaps[:top]
    # One column per spanned attribute (short names) keeps a cell on one line.
    split = len(result.dimensions) <= 6
    table = Table(Column("#", justify="right"))
    if split:
        for dimension in result.dimensions:
            table.add_column(dimension.split(".", 1)[1])
    else:
        table.add_column("gap (cell)", overflow="fold")
    table.add_column("S×E", justify="right")
    table.add_column("basis")
    table.add_column("risk from", overflow="fold")
    table.add_column("datasets", overflow="fold")
    for gap in shown:
        values = dict(gap.cell)
        cells = [values.get(d, "—") for d in result.dimensions] if split else [gap.key]
        table.add_row(
            str(gap.rank),
            *(escape(c) for c in cells),
            str(gap.risk),
            gap.basis,
            ", ".join(gap.scenarios) or "—",
            ", ".join(gap.datasets) or "—",
        )
    if shown:
        console.print(table)
    if len(shown) < len(cov.gaps):
        console.print(f"… {len(cov.gaps) - len(shown)} more gaps (--top 0 lists all)")
    for path in written:
        console.print(f"wrote {escape(str(path))}")


def _print_odd(odd: OddSpec) -> None:
    console.print(f"[bold]{escape(odd.name)}[/] version {escape(str(odd.version))}  {odd.digest}")
    if odd.description:
        console.print(escape(odd.description))
    table = Table("group", "attribute", "kind", "values or range")
    for group, attributes in odd.groups.items():
        for attribute in attributes:
            kind, shown = _describe(attribute)
            table.add_row(group, attribute.key.split(".", 1)[1], kind, escape(shown))
    console.print(table)
    sections = {"include": odd.include, "exclude": odd.exclude}
    for name, clauses in sections.items():
        for i, clause in enumerate(clauses):
            console.print(f"{name}[{i}]   {escape(clause.describe())}")
    for i, rule in enumerate(odd.conditional):
        console.print(
            f"conditional[{i}]  when {escape(rule.when.describe())}, {escape(rule.then.describe())}"
        )


def _describe(attribute: Attribute) -> tuple[str, str]:
    from modelsteward.odd.spec import Enumeration

    if isinstance(attribute, Enumeration):
        return "values", ", ".join(attribute.labels)
    unit = f" {attribute.unit}" if attribute.unit else ""
    return "range", "bins " + ", ".join(attribute.labels) + unit


@scenario_app.command("check")
def check_scenarios(
    folder: Annotated[Path, typer.Argument(help="The scenario library folder.")],
    odd: Annotated[
        Path | None, typer.Option("--odd", help="Check every scenario's ODD tags against it.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate a scenario library; list its scenarios riskiest first."""
    from modelsteward.evaluation.scenarios import ScenarioLibrary
    from modelsteward.odd.spec import OddSpec

    spec = OddSpec.from_path(odd) if odd is not None else None
    library = ScenarioLibrary.from_dir(folder, odd=spec)
    outside = library.outside_odd(spec) if spec is not None else {}
    if json_out:
        print_json(_library_json(library, spec, outside))
        return
    table = Table(Column("id", overflow="fold"), "ASIL", "S/E/C", "runs on", "repetitions")
    if spec is not None:
        table.add_column("in ODD")
    for scenario in library.ranked():
        row = [scenario.id, scenario.asil, scenario.hazard.label, escape(_runs_on(scenario))]
        row.append(str(scenario.repetitions))
        if spec is not None:
            row.append("[yellow]no[/]" if scenario.id in outside else "yes")
        table.add_row(*row)
    console.print(table)
    console.print(f"{len(library)} scenarios  {library.digest}")
    for scenario_id, reasons in outside.items():
        console.print(f"[yellow]outside the ODD:[/] {scenario_id}: {escape('; '.join(reasons))}")


def _runs_on(scenario: Scenario) -> str:
    if scenario.environment is not None:
        return f"{scenario.environment.simulator} {scenario.environment.env_id}"
    assert scenario.replay is not None  # a scenario has exactly one of the two
    return f"replay {scenario.replay.data}"


def _library_json(
    library: ScenarioLibrary, spec: OddSpec | None, outside: dict[str, list[str]]
) -> dict[str, Any]:
    rows = []
    for scenario in library.ranked():
        row = {**scenario.to_dict(), "asil": scenario.asil, "kind": scenario.kind}
        if spec is not None:
            row["in_odd"] = scenario.id not in outside
            row["outside_reasons"] = outside.get(scenario.id, [])
        rows.append(row)
    return {
        "folder": str(library.root),
        "digest": library.digest,
        "count": len(library),
        "odd_digest": spec.digest if spec is not None else None,
        "scenarios": rows,
    }
