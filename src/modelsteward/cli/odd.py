"""``steward odd check`` and ``steward scenarios check``: validate an ODD and a scenario library."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from modelsteward.cli._common import console, print_json

if TYPE_CHECKING:
    from modelsteward.evaluation.scenarios import Scenario, ScenarioLibrary
    from modelsteward.odd.spec import Attribute, OddSpec

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
