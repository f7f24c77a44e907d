"""Deployment commands: ``deployment add|list|show|observe``, ``rollback``, ``kill``, ``resume``.

$ steward deployment add pilot-fleet --ring eu-pilot --canary-share 0.05 --runbook RUNBOOK.md \
      --rollback-target none
$ steward kill pilot-fleet --reason "unexpected braking reports"
$ steward rollback pilot-fleet --reason "canary disagreement too high"
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json

__all__ = ["deployment_app", "register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
NameArg = Annotated[str, typer.Argument(help="The deployment's name.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]

deployment_app = typer.Typer(
    help="Deployments: where releases run, their runbook, rollback target and kill flag.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``rollback``, ``kill`` and ``resume`` to the root."""
    app.command("rollback")(rollback_command)
    app.command("kill")(kill_command)
    app.command("resume")(resume_command)


@deployment_app.command("add")
def add_command(
    name: NameArg,
    ring: Annotated[str, typer.Option("--ring", help="Which ring or fleet (e.g. eu-pilot).")],
    rollback_target: Annotated[
        str,
        typer.Option(
            "--rollback-target",
            help="Release to return to when no earlier production release ran here, or 'none' "
            "(roll back = stop the model: the kill flag is raised).",
        ),
    ],
    canary_share: Annotated[
        float, typer.Option("--canary-share", help="Share a canary release gets (0–1].")
    ] = 0.05,
    runbook: Annotated[
        Path | None, typer.Option("--runbook", help="The operations runbook (text/Markdown).")
    ] = None,
    kill_flag: Annotated[
        Path | None,
        typer.Option(
            "--kill-flag",
            help="Flag file the runtime gate watches (default: in the "
            "workspace, deployments/NAME.kill).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Declare a deployment (operations role)."""
    with open_steward() as app:
        added = app.deployments.add(
            name, ring=ring, canary_share=canary_share, rollback_target=rollback_target,
            runbook=runbook, kill_flag=kill_flag,
        )  # fmt: skip
    if json_out:
        print_json(added.to_dict())
        return
    spec = added.spec
    console.print(
        f"deployment {escape(spec.name)} ({escape(spec.ring)}, "
        f"canary share {spec.canary_share:g}); "
        f"rollback target {spec.rollback_target[:19]}; kill flag {escape(spec.kill_flag)}"
    )


@deployment_app.command("list")
def list_command(json_out: JsonOpt = False) -> None:
    """Every deployment and what runs there."""
    with open_steward() as app:
        rows = app.deployments.list()
    if json_out:
        print_json([d.to_dict() for d in rows])
        return
    table = Table(title="Deployments")
    for column in ("name", "ring", "release", "stage", "canary share", "killed"):
        table.add_column(column)
    for d in rows:
        table.add_row(
            escape(d.spec.name), escape(d.spec.ring), (d.release or "-")[:19], d.stage or "-",
            f"{d.spec.canary_share:g}", "[red]yes[/]" if Path(d.spec.kill_flag).exists() else "no",
        )  # fmt: skip
    console.print(table)


@deployment_app.command("show")
def show_command(name: NameArg, json_out: JsonOpt = False) -> None:
    """A deployment, its history and its runbook."""
    with open_steward() as app:
        found = app.deployments.get(name)
        runbook = app.deployments.runbook(found)
    if json_out:
        print_json({**found.to_dict(), "runbook_text": runbook})
        return
    data = found.to_dict()
    for key in ("name", "ring", "canary_share", "release", "stage", "rollback_target", "runbook",
                "kill_flag", "killed"):  # fmt: skip
        console.print(f"{key:>16}: {escape(str(data[key]))}")
    table = Table(title="History")
    for column in ("entry", "event", "release", "stage", "at"):
        table.add_column(column)
    for move in found.history:
        table.add_row(
            str(move["seq"]), move["event"], (move["release"] or "-")[:19], move["stage"] or "-",
            move["at"][:19],
        )  # fmt: skip
    console.print(table)


@deployment_app.command("observe")
def observe_command(
    name: NameArg,
    logs: Annotated[
        list[Path], typer.Option("--log", help="Decision-log folder of the release (repeatable).")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Summarise the runtime gate's decision logs of the release running in a shadow or canary
    deployment (cycles, disagreement with the model, fail-closed cycles) as release evidence."""
    with open_steward() as app:
        summary = app.deployments.observe(name, logs)
    if json_out:
        print_json(summary)
        return
    console.print(
        f"{escape(name)} ({summary['stage']}): {summary['cycles']} cycles, gate disagreed with "
        f"the model in {summary['disagreement']:.1%}, {summary['fail_closed']} fail-closed cycles, "
        f"{len(summary['batches'])} batch files ({summary['unpinned_batches']} not pinned)"
    )


def rollback_command(name: NameArg, reason: ReasonOpt, json_out: JsonOpt = False) -> None:
    """Return a deployment to its previous production release in one command (operations)."""
    with open_steward() as app:
        result = app.deployments.rollback(name, reason)
    if json_out:
        print_json(result)
        return
    target = result["to_release"] or "nothing (rollback target 'none'): the kill flag is raised"
    console.print(
        f"[yellow]rolled back[/] {escape(name)}: {result['from_release'][:19]} "
        f"({result['from_stage']}) is now rolled-back; the deployment runs {target[:80]}"
    )


def kill_command(name: NameArg, reason: ReasonOpt, json_out: JsonOpt = False) -> None:
    """Raise the deployment's kill flag: the runtime gate fails closed on its next cycle."""
    with open_steward() as app:
        result = app.deployments.kill(name, reason)
    if json_out:
        print_json(result)
        return
    console.print(f"[red]killed[/] {escape(name)}: flag {escape(result['flag_file'])}")


def resume_command(
    name: NameArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is safe again.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Remove the deployment's kill flag (operations role)."""
    with open_steward() as app:
        result = app.deployments.resume(name, reason)
    if json_out:
        print_json(result)
        return
    console.print(f"[green]resumed[/] {escape(name)}: flag {escape(result['flag_file'])} removed")
