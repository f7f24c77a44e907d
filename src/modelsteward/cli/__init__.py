"""The ``steward`` command line (Typer). Thin: every command calls the same services as the API.

$ steward init
$ steward ledger note "reviewed the intake queue"
$ steward ledger tail -n 5 --json
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from modelsteward import __version__
from modelsteward.cli import release as _release
from modelsteward.cli._common import STATE, err_console, print_json
from modelsteward.cli.artifacts import hash_command, keys_app, scan_command
from modelsteward.cli.bom import bom_command
from modelsteward.cli.datasets import dataset_app
from modelsteward.cli.deployments import deployment_app
from modelsteward.cli.deployments import register as _register_deployments
from modelsteward.cli.dossier import dossier_command
from modelsteward.cli.envelopes import envelope_app
from modelsteward.cli.evaluations import eval_app, examples_app
from modelsteward.cli.gate import gate_app
from modelsteward.cli.ledger import ledger_app
from modelsteward.cli.licenses import license_app
from modelsteward.cli.models import model_app
from modelsteward.cli.odd import odd_app, scenario_app
from modelsteward.cli.people import people_app, policy_app
from modelsteward.cli.runs import run_app
from modelsteward.cli.suppliers import supplier_app
from modelsteward.cli.workspace import init_command
from modelsteward.errors import EXIT_CODES, StewardError

__all__ = ["app", "main"]

_EPILOG = "Exit codes:\n\n" + "\n\n".join(
    f"  {code:>3}  {text}" for code, text in EXIT_CODES.items()
)

app = typer.Typer(
    name="steward",
    help="Steward: prove what a model is, what shaped it, who approved it, and what it did.",
    epilog=_EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"steward {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Workspace folder (default: $STEWARD_HOME or ./.steward)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Steward: prove what a model is, what shaped it, who approved it, and what it did."""
    STATE.home = home
    STATE.verbose = verbose


app.command("init")(init_command)
app.add_typer(model_app, name="model")
app.add_typer(supplier_app, name="supplier")
app.add_typer(dataset_app, name="dataset")
app.add_typer(run_app, name="run")
app.add_typer(license_app, name="license")
app.add_typer(odd_app, name="odd")
app.add_typer(scenario_app, name="scenarios")
app.add_typer(eval_app, name="eval")
app.add_typer(examples_app, name="examples")
app.add_typer(keys_app, name="keys")
app.add_typer(envelope_app, name="envelope")
app.add_typer(gate_app, name="gate")
app.add_typer(people_app, name="people")
app.add_typer(policy_app, name="policy")
app.add_typer(deployment_app, name="deployment")
_release.register(gate_app, app)
_register_deployments(app)
app.command("hash")(hash_command)
app.command("scan")(scan_command)
app.command("bom")(bom_command)
app.command("dossier")(dossier_command)
app.add_typer(ledger_app, name="ledger")


def main() -> None:
    """Console entry point: run the app and map ``StewardError`` to its exit code."""
    STATE.json_errors = "--json" in sys.argv[1:]
    try:
        app()
    except StewardError as err:
        if STATE.verbose:
            traceback.print_exc()
        if STATE.json_errors:
            print_json(err.to_dict())
        err_console.print(f"[bold red]error:[/] {err.message}", markup=True, soft_wrap=True)
        if err.hint:
            err_console.print(f"[yellow]hint:[/] {err.hint}", markup=True, soft_wrap=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
