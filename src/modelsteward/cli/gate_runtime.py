"""``steward gate replay`` and ``steward gate bench``: counterfactual review and the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from modelsteward.cli._common import console, print_json
from modelsteward.errors import InvalidInput, WorkspaceMissing

__all__ = ["print_bench", "register"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(app: typer.Typer) -> None:
    """Add ``replay`` and ``bench`` to the ``gate`` command group."""
    app.command("replay")(replay_command)
    app.command("bench")(bench_command)


def replay_command(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="A release-gate decision id (or unique prefix); with --envelope, decision-log "
            "folders or decisions-*.parquet files.",
            metavar="DECISION | LOGS...",
        ),
    ],
    envelope: Annotated[
        Path | None,
        typer.Option("--envelope", help="The candidate: a draft envelope (YAML/JSON) or signed."),
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Verify a signed candidate with this public key.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Replay a release-gate decision (must give the identical result; exit 7 otherwise), or,
    with --envelope, replay recorded runtime decisions against a candidate envelope: new and
    removed vetoes per rule.

    Run the second before an envelope change. Inside a workspace, every batch file is also checked
    against the digest the ledger pinned when the gate persisted it.
    """
    if envelope is None:
        from modelsteward.cli.release import replay_decision

        if len(targets) != 1 or Path(targets[0]).exists():
            raise InvalidInput(
                "give one decision id, or --envelope CANDIDATE to replay decision logs",
                hint="steward gate decisions lists decision ids",
            )
        replay_decision(targets[0], json_out)
        return
    _replay_logs([Path(t) for t in targets], envelope, key, json_out)


def _replay_logs(logs: list[Path], envelope: Path, key: Path | None, json_out: bool) -> None:
    from modelsteward.bootstrap import open_workspace
    from modelsteward.cli._common import load_settings
    from modelsteward.services.gate import replay_without_workspace

    try:
        steward = open_workspace(load_settings())
    except WorkspaceMissing:
        result = replay_without_workspace(logs, envelope, key)
    else:
        try:
            result = steward.gate.replay(logs, envelope, key)
        finally:
            steward.close()
    if json_out:
        print_json(result.to_dict())
        return
    report = result.report
    table = Table(title=f"Counterfactual replay of {report.decisions} decisions")
    for column in ("rule", "recorded vetoes", "candidate vetoes", "new", "removed", "new at"):
        table.add_column(column, justify="left" if column in ("rule", "new at") else "right")
    for change in report.rules:
        if change.recorded or change.candidate:
            table.add_row(
                change.rule,
                str(change.recorded),
                str(change.candidate),
                f"[red]{change.new}[/]" if change.new else "0",
                f"[green]{change.removed}[/]" if change.removed else "0",
                ", ".join(map(str, change.new_cycles[:5])),
            )
    console.print(table)
    console.print(
        f"candidate envelope {report.candidate_digest}; "
        f"verdicts that change: {report.verdicts_changed}"
    )
    if result.pinned is None:
        console.print("[yellow]no workspace: batch digests not checked against the ledger[/]")
    elif result.unpinned:
        console.print(
            f"[yellow]{len(result.unpinned)} of {result.batches} batch files are not "
            f"pinned in the ledger[/]: {', '.join(result.unpinned[:3])}"
        )
    else:
        console.print(f"all {result.batches} batch files match the digests pinned in the ledger")


def bench_command(
    objects: Annotated[
        list[int] | None,
        typer.Option("--objects", help="Surrounding objects per scene (repeatable).", min=0),
    ] = None,
    cycles: Annotated[
        int, typer.Option("--cycles", help="Decisions per figure.", min=100)
    ] = 20_000,
    json_out: JsonOpt = False,
) -> None:
    """Per-decision latency (p50/p99/p99.9) with N objects, ad-rss's per-check peer figure, and
    the replay throughput."""
    from modelsteward.gate_bench import run_gate_bench

    counts = tuple(objects or (1, 10, 50))
    if any(count > 64 for count in counts):
        raise InvalidInput("--objects must be at most 64 (the bench envelope's max_objects)")
    result = run_gate_bench(
        objects=counts,
        cycles=cycles,
        on_stage=None if json_out else (lambda name: console.print(f"[dim]… {name}[/]")),
    )
    if json_out:
        print_json(result)
        return
    print_bench(result)


def print_bench(result: dict[str, Any]) -> None:
    table = Table(title="SafetyGate.decide latency (µs), GC handled in the loop")
    for column in ("objects", "proposal", "p50", "p99", "p99.9", "max", "vetoed", "dropped"):
        table.add_column(column, justify="right")
    for row in result["latency"]:
        table.add_row(
            str(row["objects"]),
            row["proposal"],
            str(row["p50_us"]),
            str(row["p99_us"]),
            str(row["p999_us"]),
            str(row["max_us"]),
            f"{row['vetoed_share']:.0%}",
            str(row["dropped"]),
        )
    console.print(table)
    if result["ad_rss"]:
        peer = Table(title="Peer: ad-rss safe-distance checks on the same scenes (µs)")
        for column in (
            "objects",
            "per check p50",
            "per check p99",
            "per scene p50",
            "per scene p99",
        ):
            peer.add_column(column, justify="right")
        for row in result["ad_rss"]:
            peer.add_row(
                str(row["objects"]),
                str(row["check_p50_us"]),
                str(row["check_p99_us"]),
                str(row["scene_p50_us"]),
                str(row["scene_p99_us"]),
            )
        console.print(peer)
    else:
        console.print(
            "[yellow]ad-rss is not installed: no peer figure (pip install 'modelsteward[test]')[/]"
        )
    vectorised, full = result["vectorised_replay"], result["full_replay"]
    console.print(
        f"vectorised longitudinal replay: {vectorised['decisions_per_s']:,} decisions/s "
        f"({vectorised['decisions']:,} in {vectorised['seconds']} s)"
    )
    console.print(
        f"full counterfactual replay: {full['decisions_per_s']:,} decisions/s; "
        f"load average {result['load_average']}"
    )
