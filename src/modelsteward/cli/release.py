"""Release gate commands: ``gate check``, ``gate decisions``, decision replay, ``signoff`` and
``promote``.

$ steward gate check reference/competent-policy@1 --to offline-validated
$ steward signoff reference/competent-policy@1 --to offline-validated --role safety --approve \
      --comment "scenario suite reviewed" --key sam.pem
$ steward promote reference/competent-policy@1 --to offline-validated
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.errors import PolicyDenied, VerificationFailed

__all__ = [
    "decisions_command",
    "print_decision",
    "promote_command",
    "register",
    "replay_decision",
    "signoff_command",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
RefArg = Annotated[str, typer.Argument(help="The release: NAME[@VERSION|@ALIAS] or digest.")]
ToOpt = Annotated[
    str,
    typer.Option(
        "--to",
        help="Target stage: offline-validated, shadow, canary, production or retired.",
    ),
]
DeploymentOpt = Annotated[
    str | None,
    typer.Option("--deployment", help="Where the release runs (needed for shadow and later)."),
]


def register(gate_app: typer.Typer, app: typer.Typer) -> None:
    """Add the release commands to the ``gate`` group and the root."""
    gate_app.command("check")(check_command)
    gate_app.command("decisions")(decisions_command)
    app.command("signoff")(signoff_command)
    app.command("promote")(promote_command)


def check_command(
    ref: RefArg, to: ToOpt, deployment: DeploymentOpt = None, json_out: JsonOpt = False
) -> None:
    """Assemble the evidence, evaluate the release gate, record the decision and explain it.

    Exits 0 when the policy allows the move and 6 when it denies it; each unmet requirement says
    what is missing and which command produces it.
    """
    with open_steward() as app:
        decision = app.release.check(ref, to, deployment)
    if json_out:
        print_json(decision.to_dict())
    else:
        print_decision(decision.record)
    if not decision.allow:
        raise typer.Exit(PolicyDenied.exit_code)


def print_decision(record: Mapping[str, Any]) -> None:
    """The decision, its unmet requirements, the rubric and the sign-offs, as tables."""
    verdict = "[bold green]ALLOWED[/]" if record["allow"] else "[bold red]DENIED[/]"
    where = f" in {record['deployment']}" if record.get("deployment") else ""
    console.print(
        f"{escape(record['model'])}: {record['from']} → {record['to']}{escape(where)}  {verdict}"
    )
    if record["unmet"]:
        table = Table(title="Unmet requirements", show_lines=True)
        for column in ("requirement", "category", "what is missing", "produce it with"):
            table.add_column(column, overflow="fold")
        for item in record["unmet"]:
            table.add_row(
                escape(str(item["title"])),
                str(item.get("category") or "-"),
                escape(str(item["message"])),
                escape(str(item.get("command") or "-")),
            )
        console.print(table)
    _print_rubric(record["rubric"])
    _print_signoffs(record["signoffs"])
    pack = record["policy_pack"]
    console.print(
        f"[dim]decision {record['decision_id']}\nevidence {record['evidence_digest']}\n"
        f"policy {pack['name']} {pack['version']} ({record['policy_digest']}); "
        f"engine {record['engine']['name']} {record['engine']['version']}[/]"
    )


def _print_rubric(rubric: Mapping[str, Any]) -> None:
    if not rubric:
        return
    table = Table(title="Rubric (every checklist item for this tier)")
    for column in ("category", "met", "score"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for category in ("performance", "provenance", "licensing", "hardening", "operations"):
        if category in rubric:
            met, total = rubric[category]["met"], rubric[category]["total"]
            share = met / total if total else 1.0
            colour = "green" if share == 1 else "yellow" if share >= 0.5 else "red"
            table.add_row(category, f"{met}/{total}", f"[{colour}]{share:.0%}[/]")
    console.print(table)


def _print_signoffs(signoffs: Mapping[str, Any]) -> None:
    counted = ", ".join(f"{s['person']} ({s['role']})" for s in signoffs.get("counted", []))
    console.print(f"sign-offs counted: {escape(counted) or 'none'}")
    for void in signoffs.get("void", []):
        console.print(
            f"  [yellow]void[/]: {escape(str(void.get('person')))} ({void.get('role')}) — "
            f"{escape(str(void.get('reason')))}"
        )


def decisions_command(
    ref: Annotated[str | None, typer.Argument(help="Only this release's decisions.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Recorded gate decisions, newest first."""
    with open_steward() as app:
        rows = app.release.decisions(ref, limit)
    if json_out:
        print_json(rows)
        return
    table = Table(title="Gate decisions")
    for column in ("decision", "model", "move", "result", "unmet", "purpose", "when"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["decision_id"][7:19],
            escape(row["model"]),
            f"{row['from']} → {row['to']}",
            "[green]allow[/]" if row["allow"] else "[red]deny[/]",
            str(len(row["unmet"])),
            row["purpose"],
            row["decided_at"][:19],
        )
    console.print(table)


def replay_decision(decision: str, json_out: bool) -> None:
    """``steward gate replay DECISION``: evaluate a stored decision again; exit 7 if it differs."""
    with open_steward() as app:
        replay = app.release.replay(decision)
    if json_out:
        print_json(replay.to_dict())
    else:
        record = replay.decision
        console.print(
            f"decision {record['decision_id']} ({record['model']}: {record['from']} → "
            f"{record['to']}, {'allow' if record['allow'] else 'deny'})"
        )
        console.print(
            f"engine then {record['engine']['name']} {record['engine']['version']}, "
            f"now {replay.engine['name']} {replay.engine['version']}"
        )
        if replay.identical:
            console.print("[green]replayed: identical result[/] (allow, unmet, rubric, sign-offs)")
        else:
            console.print(f"[red]replay differs in: {', '.join(replay.differences())}[/]")
    if not replay.identical:
        raise VerificationFailed(
            f"replaying {replay.decision['decision_id']} gave a different result",
            hint="the engine changed behaviour; compare engine versions above",
        )


def signoff_command(
    ref: RefArg,
    to: ToOpt,
    role: Annotated[str, typer.Option("--role", help="The role you sign in.")],
    key: Annotated[Path, typer.Option("--key", help="Your private key (PEM).")],
    comment: Annotated[str, typer.Option("--comment", help="What you checked and why.")],
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="Approve or reject.")
    ] = None,
    accept: Annotated[
        list[str] | None,
        typer.Option("--accept", help="Explicitly accept a gap: odd-gaps, provenance-gaps."),
    ] = None,
    deployment: DeploymentOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign the current evidence for moving REF to a stage; bound to the model, evidence and
    policy digests, so any later change voids it. The policy refuses self-sign-off and a second
    role for the same person."""
    from modelsteward.errors import InvalidInput

    if approve is None:
        raise InvalidInput("say --approve or --reject", hint="a sign-off carries a verdict")
    with open_steward() as app:
        result = app.release.signoff(
            ref, to, role=role.strip().lower(), approve=approve, comment=comment,
            key=key, accepts=tuple(accept or ()), deployment=deployment,
        )  # fmt: skip
    if json_out:
        print_json(result)
        return
    s = result["statement"]
    accepted = f"; accepts {', '.join(s['accepts'])}" if s["accepts"] else ""
    console.print(
        f"{escape(s['person'])} ({s['role']}) {s['verdict']}s {escape(s['model'])} → "
        f"{s['stage']}{accepted}\n[dim]evidence {s['evidence_digest']}\n"
        f"policy {s['policy_digest']}\n"
        f"key {result['key_id'][:16]}…, ledger entry {result['seq']}[/]"
    )


def promote_command(
    ref: RefArg, to: ToOpt, deployment: DeploymentOpt = None, json_out: JsonOpt = False
) -> None:
    """Evaluate the gate (fail closed) and, if it allows, move the release to the stage (and
    into the deployment). Of two concurrent promotions of one deployment exactly one wins; the
    other exits 5. A refused promotion exits 6 and its decision is recorded."""
    from modelsteward.services.release import PromotionRefused

    with open_steward() as app:
        try:
            decision = app.release.promote(ref, to, deployment)
        except PromotionRefused as refused:
            if json_out:  # one JSON document: the refused decision (exit 6)
                print_json(refused.decision.to_dict())
                raise typer.Exit(PolicyDenied.exit_code) from None
            print_decision(refused.decision.record)
            raise
    if json_out:
        print_json(decision.to_dict())
        return
    record = decision.record
    where = f" in {record['deployment']}" if record.get("deployment") else ""
    console.print(
        f"[green]promoted[/] {escape(record['model'])}: {record['from']} → {record['to']}"
        f"{escape(where)}\n[dim]decision {record['decision_id']}[/]"
    )
