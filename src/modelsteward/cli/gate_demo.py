"""``steward gate demo``: the reference policy in highway-env with and without the safety gate.

Runnable without a workspace. Without ``--envelope`` the built-in reference envelope is used
*unsigned* (a warning says so); with ``--envelope`` and ``--key`` the gate is loaded exactly as a
vehicle loads it (:meth:`SafetyGate.load`), so a bad signature or changed model files make it run
FAIL_CLOSED — the demo still runs, says so loudly, and exits 7.

    $ steward examples driving --out /tmp/refstack
    $ steward gate demo --model-dir /tmp/refstack/models/narrow --episodes 12 --kill-after 20
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from modelsteward.cli._common import console, err_console, print_json
from modelsteward.cli._progress import episode_bar
from modelsteward.errors import InvalidInput, VerificationFailed, WorkspaceMissing

if TYPE_CHECKING:
    from modelsteward.evaluation.guarded import GateDemoResult, RunSummary

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``steward gate`` command group."""
    app.command("demo")(demo_command)


def demo_command(
    model_dir: Annotated[
        Path, typer.Option("--model-dir", help="A policy model folder (steward-adapter.yaml).")
    ],
    envelope: Annotated[
        Path | None,
        typer.Option("--envelope", help="A signed envelope (default: the reference, unsigned)."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="The envelope signer's public key (PEM).")
    ] = None,
    episodes: Annotated[int, typer.Option(help="Episode pairs (with and without gate).")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the first episode (then +1 each).")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="Record every gated decision here (Parquet, per episode)."),
    ] = None,
    kill_after: Annotated[
        int | None,
        typer.Option("--kill-after", help="Engage the kill switch after N cycles of episode 0."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Drive the same seeded episodes without and with the gate; compare collisions and speed.

    Shows the gate's veto rate per rule, fallback rungs, time in each mode and decide latency.
    """
    from modelsteward.evaluation.guarded import SignedGateFactory, run_guarded_comparison

    _check_inputs(model_dir, envelope, key, episodes, workers, kill_after)
    factory = None
    if envelope is not None and key is not None:
        factory = SignedGateFactory(str(envelope), str(key), str(model_dir))
    else:
        err_console.print(
            "[bold yellow]warning:[/] the envelope is NOT signed: using the built-in reference "
            "envelope without attestation (give --envelope and --key to run a signed one)",
            soft_wrap=True,
        )
    with _ledger_events(model_dir) as on_event, episode_bar("driving", json_out) as bar:
        result = run_guarded_comparison(
            model_dir,
            episodes=episodes,
            seed=seed,
            workers=workers,
            gate_factory=factory,
            log_dir=log,
            kill_after=kill_after,
            on_episode=bar,
            on_event=on_event,
        )
    failed = result.attestation == "failed"
    if failed:
        err_console.print(
            f"[bold red]ATTESTATION FAILED — the gate ran FAIL_CLOSED on every cycle:[/] "
            f"{escape(result.failure or '')}",
            soft_wrap=True,
        )
    if json_out:
        print_json(result.to_dict())
        if failed:
            raise typer.Exit(VerificationFailed.exit_code)
        return
    _show(result)
    if failed:
        raise VerificationFailed(
            f"the gate did not trust its envelope or model files: {result.failure}",
            hint="the figures above are a fail-closed gate; sign an envelope for these files",
        )


def _check_inputs(
    model_dir: Path,
    envelope: Path | None,
    key: Path | None,
    episodes: int,
    workers: int,
    kill_after: int | None,
) -> None:
    if (envelope is None) != (key is None):
        raise InvalidInput(
            "--envelope and --key go together",
            hint="give the signed envelope and its signer's public key, or neither",
        )
    if not model_dir.is_dir():
        raise InvalidInput(f"--model-dir {model_dir} is not a folder")
    for name, path in (("--envelope", envelope), ("--key", key)):
        if path is not None and not path.is_file():
            raise InvalidInput(f"{name} {path} is not a file")
    for name, value in (("--episodes", episodes), ("--workers", workers)):
        if value < 1:
            raise InvalidInput(f"{name} must be at least 1, got {value}")
    if kill_after is not None and kill_after < 1:
        raise InvalidInput(f"--kill-after must be at least 1, got {kill_after}")


def _show(result: GateDemoResult) -> None:
    attestation = {
        "unattested": "[yellow]unsigned, unattested[/]",
        "attested": "[green]signature and model files verified[/]",
        "failed": "[bold red]ATTESTATION FAILED (fail-closed)[/]",
    }[result.attestation]
    console.print(f"[bold]policy[/]    {escape(result.model_dir)}", soft_wrap=True)
    console.print(
        f"[bold]envelope[/]  {escape(result.envelope_name)} {result.envelope_digest} "
        f"— {attestation}",
        soft_wrap=True,
    )
    console.print(
        f"[bold]episodes[/]  {result.with_gate.episodes} × 2 (seeds {result.seed}–"
        f"{result.seed + result.with_gate.episodes - 1}) on {', '.join(result.scenarios)}; "
        f"{result.wall_s:.1f} s on {result.workers} worker(s)",
        soft_wrap=True,
    )
    console.print(_comparison_table(result.without_gate, result.with_gate))
    console.print(_scenario_table(result))
    for table in _gate_tables(result):
        console.print(table)
    gate = result.gate
    console.print(
        f"decide latency  p50 {gate.latency_p50_us:.0f} µs, p99 {gate.latency_p99_us:.0f} µs, "
        f"max {gate.latency_max_us:.0f} µs over {gate.decisions:,} decisions; "
        f"{gate.dropped_records} record(s) dropped",
        soft_wrap=True,
    )
    if result.log_dir is not None:
        console.print(f"decision log    {escape(result.log_dir)}/episode-NNN", soft_wrap=True)
    _show_kill(result)


def _show_kill(result: GateDemoResult) -> None:
    kill, drive = result.kill, result.kill_episode
    if drive is None:
        return
    where = f"extra drive of episode 0 ({drive.scenario}, seed {drive.seed})"
    if kill is None or kill.fail_closed_cycle is None:
        console.print(
            f"kill switch     {where}: the episode ended after {drive.steps} cycles, before the "
            "gate saw the flag; choose a smaller --kill-after",
            soft_wrap=True,
        )
        return
    crashed = "[red]it collided[/]" if drive.collision else "no collision"
    console.print(
        f"kill switch     {where}: flag written after cycle {kill.flag_after_cycle} → "
        f"[bold]FAIL_CLOSED at cycle {kill.fail_closed_cycle}[/]; the gate sent {kill.sent} "
        f"(rung {kill.rung}) from then on; {crashed}, mean speed {drive.mean_speed_mps:.1f} m/s",
        soft_wrap=True,
    )


def _comparison_table(off: RunSummary, on: RunSummary) -> Table:
    table = Table(
        "", Column("without gate", justify="right"), Column("with gate", justify="right"),
        title="the same episodes, without and with the gate",
    )  # fmt: skip
    rows = [
        ("collisions", f"{off.collisions}/{off.episodes}", f"{on.collisions}/{on.episodes}"),
        ("collision rate", f"{off.collision_rate:.1%}", f"{on.collision_rate:.1%}"),
        ("mean speed", f"{off.mean_speed_mps:.1f} m/s", f"{on.mean_speed_mps:.1f} m/s"),
        ("distance", f"{off.distance_m / 1000:.2f} km", f"{on.distance_m / 1000:.2f} km"),
        ("min time to collision", f"{off.min_ttc_s:.2f} s", f"{on.min_ttc_s:.2f} s"),
        ("decision steps", f"{off.steps:,}", f"{on.steps:,}"),
    ]
    for row in rows:
        style = "bold" if row[0] == "collisions" else ""
        table.add_row(*row, style=style)
    return table


def _scenario_table(result: GateDemoResult) -> Table:
    table = Table(
        Column("scenario", overflow="fold"), Column("collisions", justify="right"),
        Column("mean speed (m/s)", justify="right"), title="per scenario: without → with gate",
    )  # fmt: skip
    for scenario, (off, on) in result.by_scenario().items():
        crashes = f"{off.collisions}/{off.episodes} → {on.collisions}/{on.episodes}"
        if on.collisions < off.collisions:
            crashes = f"[green]{crashes}[/]"
        elif on.collisions > off.collisions:
            crashes = f"[red]{crashes}[/]"
        table.add_row(scenario, crashes, f"{off.mean_speed_mps:.1f} → {on.mean_speed_mps:.1f}")
    return table


def _gate_tables(result: GateDemoResult) -> list[Table]:
    gate = result.gate
    decisions = gate.decisions or 1
    vetoes = Table(
        "rule", Column("vetoes", justify="right"), Column("per decision", justify="right"),
        title=f"vetoes ({gate.interventions:,} of {gate.decisions:,} commands changed)",
    )  # fmt: skip
    for rule, count in gate.veto_counts.items():
        vetoes.add_row(rule, f"{count:,}", f"{gate.veto_rates[rule]:.1%}")
    if not gate.veto_counts:
        vetoes.add_row("—", "0", "0.0%")
    outcomes = Table(
        "verdict / rung", Column("decisions", justify="right"), Column("share", justify="right"),
        title="what the gate sent",
    )  # fmt: skip
    for name, count in gate.verdicts.items():
        outcomes.add_row(name, f"{count:,}", f"{count / decisions:.1%}")
    for name, count in gate.rungs.items():
        outcomes.add_row(f"  rung {name}", f"{count:,}", f"{count / decisions:.1%}")
    modes = Table(
        "mode", Column("cycles", justify="right"), Column("time share", justify="right"),
        title="bounded-autonomy modes",
    )  # fmt: skip
    for mode, count in gate.mode_cycles.items():
        modes.add_row(mode, f"{count:,}", f"{gate.mode_shares[mode]:.1%}")
    return [vetoes, outcomes, modes]


@contextmanager
def _ledger_events(model_dir: Path) -> Iterator[Callable[[str, Mapping[str, Any]], None] | None]:
    """Inside a workspace, gate events (mode changes, kill switch, batch digests) go to its
    ledger under the model's digest; without one the demo runs all the same."""
    from modelsteward.artifacts.manifest import hash_model
    from modelsteward.bootstrap import open_workspace
    from modelsteward.cli._common import load_settings

    try:
        steward = open_workspace(load_settings())
    except WorkspaceMissing:
        yield None
        return
    try:
        digest = hash_model(model_dir).root_digest
        yield steward.gate.ledger_events(f"model:{digest}")
    finally:
        steward.close()
