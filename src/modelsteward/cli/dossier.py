"""``steward dossier``: the approval dossier of a registered version (Annex IV, JSON and HTML)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json

if TYPE_CHECKING:
    from modelsteward.services.dossier import DossierResult

__all__ = ["dossier_command", "render_result"]

_TITLES = {
    "general": "1. General description",
    "development": "2. Development",
    "validation": "3. Validation",
    "licensing": "4. Licence review and legal register",
    "risk": "5. Risk management",
    "changes": "6. Changes (ledger excerpt, with proofs)",
    "monitoring": "7. Post-deployment monitoring and runbook",
}


def dossier_command(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS, NAME@VERSION or a digest.")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for dossier.json and dossier.html (created).")
    ],
    use: Annotated[
        str, typer.Option("--use", help="Intended use for the licence review.")
    ] = "commercial",
    distribution: Annotated[
        str,
        typer.Option(
            "--distribution", help="What leaves the organisation: none, weights, product."
        ),
    ] = "product",
    json_: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Write the approval dossier: every claim with the digest of its evidence, gaps listed.

    A ledger event (dossier.written). The JSON file is the canonical document whose SHA-256 is
    the dossier digest; the HTML page is self-contained and prints one section per page.
    """
    with open_steward() as app:
        result = app.dossier.write(ref, out, use=use, distribution=distribution)
    if json_:
        print_json(result.to_dict())
        return
    render_result(result)


def render_result(result: DossierResult) -> None:
    """A table of the sections (items, missing evidence), then the digest and the files."""
    table = Table(title=f"Approval dossier of {escape(result.model)}", title_justify="left")
    table.add_column("section")
    table.add_column("items", justify="right")
    table.add_column("missing evidence", justify="right")
    for key, counts in result.summary.items():
        missing = counts.get("missing", 0)
        table.add_row(
            _TITLES.get(key, key),
            str(counts.get("items", 0)),
            str(missing),
            style="red" if missing else "",
        )
    console.print(table)
    if result.gaps:
        console.print(
            f"{result.gaps} piece(s) of evidence missing: see 'Missing evidence' in the HTML",
            style="yellow",
        )
    console.print(f"dossier digest {result.digest}", soft_wrap=True)
    console.print(f"  {escape(str(result.json_path))}", soft_wrap=True)
    console.print(f"  {escape(str(result.html_path))}", soft_wrap=True)
    console.print(
        f"  ledger seq {result.seq} (dossier.written); proofs against checkpoint of "
        f"{result.checkpoint_size} entries",
        style="dim",
        soft_wrap=True,
    )
