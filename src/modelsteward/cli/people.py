"""``steward people`` (who signs, in which roles) and ``steward policy`` (the gate's pack).

$ steward people add sam --roles safety --key sam.pem.pub
$ steward policy show
$ steward policy test
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.errors import PolicyDenied

__all__ = ["people_app", "policy_app"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]

people_app = typer.Typer(help="People and their roles (legal, security, safety, operations, "
                         "product).", no_args_is_help=True)  # fmt: skip
policy_app = typer.Typer(help="The release-gate policy pack.", no_args_is_help=True)


@people_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="Their Steward name (what STEWARD_ACTOR says).")],
    roles: Annotated[str, typer.Option("--roles", help="Comma-separated roles.")],
    key: Annotated[Path, typer.Option("--key", help="Their public key (PEM, e.g. sam.pem.pub).")],
    json_out: JsonOpt = False,
) -> None:
    """Register a person. The first one bootstraps the register; then only security may add."""
    with open_steward() as app:
        person = app.people.add(name, roles, key)
    if json_out:
        print_json(person.to_dict())
        return
    console.print(f"{escape(person.name)}: {', '.join(person.roles)} (key {person.key_id[:16]}…)")


@people_app.command("list")
def list_command(json_out: JsonOpt = False) -> None:
    """Everyone registered."""
    with open_steward() as app:
        people = app.people.list()
    if json_out:
        print_json([p.to_dict() for p in people])
        return
    table = Table(title="People")
    for column in ("name", "roles", "key"):
        table.add_column(column)
    for p in people:
        table.add_row(escape(p.name), ", ".join(p.roles), p.key_id[:16] + "…")
    console.print(table)


@policy_app.command("show")
def show_command(json_out: JsonOpt = False) -> None:
    """The pack in force (STEWARD_POLICY_DIR or the shipped one): name, version, digest,
    modules and the engine."""
    with open_steward() as app:
        bundle = app.release.bundle()
        engine = app.release.engine
    info = {
        "name": bundle.name,
        "version": bundle.version,
        "digest": bundle.digest,
        "modules": [name for name, _ in bundle.modules],
        "engine": {"name": engine.name, "version": engine.version},
    }
    if json_out:
        print_json(info)
        return
    console.print(
        f"{bundle.name} {bundle.version}\n{bundle.digest}\nmodules: {', '.join(info['modules'])}\n"
        f"engine: {engine.name} {engine.version}"
    )


@policy_app.command("test")
def run_tests_command(
    folder: Annotated[
        Path | None, typer.Argument(help="A policy folder (default: the pack in force).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run the pack's Rego ``test_`` rules; exits 6 if any fails."""
    from modelsteward.policy import PolicyBundle, RegoCppEngine

    bundle = PolicyBundle.from_dir(folder) if folder else None
    if bundle is None:
        with open_steward() as app:
            bundle = app.release.bundle()
    results = RegoCppEngine().run_tests(bundle)
    failed = [r for r in results if not r.passed]
    if json_out:
        print_json([{"package": r.package, "name": r.name, "passed": r.passed,
                     "error": r.error} for r in results])  # fmt: skip
    else:
        table = Table(title=f"Rego tests of {bundle.name} {bundle.version}")
        for column in ("package", "test", "result"):
            table.add_column(column)
        for r in results:
            table.add_row(
                r.package,
                r.name,
                "[green]pass[/]" if r.passed else f"[red]FAIL[/] {escape(r.error or '')}",
            )
        console.print(table)
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed or not results:
        raise PolicyDenied(
            f"{len(failed)} of {len(results)} policy tests failed"
            if results
            else "no policy tests",
            hint="a pack ships tests for its rules (docs/policies.md)",
        )
