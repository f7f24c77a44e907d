"""``steward model …``: intake, inventory, lineage, aliases, signing and verification."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.cli._progress import file_progress
from modelsteward.cli._render import human_size, render_record, scan_table
from modelsteward.errors import InvalidInput, PolicyDenied, VerificationFailed

if TYPE_CHECKING:
    from modelsteward.services.intake import IntakeResult

model_app = typer.Typer(
    help="Model registry: intake, inventory, lineage, aliases, signing, verification.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
RefArg = Annotated[str, typer.Argument(help="NAME, NAME@ALIAS, NAME@VERSION or a sha256 digest.")]


def _accepted(files: list[str], reason: str | None) -> dict[str, str]:
    if files and not reason:
        raise InvalidInput(
            "--unsafe-accept-unscanned needs --reason",
            hint="say who reviewed the file and why it is acceptable",
        )
    return {f: reason or "" for f in files}


@model_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="Model folder (HF snapshot) or single file.")],
    name: Annotated[str, typer.Option("--name", help="Inventory name, e.g. acme/drive-vla.")],
    source: Annotated[str | None, typer.Option(help="Upstream repository URL.")] = None,
    revision: Annotated[str | None, typer.Option(help="Exact upstream revision.")] = None,
    steward: Annotated[str | None, typer.Option(help="Owner's e-mail.")] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            help="exploratory | internal-decision-support | controlled-pilot | "
            "limited-production | safety-critical-production (default exploratory)."
        ),
    ] = None,
    intended_use: Annotated[str | None, typer.Option(help="What it may be used for.")] = None,
    prohibited_use: Annotated[
        str | None, typer.Option(help="What it must not be used for.")
    ] = None,
    unsafe_accept_unscanned: Annotated[
        list[str] | None,
        typer.Option(help="Accept an unscanned file (relative path; repeatable). Recorded."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why the unscanned files are accepted.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Hash, scan and register a model version (idempotent for identical content).

    Exits 6 when a file is unsafe or unscanned: the version is registered as blocked.
    """
    from modelsteward.services.intake import IntakeProgress, IntakeRequest

    request = IntakeRequest(
        path=path,
        name=name,
        source=source,
        revision=revision,
        steward=steward,
        tier=tier,
        intended_use=intended_use,
        prohibited_use=prohibited_use,
        unsafe_accept_unscanned=_accepted(unsafe_accept_unscanned or [], reason),
    ).checked()
    with open_steward() as app, file_progress(json_out) as bars:
        result = app.models.add(request, IntakeProgress(bars.on_plan, bars.on_bytes, bars.on_scan))
    _report_intake(result, json_out)


def _report_intake(result: IntakeResult, json_out: bool) -> None:
    version = result.version
    if json_out:
        print_json(
            {
                "created": result.created,
                "ignored": list(result.ignored),
                "record": version.to_dict(),
                "scan": result.scan.to_dict(),
            }
        )
    else:
        verb = "registered" if result.created else "already registered"
        console.print(f"[bold]{verb}[/] {version.ref}  {version.digest}")
        for line in result.ignored:
            console.print(f"[yellow]note:[/] {line}")
        render_record(console, version)
        if result.scan.unsafe or result.scan.unscanned:
            console.print(scan_table(result.scan, problems_only=True))
        else:
            scanners = ", ".join(f"{k} {v}" for k, v in sorted(result.scan.scanners.items()))
            console.print(f"  scan              {len(result.scan.files)} files safe ({scanners})")
    if version.status.value == "blocked":
        blocking = ", ".join(version.scan["blocking"])
        if json_out:
            raise typer.Exit(PolicyDenied.exit_code)
        raise PolicyDenied(
            f"{version.ref} is registered as BLOCKED: {blocking}",
            hint="it can be inspected but never promoted; unscanned files can be accepted with "
            "--unsafe-accept-unscanned FILE --reason …",
        )


@model_app.command("list")
def list_models(
    tier: Annotated[list[str] | None, typer.Option(help="Risk tier (repeatable).")] = None,
    license: Annotated[list[str] | None, typer.Option(help="Licence id (repeatable).")] = None,
    steward: Annotated[str | None, typer.Option(help="Owner's e-mail.")] = None,
    status: Annotated[str | None, typer.Option(help="registered | blocked.")] = None,
    name: Annotated[str | None, typer.Option(help="Only versions of this model.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """The inventory, filtered."""
    with open_steward() as app:
        rows = app.models.list(
            tier=tier or [], license=license or [], steward=steward, status=status, name=name
        )
    if json_out:
        print_json([r.to_dict() for r in rows])
        return
    table = Table("model", "digest", "tier", "licence", "steward", "status", "size", "registered")
    for r in rows:
        style = "red" if r.status == "blocked" else ""
        table.add_row(
            f"{r.name}@{r.version}",
            r.digest.removeprefix("sha256:")[:12],
            r.tier,
            r.license or "-",
            r.steward or "-",
            r.status,
            human_size(r.size),
            r.registered_at[:19].replace("T", " "),
            style=style,
        )
    console.print(table)
    console.print(f"{len(rows)} version(s)")


@model_app.command("show")
def show(ref: RefArg, json_out: JsonOpt = False) -> None:
    """A version's inventory record, scan verdicts, lineage, aliases and signatures."""
    with open_steward() as app:
        version = app.models.get(ref)
        details = app.models.details(version)
        report = app.models.scan_report(version)
        runs = [r.id for r in app.runs.list(name=version.name) if r.output_digest == version.digest]
        flags = app.runs.flags(version)
    if json_out:
        print_json(
            {**details, "scan_report": report.to_dict(), "runs": runs, "provenance_flags": flags}
        )
        return
    console.print(f"[bold]{version.ref}[/]  {version.digest}")
    render_record(console, version)
    for run_id in runs:
        console.print(f"  produced by run {run_id} (steward run show {run_id})")
    for flag in flags:
        console.print(f"  [yellow]flag:[/] {flag}")
    lineage = details["lineage"]
    for ancestor in lineage["ancestors"]:
        where = ancestor["ref"] if ancestor["resolved"] else "[yellow]unresolved ancestor[/]"
        console.print(f"  base model {ancestor['declared']} ({ancestor['relation']}): {where}")
    if details["aliases"]:
        console.print("  aliases: " + ", ".join(f"{version.name}@{a}" for a in details["aliases"]))
    for sig in details["signatures"]:
        console.print(
            f"  signed {sig['signed_at'][:19]} by {sig['signed_by']}, key "
            f"{sig['key_fingerprint'][:16]}…"
        )
    console.print(scan_table(report))


@model_app.command("lineage")
def lineage(
    ref: RefArg,
    json_out: JsonOpt = False,
    dot: Annotated[bool, typer.Option("--dot", help="Graphviz DOT output.")] = False,
) -> None:
    """Where a version comes from (declared base models, resolved now) and what builds on it."""
    with open_steward() as app:
        result = app.models.lineage(app.models.get(ref))
    if dot:
        console.out(result.to_dot(), end="")
        return
    if json_out:
        print_json(result.to_dict())
        return
    from rich.tree import Tree

    tree = Tree(f"[bold]{result.version.ref}[/] {str(result.version.digest)[:19]}…")

    def add(node: Tree, ancestors: Any) -> None:
        for a in ancestors:
            label = (
                f"{a.declared} → {a.version.ref}"
                if a.version
                else f"{a.declared} [yellow](unresolved)[/]"
            )
            add(node.add(f"{a.relation or 'base'}: {label}"), a.parents)

    add(tree, result.ancestors)
    for run in result.runs:
        branch = tree.add(f"[blue]run {run['run']}[/]")
        for item in run["inputs"]:
            branch.add(f"{item['role']}: {item['name']} {item['digest'][:19]}…")
    console.print(tree)
    for child in result.descendants:
        console.print(f"derived: {child.ref}")


@model_app.command("alias")
def alias(
    target: Annotated[str, typer.Argument(help="NAME@ALIAS to move, e.g. drive-vla@prod.")],
    ref: RefArg,
    json_out: JsonOpt = False,
) -> None:
    """Point an alias at a version (a ledger event; blocked versions are refused)."""
    with open_steward() as app:
        move = app.models.move_alias(target, ref)
    if json_out:
        print_json(_move(move))
    else:
        console.print(f"{move.name}@{move.alias} → {move.target_ref} (ledger seq {move.seq})")


def _move(move: Any) -> dict[str, Any]:
    return {
        "name": move.name,
        "alias": move.alias,
        "previous": str(move.previous) if move.previous else None,
        "target": str(move.target),
        "target_ref": move.target_ref,
        "moved_at": move.moved_at,
        "moved_by": move.moved_by,
        "seq": move.seq,
    }


@model_app.command("aliases")
def aliases(
    name: Annotated[str, typer.Argument(help="Model name, or NAME@ALIAS for one alias.")],
    json_out: JsonOpt = False,
) -> None:
    """The history of a model's aliases, oldest first."""
    base, _, one = name.partition("@")
    with open_steward() as app:
        moves = app.models.alias_history(base, one or None)
    if json_out:
        print_json([_move(m) for m in moves])
        return
    table = Table("seq", "alias", "now points at", "moved at", "by")
    for m in moves:
        table.add_row(str(m.seq), m.alias, m.target_ref, m.moved_at[:19], m.moved_by)
    console.print(table)


@model_app.command("sign")
def sign(
    ref: RefArg,
    key: Annotated[Path, typer.Option("--key", help="EC private key (PEM), see `keys new`.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the OMS bundle.")],
    json_out: JsonOpt = False,
) -> None:
    """Sign a registered version's manifest into an OMS bundle (verifiable by model_signing)."""
    with open_steward() as app:
        version, fingerprint = app.trust.sign(ref, key, out)
    if json_out:
        print_json(
            {
                "model": version.ref,
                "digest": str(version.digest),
                "key_fingerprint": fingerprint,
                "signature": str(out),
            }
        )
    else:
        console.print(f"signed {version.ref} ({version.digest}) → {out}")


@model_app.command("verify")
def verify(
    ref: RefArg,
    path: Annotated[Path, typer.Argument(help="The files to check (folder or file).")],
    signature: Annotated[Path | None, typer.Option(help="OMS bundle to check too.")] = None,
    public_key: Annotated[Path | None, typer.Option(help="PEM public key of the signer.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-hash PATH; compare with the registered manifest (and signature). Exits 7 on mismatch."""
    with open_steward() as app:
        result = app.trust.verify(ref, path, signature=signature, public_key=public_key)
    if json_out:
        print_json(result.to_dict())
        if not result.ok:
            raise typer.Exit(VerificationFailed.exit_code)
        return
    if result.ok:
        extra = " and its signature" if result.signature else ""
        console.print(f"[green]OK[/] {path} is {result.version.ref}{extra}")
        return
    for line in result.problems():
        console.print(f"  [red]{line}[/]")
    raise VerificationFailed(
        f"{path} does not match {result.version.ref} ({len(result.problems())} problem(s))",
        hint="the files differ from what was registered; do not deploy them",
    )
