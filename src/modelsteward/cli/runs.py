"""``steward run …``: execute or record training runs, reproduce them, inspect provenance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Column, Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.cli._progress import file_progress
from modelsteward.errors import InvalidInput, PolicyDenied, VerificationFailed

if TYPE_CHECKING:
    from modelsteward.services.runs import RunRequest, RunResult
    from modelsteward.training.records import Reproduction, TrainingRun

run_app = typer.Typer(
    help="Training and fine-tune runs: provenance, environment, reproduction.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
NameOpt = Annotated[str, typer.Option("--name", help="Model name the output is registered as.")]
BaseOpt = Annotated[
    str, typer.Option("--base", help="Base model: NAME[@VERSION|@ALIAS] or digest.")
]
DataOpt = Annotated[
    list[str] | None, typer.Option("--data", help="Registered dataset name (repeatable).")
]
OutputOpt = Annotated[Path, typer.Option("--output", help="Output folder (the new model).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (kept as a blob).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (STEWARD_SEED).")]
CodeOpt = Annotated[
    str | None,
    typer.Option(
        "--code-rev",
        help="Code revision: in git, must match the commit of --workdir (a hash prefix); "
        "outside git, a label for the folder's content digest.",
    ),
]
TierOpt = Annotated[str | None, typer.Option("--tier", help="Risk tier (default: the base's).")]
MetricsOpt = Annotated[
    str | None,
    typer.Option("--metrics", help="JSON file of metrics inside the output folder."),
]
TolOpt = Annotated[
    list[str] | None,
    typer.Option("--tolerance", help="NAME=ABS: accepted metric drift on reproduction."),
]
BasePathOpt = Annotated[
    Path | None, typer.Option("--base-path", help="Folder holding the base model's files.")
]
DataPathOpt = Annotated[
    list[str] | None, typer.Option("--data-path", help="NAME=DIR: where a dataset's files are.")
]
WorkdirOpt = Annotated[
    Path | None,
    typer.Option("--workdir", help="Folder the command runs in (default: the current one)."),
]
CommandArg = Annotated[list[str] | None, typer.Argument(help="The command, after --.")]


def _data_paths(items: list[str] | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items or []:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder:
            raise InvalidInput(f"--data-path {item!r} is not NAME=DIR")
        out[name] = Path(folder)
    return out


def _request(**values: Any) -> RunRequest:
    from modelsteward.services.runs import RunRequest
    from modelsteward.training.records import parse_tolerances

    values["tolerances"] = parse_tolerances(values.pop("tolerance") or [])
    values["data_paths"] = _data_paths(values.pop("data_path"))
    values["datasets"] = tuple(values.pop("data") or ())
    values["command"] = tuple(values.pop("command") or ())
    return RunRequest(**values)


def _report(result: RunResult, json_out: bool) -> None:
    run = result.run
    if json_out:
        print_json({"run": run.to_dict(), "created_version": result.created_version})
    else:
        verb = "registered" if result.created_version else "already registered"
        console.print(
            f"[bold]run {run.id}[/] → {verb} {result.version.ref}  {result.version.digest}"
        )
        _render_run(run)
    if result.version.status.value == "blocked":
        if json_out:
            raise typer.Exit(PolicyDenied.exit_code)
        raise PolicyDenied(
            f"the run's output {result.version.ref} is registered as BLOCKED: "
            + ", ".join(result.version.scan["blocking"]),
            hint="the run is recorded; the output can be inspected but never promoted",
        )


def _render_run(run: TrainingRun) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for item in run.inputs:
        extra = f" ({item.license})" if item.license else ""
        table.add_row(item.role, f"{item.name} {item.digest}{extra}")
    table.add_row("command", " ".join(run.command) or "-")
    table.add_row("seed", "-" if run.seed is None else str(run.seed))
    interpreter = run.environment.get("interpreter", {})
    if interpreter:
        table.add_row(
            "environment",
            f"Python {interpreter.get('version')} with {len(run.environment.get('packages', []))}"
            f" packages on {run.environment.get('hardware', {}).get('machine')}",
        )
    if run.metrics:
        table.add_row("metrics", ", ".join(f"{k}={v:g}" for k, v in run.metrics.items()))
    table.add_row("provenance", f"in-toto/SLSA statement {run.provenance_blob}")
    for gap in run.gaps:
        table.add_row("gap", gap, style="yellow")
    console.print(table)


@run_app.command(
    "exec", context_settings={"allow_extra_args": False, "ignore_unknown_options": False}
)
def exec_run(
    name: NameOpt,
    base: BaseOpt,
    output: OutputOpt,
    command: CommandArg = None,
    data: DataOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    code_rev: CodeOpt = None,
    tier: TierOpt = None,
    metrics: MetricsOpt = None,
    tolerance: TolOpt = None,
    base_path: BasePathOpt = None,
    data_path: DataPathOpt = None,
    workdir: WorkdirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run COMMAND on verified inputs and register its output as model NAME.

    The command gets STEWARD_OUTPUT_DIR, STEWARD_SEED, STEWARD_INPUTS (the path of a JSON file
    describing the resolved inputs), STEWARD_CONFIG and STEWARD_RUN_ID. Exits 6 for an expired
    dataset or changed input files, 15 when the command fails.
    """
    request = _request(
        name=name, base=base, output=output, command=command, data=data, config=config,
        seed=seed, code_rev=code_rev, tier=tier, metrics_file=metrics, tolerance=tolerance,
        base_path=base_path, data_path=data_path, workdir=workdir,
    )  # fmt: skip
    from modelsteward.services.intake import IntakeProgress

    with open_steward() as app, file_progress(json_out) as bars:
        result = app.runs.exec(
            request,
            IntakeProgress(bars.on_plan, bars.on_bytes, bars.on_scan),
            stdout_to_stderr=json_out,
        )
    _report(result, json_out)


@run_app.command("record")
def record_run(
    name: NameOpt,
    base: BaseOpt,
    output: Annotated[Path, typer.Option("--output", help="The existing output folder.")],
    command: CommandArg = None,
    data: DataOpt = None,
    config: ConfigOpt = None,
    seed: SeedOpt = None,
    code_rev: CodeOpt = None,
    tier: TierOpt = None,
    metrics: MetricsOpt = None,
    tolerance: TolOpt = None,
    base_path: BasePathOpt = None,
    data_path: DataPathOpt = None,
    workdir: WorkdirOpt = None,
    environment: Annotated[
        Path | None, typer.Option(help="JSON of the environment captured where it ran.")
    ] = None,
    started: Annotated[str | None, typer.Option(help="When it started (RFC 3339).")] = None,
    finished: Annotated[str | None, typer.Option(help="When it finished (RFC 3339).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a run executed elsewhere and register its existing output folder."""
    env: dict[str, Any] | None = None
    if environment is not None:
        try:
            env = json.loads(environment.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"--environment {environment}: not readable JSON ({exc})") from exc
        if not isinstance(env, dict):
            raise InvalidInput(f"--environment {environment}: expected a JSON object")
    request = _request(
        name=name, base=base, output=output, command=command, data=data, config=config,
        seed=seed, code_rev=code_rev, tier=tier, metrics_file=metrics, tolerance=tolerance,
        base_path=base_path, data_path=data_path, workdir=workdir, environment=env,
        started_at=started,
        finished_at=finished,
    )  # fmt: skip
    from modelsteward.services.intake import IntakeProgress

    with open_steward() as app, file_progress(json_out) as bars:
        result = app.runs.record(request, IntakeProgress(bars.on_plan, bars.on_bytes, bars.on_scan))
    _report(result, json_out)


def _render_reproduction(rep: Reproduction) -> None:
    style = "green" if rep.passed else "bold red"
    console.print(f"[{style}]{rep.outcome.value.upper()}[/] reproduction of {rep.run_id}")
    for label, paths in (("changed", rep.changed), ("missing", rep.missing), ("extra", rep.extra)):
        for path in paths:
            console.print(f"  {label:8} {path}")
    for problem in rep.metric_problems:
        console.print(f"  metric   {problem}")


@run_app.command("reproduce")
def reproduce(
    run: Annotated[str, typer.Argument(help="Run id, or the model (ref) the run produced.")],
    keep: Annotated[bool, typer.Option(help="Keep the reproduced output folder.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Re-execute a run in a clean folder with the same inputs and seed; compare outputs.

    Exits 7 on a mismatch (naming the differing files) or 15 when the command fails; either
    way the attempt is recorded in the ledger.
    """
    from modelsteward.services.intake import IntakeProgress

    with open_steward() as app, file_progress(json_out) as bars:
        rep, kept = app.runs.reproduce(
            run,
            keep=keep,
            progress=IntakeProgress(bars.on_plan, bars.on_bytes, bars.on_scan),
            stdout_to_stderr=json_out,
        )
    if json_out:
        print_json({**rep.to_dict(), "kept": str(kept) if kept else None})
    else:
        _render_reproduction(rep)
        if kept:
            console.print(f"  output kept in {kept}")
    if not rep.passed:
        if json_out:
            raise typer.Exit(15 if rep.outcome.value == "failed" else VerificationFailed.exit_code)
        from modelsteward.errors import CommandFailed

        if rep.outcome.value == "failed":
            raise CommandFailed(f"reproduction of {rep.run_id}: the command failed")
        raise VerificationFailed(
            f"run {rep.run_id} did not reproduce: "
            f"{len(rep.changed)} changed, {len(rep.missing)} missing, {len(rep.extra)} extra "
            f"file(s)" + (f", {len(rep.metric_problems)} metric(s) out of tolerance"
                          if rep.metric_problems else ""),
            hint="recorded in the ledger as run.reproduced",
        )  # fmt: skip


@run_app.command("list")
def list_runs(
    name: Annotated[str | None, typer.Option(help="Only runs producing this model.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Every recorded run, oldest first."""
    with open_steward() as app:
        runs = app.runs.list(name=name)
        last = {r.id: app.runs.reproductions(r.id) for r in runs}
    if json_out:
        print_json(
            [{**r.to_dict(), "reproductions": [x.to_dict() for x in last[r.id]]} for r in runs]
        )
        return
    table = Table(
        Column("run", no_wrap=True), "kind", "output", "base", "datasets", "seed", "reproduced"
    )
    for r in runs:
        reps = last[r.id]
        table.add_row(
            r.id,
            r.kind.value,
            r.output,
            r.base.name if r.base else "-",
            ", ".join(d.name for d in r.datasets) or "-",
            "-" if r.seed is None else str(r.seed),
            reps[-1].outcome.value if reps else "never",
        )
    console.print(table)


@run_app.command("show")
def show(
    run: Annotated[str, typer.Argument(help="Run id, or the model (ref) the run produced.")],
    provenance: Annotated[
        bool, typer.Option("--provenance", help="Print the in-toto/SLSA statement.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """A run's inputs, command, environment, metrics and reproduction history."""
    with open_steward() as app:
        found = app.runs.get(run)
        reps = app.runs.reproductions(found.id)
        statement = app.runs.provenance(found) if provenance else None
    if statement is not None:
        print_json(statement)
        return
    if json_out:
        print_json({**found.to_dict(), "reproductions": [x.to_dict() for x in reps]})
        return
    console.print(f"[bold]run {found.id}[/] ({found.kind.value}) → {found.output}")
    _render_run(found)
    for rep in reps:
        _render_reproduction(rep)
