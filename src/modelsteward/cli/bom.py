"""``steward bom``: the AI bill of materials of a registered version."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelsteward.cli._common import console, open_steward, write_output
from modelsteward.errors import InvalidInput


def bom_command(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS, NAME@VERSION or a digest.")],
    format: Annotated[
        str, typer.Option("--format", help="Only cyclonedx (1.6 JSON).")
    ] = "cyclonedx",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """CycloneDX 1.6 AI-BOM: model, files, licences, model card, base models, datasets.

    The document is validated against the official CycloneDX 1.6 schema before it is written.
    """
    if format != "cyclonedx":
        raise InvalidInput(f"unknown BOM format {format!r}", hint="--format cyclonedx")
    with open_steward() as app:
        document = app.trust.bom(ref)
    if out is None:
        console.out(document, end="", highlight=False)
        return
    write_output(out, document)
    console.print(f"wrote CycloneDX 1.6 AI-BOM for {ref} → {out}", style="dim")
