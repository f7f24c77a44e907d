"""``steward license …``: lineage licence review, the legal register, the knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.errors import PolicyDenied

if TYPE_CHECKING:
    from modelsteward.services.licenses import LicenseDecision

license_app = typer.Typer(
    help="Licence review along the whole lineage, the legal register, the knowledge base.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
RefArg = Annotated[str, typer.Argument(help="NAME, NAME@ALIAS, NAME@VERSION or a sha256 digest.")]
UseOpt = Annotated[str, typer.Option("--use", help="commercial | research | internal.")]
DistOpt = Annotated[
    str, typer.Option("--distribution", help="none | weights | product (on-device, shipped).")
]
FieldOpt = Annotated[
    str | None,
    typer.Option("--field", help="Field of use, e.g. transportation (checked against limits)."),
]

_STYLE = {
    "compatible": "bold green",
    "compatible-with-obligations": "bold yellow",
    "incompatible": "bold red",
    "unknown": "bold red",
}


def _render(decision: LicenseDecision) -> None:
    review = decision.review
    data = review.to_dict()
    console.print(
        f"[{_STYLE.get(review.verdict, 'bold')}]{review.verdict.upper()}[/] for {data['use']} use,"
        f" distribution {data['distribution']}"
        + (f", field {data['field']}" if data.get("field") else "")
        + f" — {len(data['nodes'])} artifacts reviewed (knowledge base {data['kb_version']})"
    )
    if data["reasons"]:
        table = Table("level", "artifact", "licence", "reason")
        for reason in data["reasons"]:
            style = "yellow" if reason["level"] == "obligation" else "red"
            table.add_row(
                reason["level"],
                reason["label"],
                reason.get("license") or "-",
                reason["message"],
                style=style,
            )
        console.print(table)
    for obligation in data["obligations"]:
        console.print(f"  obligation: {obligation}")
    console.print(f"  review digest {review.digest}")
    if decision.approval:
        a = decision.approval
        console.print(
            f"[green]legal register:[/] approved by {a['approved_by']} on {a['approved_at'][:10]}"
            f" — {a['note']}"
        )
    for a in decision.voided:
        console.print(
            f"[yellow]legal register:[/] approval by {a['approved_by']} on {a['approved_at'][:10]}"
            " is void: the lineage changed since"
        )


@license_app.command("review")
def review(
    ref: RefArg,
    use: UseOpt,
    distribution: DistOpt = "none",
    field: FieldOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Walk the lineage (base models, run datasets, card datasets) and judge the licences.

    Exit 0 for compatible and compatible-with-obligations (or a holding legal-register
    approval); 6 for incompatible and unknown.
    """
    with open_steward() as app:
        decision = app.licenses.review(ref, use=use, distribution=distribution, field=field)
    if json_out:
        print_json(decision.to_dict())
        if not decision.allowed:
            raise typer.Exit(PolicyDenied.exit_code)
        return
    _render(decision)
    if not decision.allowed:
        raise PolicyDenied(
            f"licence review: {decision.review.verdict} for {use} use",
            hint="resolve the reasons above, or record a legal decision with "
            "`steward license approve`",
        )


@license_app.command("approve")
def approve(
    ref: RefArg,
    use: UseOpt,
    by: Annotated[str, typer.Option("--by", help="Who decided (legal).")],
    note: Annotated[str, typer.Option("--note", help="What was decided and why.")],
    distribution: DistOpt = "none",
    field: FieldOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a legal decision, bound to the model digest and the current review's digest."""
    with open_steward() as app:
        approval = app.licenses.approve(
            ref, use=use, by=by, note=note, distribution=distribution, field=field
        )
    if json_out:
        print_json(approval)
        return
    console.print(
        f"approved {approval['model']} for {use} use (verdict was "
        f"{approval['verdict_at_approval']}); bound to review {approval['review_digest']}"
    )


@license_app.command("kb")
def knowledge_base(
    license_id: Annotated[
        str | None, typer.Argument(help="Show one licence (id or alias).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The licence knowledge base shipped with Steward (every entry has a source)."""
    from modelsteward.errors import NotFound
    from modelsteward.licensing.knowledge import KnowledgeBase

    kb = KnowledgeBase.default()
    if license_id is not None:
        terms = kb.get(license_id)
        if terms is None:
            raise NotFound(f"no licence {license_id!r} in the knowledge base")
        if json_out:
            print_json(terms.to_dict())
        else:
            for key, value in terms.to_dict().items():
                console.print(f"  [bold]{key}[/]: {value}", soft_wrap=True)
        return
    entries = kb.entries()
    if json_out:
        print_json({"version": kb.version, "entries": [t.to_dict() for t in entries]})
        return
    table = Table(
        "id", "commercial", "redistribution", "derivatives", "share-alike", "use limits",
        title=f"licence knowledge base {kb.version}",
    )  # fmt: skip
    for t in entries:
        row = t.to_dict()
        limits = [row["use_restrictions"], row["field_of_use"]]
        count = "unknown" if "unknown" in limits else str(sum(len(x) for x in limits))
        table.add_row(
            t.id,
            row["commercial_use"],
            row["redistribution"],
            row["derivatives"],
            row["share_alike"],
            count,
        )
    console.print(table)
