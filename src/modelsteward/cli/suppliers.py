"""``steward supplier …``: upstream organisations and their review."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json

supplier_app = typer.Typer(
    help="Upstream suppliers: what their snapshots show and what reviewers found.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _yes(value: object) -> str:
    if value is None:
        return "-"
    return "yes" if value else "no"


@supplier_app.command("list")
def list_suppliers(json_out: JsonOpt = False) -> None:
    """Every supplier seen in a --source URL."""
    from modelsteward.services.suppliers import supplier_summary

    with open_steward() as app:
        rows = [supplier_summary(s) for s in app.suppliers.list()]
    if json_out:
        print_json(rows)
        return
    table = Table("supplier", "models", "licence file", "card", "release notes", "reviewed by")
    for r in rows:
        table.add_row(
            r["id"],
            str(len(r["models"])),
            _yes(r["license_file"]),
            r["card_completeness"] or "-",
            _yes(r["release_notes"]),
            r["review"]["reviewed_by"] or "[yellow]not reviewed[/]",
        )
    console.print(table)


@supplier_app.command("show")
def show_supplier(
    supplier: Annotated[str, typer.Argument(help="Supplier id, e.g. huggingface.co/nvidia.")],
    json_out: JsonOpt = False,
) -> None:
    """A supplier's observations (per snapshot) and review."""
    from modelsteward.services.suppliers import supplier_summary

    with open_steward() as app:
        found = app.suppliers.get(supplier)
    if json_out:
        print_json({**supplier_summary(found), "observations": list(found.observations)})
        return
    summary = supplier_summary(found)
    console.print(f"[bold]{found.id}[/] first seen {found.first_seen[:19]}")
    table = Table("model", "revision", "licence", "licence file", "card", "datasets")
    for o in found.observations:
        table.add_row(
            o.get("model", "-"),
            o.get("revision") or "-",
            o.get("declared_license") or "-",
            _yes(o.get("license_file")),
            o.get("card_completeness", "-"),
            ", ".join(o.get("declared_datasets", [])) or "-",
        )
    console.print(table)
    review = summary["review"]
    for key in ("maintainer_activity", "advisories", "notes", "reviewed_by", "reviewed_at"):
        console.print(f"  {key.replace('_', ' ')}: {review[key] or '-'}")


@supplier_app.command("review")
def review_supplier(
    supplier: Annotated[str, typer.Argument(help="Supplier id.")],
    maintainer_activity: Annotated[
        str | None, typer.Option(help="active | occasional | dormant | unknown.")
    ] = None,
    advisories: Annotated[str | None, typer.Option(help="Known security advisories.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Record the reviewer's fields (a ledger event; you are the reviewer)."""
    from modelsteward.services.suppliers import supplier_summary

    with open_steward() as app:
        found = app.suppliers.review(
            supplier, maintainer_activity=maintainer_activity, advisories=advisories, notes=notes
        )
    if json_out:
        print_json(supplier_summary(found))
    else:
        console.print(f"reviewed {found.id} as {found.review.reviewed_by}")
