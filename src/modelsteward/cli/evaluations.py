"""``steward eval``: evaluate registered models on scenario libraries, lock baselines, compare.

``steward examples driving`` writes the reference driving stack the demo evaluates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from modelsteward.cli._common import console, err_console, open_steward, print_json
from modelsteward.cli._progress import episode_bar
from modelsteward.errors import InvalidInput, PolicyDenied

if TYPE_CHECKING:
    from modelsteward.evaluation.baseline import Regression, RegressionReport
    from modelsteward.evaluation.report import EvaluationReport, ScenarioSummary
    from modelsteward.services.evaluations import EvaluationOutcome

__all__ = ["eval_app", "examples_app"]

eval_app = typer.Typer(
    help="Evaluate registered models on scenario libraries; lock baselines; find regressions.",
    no_args_is_help=True,
)
examples_app = typer.Typer(help="Write example material (reference stacks).", no_args_is_help=True)


@examples_app.callback()
def _examples_group() -> None:
    """Example material."""


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
SuiteOpt = Annotated[Path, typer.Option("--suite", help="The scenario library folder.")]
OddOpt = Annotated[
    Path | None,
    typer.Option("--odd", help="ODD file: check the scenarios' tags, bin slices by its ranges."),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", help="Worker processes for closed-loop episodes.")
]
ModelDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--model-dir", help="Where the model's files are (default: where they were registered)."
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Also write report.json and report.html into this folder."),
]

_ASIL_ORDER = {"D": 0, "C": 1, "B": 2, "A": 3, "QM": 4}


def _margins(summary: ScenarioSummary) -> str:
    """The tightest criterion: a failing one, else the smallest margin relative to its limit
    (a zero limit such as ``max_lane_departures: 0`` has no relative margin and is skipped)."""
    failing = [c for c in summary.criteria if c.worst_margin < 0]
    candidates = failing or [c for c in summary.criteria if c.threshold != 0]
    worst = min(candidates, key=lambda c: c.worst_margin / abs(c.threshold or 1), default=None)
    if worst is None:
        return "—"
    return f"{worst.name} {worst.worst_margin:+.2f}"


def _scenario_table(report: EvaluationReport) -> Table:
    table = Table(
        Column("scenario", overflow="fold"),
        "ASIL",
        "S/E/C",
        Column("passed", justify="right"),
        "worst margin",
        "verdict",
    )
    ranked = sorted(report.scenarios, key=lambda s: (_ASIL_ORDER[s.asil], s.scenario_id))
    for s in ranked:
        verdict = "[green]pass[/]" if s.passed else "[red]FAIL[/]"
        if s.flaky:
            verdict += " [yellow](flaky)[/]"
        table.add_row(
            s.scenario_id,
            s.asil,
            f"{s.severity}/{s.exposure}/{s.controllability}",
            f"{s.passes}/{s.repetitions}",
            escape(_margins(s)),
            verdict,
        )
    return table


def _totals_lines(report: EvaluationReport) -> list[str]:
    t = report.totals
    low, high = t.interval
    lines = [
        f"scenarios passed  {t.passed}/{t.scenarios} ({t.flaky} flaky); repetitions "
        f"{t.repetition_passes}/{t.repetitions} = {t.pass_rate:.1%} "
        f"(Wilson {report.confidence_level:.0%}: {low:.1%}–{high:.1%})"
    ]
    if report.calibration is not None:
        lines.append(
            f"calibration       ECE {report.calibration.ece:.3f}, MCE {report.calibration.mce:.3f} "
            f"over {report.calibration.samples:,} decisions; abstention "
            f"{report.abstention_rate or 0.0:.1%} (confidence < {report.abstention_threshold})"
        )
    if report.latency is not None:
        lat = report.latency
        lines.append(
            f"model latency     p50 {lat.p50:.3f} ms, p99 {lat.p99:.3f} ms, max {lat.max:.3f} ms "
            f"({lat.count:,} calls)"
        )
    return lines


def _regression_table(regressions: RegressionReport) -> Table:
    table = Table(
        Column("critical regression", overflow="fold"),
        "S",
        "ASIL",
        "baseline",
        "now",
        Column("what changed", overflow="fold"),
    )
    for r in regressions.critical:
        table.add_row(
            r.scenario_id,
            r.severity,
            r.asil,
            f"{r.baseline[0]}/{r.baseline[1]}",
            f"{r.current[0]}/{r.current[1]}",
            escape(_changes(r)),
        )
    return table


def _changes(regression: Regression) -> str:
    """Failing criteria and margin drops, tersely (the report has the full sentence)."""
    parts = []
    for m in regression.margins:
        if m.current is not None and m.current < 0:
            parts.append(f"{m.criterion} fails ({m.current:+.2f})")
        elif m.baseline is not None and m.current is not None:
            parts.append(f"{m.criterion} margin {m.baseline:.2f}→{m.current:.2f}")
    return "; ".join(parts) or ("now fails" if regression.pass_to_fail else "margin dropped")


def _write_out(out: Path, outcome: EvaluationOutcome, html: bytes) -> list[Path]:
    from modelsteward.storage.provenance_store import canonical_json

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "report.json", out / "report.html"]
    written[0].write_bytes(outcome.report.canonical_json())
    written[1].write_bytes(html)
    if outcome.regressions is not None:
        path = out / "regressions.json"
        path.write_text(canonical_json(outcome.regressions.to_dict()), encoding="utf-8")
        written.append(path)
    return written


def _outcome_json(outcome: EvaluationOutcome) -> dict[str, Any]:
    regressions = outcome.regressions
    return {
        "report_digest": outcome.report_digest,
        "html_digest": outcome.html_digest,
        "baseline": outcome.baseline,
        "critical_regressions": [r.scenario_id for r in regressions.critical]
        if regressions
        else [],
        "regressions": regressions.to_dict() if regressions else None,
        "report": outcome.report.to_dict(),
    }


def _show_outcome(outcome: EvaluationOutcome, written: list[Path]) -> None:
    report = outcome.report
    console.print(f"[bold]{escape(report.model_ref)}[/]  {report.model_digest}")
    console.print(_scenario_table(report))
    for line in _totals_lines(report):
        console.print(line)
    console.print(f"report            {outcome.report_digest}")
    console.print(f"html              {outcome.html_digest}")
    for path in written:
        console.print(f"wrote             {escape(str(path))}")
    regressions = outcome.regressions
    if regressions is None:
        return
    if regressions.suite_changed:
        console.print("[yellow]the scenario library changed since the baseline was locked[/]")
    console.print(
        f"against baseline {escape(str(outcome.baseline))}: "
        f"{len(regressions.critical)} critical and {len(regressions.non_critical)} other "
        f"regressions, {len(regressions.improvements)} improvements, "
        f"{len(regressions.new)} new and {len(regressions.removed)} removed scenarios"
    )
    if regressions.critical:
        console.print(_regression_table(regressions))


def _finish(outcome: EvaluationOutcome, json_out: bool, written: list[Path]) -> None:
    if json_out:
        print_json(_outcome_json(outcome))
    else:
        _show_outcome(outcome, written)
    if outcome.critical:
        assert outcome.regressions is not None
        ids = ", ".join(r.scenario_id for r in outcome.regressions.critical)
        if json_out:
            raise typer.Exit(PolicyDenied.exit_code)
        raise PolicyDenied(
            f"{len(outcome.regressions.critical)} critical regression(s) against baseline "
            f"{outcome.baseline}: {ids}",
            hint="an S2/S3 scenario that passed in the baseline fails now or lost margin "
            "beyond its tolerance; see the report",
        )


@eval_app.command("run")
def run_command(
    ref: Annotated[str, typer.Argument(help="The model version: name@version, alias or digest.")],
    suite: SuiteOpt,
    odd: OddOpt = None,
    against: Annotated[
        str | None,
        typer.Option("--against", help="Compare with this locked baseline (by name)."),
    ] = None,
    workers: WorkersOpt = 2,
    model_dir: ModelDirOpt = None,
    out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate a registered model on a scenario library and store the report.

    The model's files are re-hashed first and must be the registered digest. With --against,
    any critical regression (an S2/S3 scenario that passed in the baseline and fails now, or
    whose margin dropped beyond its tolerance) is listed and the command exits 6.
    """
    with open_steward() as app, episode_bar("evaluating", json_out) as bar:
        outcome = app.evaluations.run(
            ref, suite, odd=odd, against=against, workers=workers, model_dir=model_dir, on_done=bar
        )
        html = app.evaluations.html(outcome.html_digest) if out is not None else b""
    written = _write_out(out, outcome, html) if out is not None else []
    _finish(outcome, json_out, written)


@eval_app.command("baseline")
def baseline_command(
    ref: Annotated[str, typer.Argument(help="The model version whose behaviour to lock.")],
    suite: Annotated[
        Path | None,
        typer.Option("--suite", help="Evaluate on this scenario library, then lock the result."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Baseline name (default: the model's name)."),
    ] = None,
    report: Annotated[
        str | None,
        typer.Option("--report", help="Lock this stored evaluation of REF instead of re-running."),
    ] = None,
    odd: OddOpt = None,
    workers: WorkersOpt = 2,
    model_dir: ModelDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Lock a model's evaluation as a named baseline (a ledger event; the newest lock wins)."""
    if (suite is None) == (report is None):
        raise InvalidInput(
            "give exactly one of --suite (evaluate now) and --report (lock a stored evaluation)"
        )
    if report is not None and (odd is not None or model_dir is not None):
        raise InvalidInput(
            "--odd and --model-dir apply to a new evaluation, not to --report",
            hint="lock the stored evaluation as it is, or evaluate again with --suite",
        )
    from modelsteward.services.evaluations import check_baseline_name

    with open_steward() as app:
        version = app.models.get(ref)
        chosen = check_baseline_name(name or version.name)
        if report is not None:
            record = app.evaluations.lock_stored(ref, report, chosen)
            outcome = None
        else:
            assert suite is not None
            with episode_bar("evaluating", json_out) as bar:
                outcome = app.evaluations.run(
                    ref, suite, odd=odd, workers=workers, model_dir=model_dir, on_done=bar
                )
            record = app.evaluations.lock_baseline(outcome, chosen)
    if json_out:
        print_json({"baseline": record, "evaluation": _outcome_json(outcome) if outcome else None})
        return
    if outcome is not None:
        _show_outcome(outcome, [])
    console.print(
        f"[bold]locked baseline {escape(record['name'])}[/] = {escape(record['model'])} on "
        f"suite {record['suite_digest']} (report {record['report']}, ledger #{record['seq']})"
    )


@eval_app.command("list")
def list_command(
    model: Annotated[str | None, typer.Option("--model", help="Only this model version.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Stored evaluations, newest first, and the locked baselines."""
    with open_steward() as app:
        rows = app.evaluations.list(model=model)
        baselines = app.evaluations.baselines()
    if json_out:
        print_json({"evaluations": rows, "baselines": baselines})
        return
    table = Table(
        Column("report", overflow="fold"),
        "model",
        "passed",
        "suite",
        "against",
        Column("critical", overflow="fold"),
    )
    for row in rows:
        totals = row["totals"]
        table.add_row(
            row["digest"][:19],
            escape(row["model"]),
            f"{totals['passed']}/{totals['scenarios']}",
            row["suite_digest"][:19],
            escape(row["baseline"] or "—"),
            _critical_count(row["critical_regressions"]),
        )
    console.print(table)
    if baselines:
        locked = Table("baseline", "model", Column("report", overflow="fold"), "locked at")
        for b in baselines:
            locked.add_row(escape(b["name"]), escape(b["model"]), b["report"][:19], b["locked_at"])
        console.print(locked)


def _critical_count(ids: list[str]) -> str:
    if not ids:
        return "—"
    shown = ", ".join(ids[:2])
    return f"[red]{len(ids)}[/]: {shown}" + (", …" if len(ids) > 2 else "")


@eval_app.command("show")
def show_command(
    report: Annotated[str, typer.Argument(help="Report digest (or 8+ of its hex digits).")],
    out: OutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a stored evaluation; --out writes its JSON and HTML reports."""
    from modelsteward.services.evaluations import EvaluationOutcome

    with open_steward() as app:
        stored = app.evaluations.stored(report)
        html = app.evaluations.html(stored.record["html"]) if out is not None else b""
        regressions = app.evaluations.regressions(stored)
    outcome = EvaluationOutcome(
        stored.report, stored.digest, stored.record["html"], None, stored.record["baseline"]
    )
    written = _write_out(out, outcome, html) if out is not None else []
    if out is not None and regressions is not None:
        path = out / "regressions.json"
        path.write_text(json.dumps(regressions, sort_keys=True), encoding="utf-8")
        written.append(path)
    if json_out:
        print_json(
            {
                **_outcome_json(outcome),
                "critical_regressions": stored.record["critical_regressions"],
                "regressions": regressions,
                "record": stored.record,
            }
        )
        return
    _show_outcome(outcome, written)
    critical = stored.record["critical_regressions"]
    if critical:
        console.print(
            f"[red]critical regressions against {escape(str(stored.record['baseline']))}:[/] "
            + ", ".join(critical)
        )


@examples_app.command("driving")
def driving_command(
    out: Annotated[Path, typer.Option("--out", help="A new (or empty) folder to write into.")],
    seed: Annotated[int, typer.Option(help="Seeds episodes and training.")] = 0,
    episodes: Annotated[
        int, typer.Option(help="Training episodes of the competent policy (narrow: 4/7).")
    ] = 140,
    workers: WorkersOpt = 2,
    json_out: JsonOpt = False,
) -> None:
    """Write the reference driving stack: an ODD, a scenario library and two trained policies.

    Trains locally in highway-env (nothing is downloaded): a competent policy over the whole
    ODD and a narrow one over light four-lane traffic only, both exported as model folders
    (ONNX, card, adapter) ready for `steward model add`.
    """
    from modelsteward.evaluation.reference import build_reference_stack

    def say(line: str) -> None:
        if not json_out:
            err_console.print(f"[dim]{escape(line)}[/]")

    stack = build_reference_stack(out, seed=seed, progress=say, episodes=episodes, workers=workers)
    summary = {
        "root": str(stack.root),
        "odd": str(stack.odd),
        "scenarios": str(stack.scenarios),
        "scenario_count": stack.scenario_count,
        "models": {"competent": str(stack.competent), "narrow": str(stack.narrow)},
        "dataset": str(stack.dataset),
        "dataset_odd_tags": str(stack.dataset_odd_tags),
        "training_seconds": round(stack.training_seconds, 1),
        "held_out_accuracy": {
            "competent": round(stack.competent_accuracy, 4),
            "narrow": round(stack.narrow_accuracy, 4),
        },
        "samples": stack.samples,
    }
    if json_out:
        print_json(summary)
        return
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("ODD", escape(str(stack.odd)))
    table.add_row("scenarios", f"{escape(str(stack.scenarios))} ({stack.scenario_count} files)")
    table.add_row(
        "competent policy",
        f"{escape(str(stack.competent))} (held-out accuracy {stack.competent_accuracy:.1%}, "
        "whole ODD)",
    )
    table.add_row(
        "narrow policy",
        f"{escape(str(stack.narrow))} (held-out accuracy {stack.narrow_accuracy:.1%} on the "
        "only cell it trained on: light four-lane traffic)",
    )
    table.add_row(
        "dataset",
        f"{escape(str(stack.dataset.parent))} (ODD tags: {escape(stack.dataset_odd_tags.name)})",
    )
    table.add_row("training", f"{stack.training_seconds:.1f} s, {stack.samples:,} samples")
    console.print(table)
