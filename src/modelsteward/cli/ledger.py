"""``steward ledger …``: the tamper-evident log of every state change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelsteward.cli._common import (
    console,
    open_steward,
    print_json,
    read_text,
    write_output,
)
from modelsteward.errors import InvalidInput
from modelsteward.ledger.checkpoint import NoteVerifier
from modelsteward.ledger.verify import LogVerifier, VerifyReport, verify_proof

ledger_app = typer.Typer(
    help="The tamper-evident ledger: notes, checkpoints, exports, proofs, verification.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@ledger_app.command("note")
def note(
    text: Annotated[str, typer.Argument(help="The annotation.")], json_out: JsonOpt = False
) -> None:
    """Record an auditor's annotation (kind `note`)."""
    with open_steward() as steward:
        entry = steward.ledger.note(text)
    if json_out:
        print_json(entry.to_dict())
    else:
        console.print(f"recorded seq {entry.seq} at {entry.time}")


@ledger_app.command("tail")
def tail(
    n: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many entries.")] = 10,
    json_out: JsonOpt = False,
) -> None:
    """Show the newest entries."""
    with open_steward() as steward:
        entries = steward.ledger.tail(n)
    if json_out:
        print_json([e.to_dict() for e in entries])
        return
    table = Table("seq", "time (UTC)", "kind", "actor", "subject", "payload")
    for column in table.columns:
        column.no_wrap = True
    table.columns[4].max_width = 32
    table.columns[4].overflow = "ellipsis"
    room = max(24, console.width - 110)  # the payload is cut to fit; --json has all of it
    for e in entries:
        payload = json.dumps(e.payload, ensure_ascii=False, sort_keys=True)
        if len(payload) > room:
            payload = payload[: room - 1] + "…"
        table.add_row(str(e.seq), e.time[:19], e.kind, e.actor, e.subject, payload)
    console.print(table)


@ledger_app.command("checkpoint")
def checkpoint(
    out: Annotated[Path | None, typer.Option("--out", help="Write the signed note here.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign a checkpoint (C2SP signed note) of the current tree and print or write it."""
    with open_steward() as steward:
        stored = steward.ledger.checkpoint()
    if out:
        write_output(out, stored.note)
    if json_out:
        print_json({"size": stored.size, "root": stored.root.hex(), "note": stored.note})
    elif out:
        console.print(f"checkpoint of {stored.size} entries written to {out}")
    else:
        typer.echo(stored.note, nl=False)


@ledger_app.command("public-key")
def public_key(
    out: Annotated[Path | None, typer.Option("--out", help="Write the key here.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="vkey (C2SP) or pem.")] = "vkey",
) -> None:
    """Print the ledger's verifier key (C2SP vkey or PEM)."""
    if fmt not in ("vkey", "pem"):
        raise InvalidInput(f"--format {fmt!r} is not known", hint="use vkey or pem")
    with open_steward() as steward:
        verifier = steward.workspace.verifier()
    text = verifier.to_vkey() + "\n" if fmt == "vkey" else verifier.public_pem().decode()
    if out:
        write_output(out, text)
        console.print(f"public key written to {out}")
    else:
        typer.echo(text, nl=False)


@ledger_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
    json_out: JsonOpt = False,
) -> None:
    """Export every entry as JSON Lines: {"entry": base64 of the leaf bytes, "seq": n}."""
    with open_steward() as steward:
        count = steward.ledger.export(out)
    if json_out:
        print_json({"entries": count, "out": str(out)})
    else:
        console.print(f"exported {count} entries to {out}")


def _load_key(path: Path) -> NoteVerifier:
    return NoteVerifier.from_file_text(read_text(path, "key"))


def _print_report(report: VerifyReport, json_out: bool, what: str) -> None:
    if json_out:
        print_json(report.to_dict())
        return
    console.print(
        f"[green]OK[/] {what}: {report.size} entries match the signed checkpoint of {report.origin}"
    )
    if report.previous_checked:
        console.print(f"   consistent with {report.previous_checked} earlier checkpoint(s)")
    for line in report.notes:
        console.print(f"   note: {line}")


@ledger_app.command("verify")
def verify(
    entries: Annotated[
        Path | None, typer.Option("--entries", help="Offline: a `ledger export` file.")
    ] = None,
    checkpoint_file: Annotated[
        Path | None, typer.Option("--checkpoint", help="Offline: the signed checkpoint.")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="Offline: the trusted public key (vkey or PEM).")
    ] = None,
    previous: Annotated[
        list[Path] | None,
        typer.Option("--previous", help="Offline: earlier checkpoints that must be prefixes."),
    ] = None,
    deep: Annotated[
        bool, typer.Option("--deep", help="Also parse and schema-check every entry.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Verify the ledger: the workspace's (no options) or offline files (no database needed)."""
    if entries or checkpoint_file or key or previous:
        if entries is None or checkpoint_file is None or key is None:
            raise InvalidInput(
                "offline verification needs --entries, --checkpoint and --key together"
            )
        notes = [read_text(p, "previous checkpoint") for p in previous or []]
        log = LogVerifier(_load_key(key), read_text(checkpoint_file, "checkpoint"), notes)
        _print_report(log.run_export(entries, deep=deep), json_out, str(entries))
        return
    with open_steward() as steward:
        report = steward.ledger.verify(deep=deep)
    _print_report(report, json_out, "workspace ledger")


@ledger_app.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(help="Sequence number of the entry.")],
    out: Annotated[Path, typer.Option("--out", help="Proof file to write.")],
    json_out: JsonOpt = False,
) -> None:
    """Write a self-contained inclusion proof (entry + audit path + signed checkpoint)."""
    with open_steward() as steward:
        document = steward.ledger.prove(seq)
    write_output(out, json.dumps(document, indent=2, sort_keys=True) + "\n")
    if json_out:
        print_json({"seq": seq, "out": str(out)})
    else:
        console.print(f"proof of seq {seq} written to {out}")


@ledger_app.command("verify-proof")
def verify_proof_command(
    proof: Annotated[Path, typer.Argument(help="A file written by `steward ledger prove`.")],
    key: Annotated[Path, typer.Option("--key", help="The trusted public key (vkey or PEM).")],
    json_out: JsonOpt = False,
) -> None:
    """Verify a proof file offline: signature, entry and audit path."""
    report = verify_proof(read_text(proof, "proof").encode(), _load_key(key))
    if json_out:
        print_json(report.to_dict())
        return
    e = report.entry
    console.print(
        f"[green]OK[/] seq {e.seq} ({e.kind} by {e.actor} at {e.time}) is in the log "
        f"{report.checkpoint.origin} of {report.checkpoint.size} entries"
    )


@ledger_app.command("bench")
def bench(
    entries: Annotated[int, typer.Option("--entries", min=1, help="Entries to write.")] = 20_000,
    producers: Annotated[
        int, typer.Option("--producers", min=1, max=256, help="Concurrent producers.")
    ] = 8,
    window: Annotated[
        int, typer.Option("--window", min=1, help="Appends each producer keeps in flight.")
    ] = 64,
    json_out: JsonOpt = False,
) -> None:
    """Benchmark a scratch ledger: durable appends/s, ack latency, verification speed."""
    from modelsteward.benchmark import run_ledger_bench  # heavy: import only when asked

    figures = run_ledger_bench(entries, producers, window)
    if json_out:
        print_json(figures)
        return
    table = Table("figure", "value")
    for name, value in figures.items():
        table.add_row(name, str(value))
    console.print(table)


__all__ = ["ledger_app"]
