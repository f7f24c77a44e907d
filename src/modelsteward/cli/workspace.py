"""``steward init``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelsteward.cli._common import console, load_settings, print_json


def init_command(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Workspace folder to create (default: ./.steward)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create the workspace: database, blob store, ledger key pair, workspace id. Safe to re-run."""
    from modelsteward.bootstrap import init_workspace

    steward = init_workspace(load_settings(home))
    ws = steward.workspace
    try:
        info = {
            "created": steward.created,
            "home": str(ws.home),
            "workspace_id": ws.id,
            "origin": ws.origin,
            "database": steward.db.engine.url.render_as_string(hide_password=True),
            "ledger_key": ws.verifier().to_vkey(),
            "ledger_size": steward.ledger.size(),
        }
    finally:
        steward.close()
    if json_out:
        print_json(info)
        return
    verb = "Created" if steward.created else "Already initialised:"
    console.print(f"{verb} workspace [bold]{ws.id}[/] at {ws.home}")
    console.print(f"  database    {info['database']}")
    console.print(f"  ledger key  {info['ledger_key']}")
    console.print(f"  ledger size {info['ledger_size']} entries")
