"""``steward dataset …``: register snapshots, list (and what expires), show, dataset cards."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from modelsteward.cli._common import console, open_steward, print_json
from modelsteward.cli._progress import file_progress
from modelsteward.cli._render import human_size

if TYPE_CHECKING:
    from modelsteward.bootstrap import Steward
    from modelsteward.data.records import DatasetSnapshot

dataset_app = typer.Typer(
    help="Dataset register: snapshots, licences, consent, PII findings, retention, cards.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@dataset_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="Dataset folder or file.")],
    name: Annotated[str, typer.Option("--name", help="Register name (one snapshot per name).")],
    license: Annotated[
        str, typer.Option("--license", help="SPDX expression or knowledge-base licence id.")
    ],
    tier: Annotated[
        str,
        typer.Option(help="public | licensed | partner | user-generated | synthetic | restricted."),
    ],
    consent: Annotated[
        str,
        typer.Option(
            help="consent | contract | legal-obligation | vital-interests | public-task | "
            "legitimate-interests | license | not-personal-data."
        ),
    ],
    collected: Annotated[str, typer.Option(help="YYYY-MM-DD or START..END.")],
    geography: Annotated[str, typer.Option(help="ISO 3166 codes, comma-separated (or EU).")],
    retention_days: Annotated[int, typer.Option(help="Days after collection it may be used.")],
    source: Annotated[str, typer.Option(help="Where the data came from.")],
    exclusions: Annotated[
        Path | None, typer.Option(help="YAML: inclusion and exclusion rules, reasons, counts.")
    ] = None,
    odd_tags: Annotated[
        Path | None, typer.Option(help="YAML: ODD attribute → values the data covers.")
    ] = None,
    source_column: Annotated[
        str | None, typer.Option(help="Column naming each record's source (counts per source).")
    ] = None,
    pii_patterns: Annotated[
        Path | None, typer.Option(help="YAML: extra vehicle-plate patterns, phone region…")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Snapshot, profile, PII-scan and register a dataset (idempotent for the same content)."""
    from modelsteward.services.datasets import DatasetProgress, DatasetRequest

    request = DatasetRequest(
        path=path,
        name=name,
        license=license,
        tier=tier,
        consent=consent,
        collected=collected,
        geography=geography,
        retention_days=retention_days,
        source=source,
        exclusions=exclusions,
        odd_tags=odd_tags,
        source_column=source_column,
        pii_patterns=pii_patterns,
    )
    with open_steward() as app, file_progress(json_out) as bars:
        result = app.datasets.add(
            request, DatasetProgress(bars.on_plan, bars.on_bytes, bars.on_scan)
        )
    snap = result.snapshot
    if json_out:
        print_json(
            {"created": result.created, "ignored": list(result.ignored), "record": snap.to_dict()}
        )
        return
    verb = "registered" if result.created else "already registered"
    console.print(f"[bold]{verb}[/] dataset {snap.name}  {snap.digest}")
    for line in result.ignored:
        console.print(f"[yellow]note:[/] {line}")
    _render(snap)


def _render(snap: DatasetSnapshot, used_by: list[dict[str, Any]] | None = None) -> None:
    left = snap.days_left()
    status = (
        f"[red]EXPIRED on {snap.expires_on}[/]"
        if left <= 0
        else f"expires {snap.expires_on} ({left} days left)"
    )
    rows = [
        ("licence", snap.license),
        ("tier", snap.tier.value),
        ("consent", snap.consent.value),
        ("collected", f"{snap.collected_from} .. {snap.collected_to}"),
        ("geography", ", ".join(snap.geography)),
        ("retention", f"{snap.retention_days} days; {status}"),
        ("source", snap.source),
        ("size", f"{human_size(snap.size)} in {snap.file_count} files"),
        ("records", "-" if snap.rows is None else str(snap.rows)),
        ("removed", f"{snap.curation.removed_total} by {len(snap.curation.exclusion)} rules"),
        ("odd tags", ", ".join(sorted(snap.odd_tags.tags)) or "-"),
    ]
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    _pii_table(snap.pii)
    for use in used_by or []:
        console.print(f"  used by run {use['run']} → {use['model']}")


def _pii_table(pii: dict[str, Any]) -> None:
    for item in pii.get("unconfirmed", []):
        console.print(
            f"  unconfirmed: {item['count']} {item['kind']} value(s) in {item['file']}"
            f" column {item.get('column') or '-'} (valid shape, no confirming context)"
        )
    findings = pii.get("by_column", [])
    if not findings:
        console.print("  PII: none found")
        return
    table = Table("file", "column", "PII type", "count", "redacted samples", title="PII findings")
    for item in findings:
        table.add_row(
            item["file"],
            item.get("column") or "-",
            item["type"],
            str(item["count"]),
            ", ".join(item.get("samples", [])),
            style="yellow",
        )
    console.print(table)


@dataset_app.command("list")
def list_datasets(
    expiring: Annotated[
        str | None,
        typer.Option(help="Only datasets expired or expiring within this window, e.g. 30d."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The register, or (with --expiring) what must stop being used soon."""
    from modelsteward.data.records import parse_window

    days = parse_window(expiring) if expiring is not None else None
    with open_steward() as app:
        rows = app.datasets.list(expiring_days=days)
    if json_out:
        print_json([{**r.to_dict(), "days_left": r.days_left()} for r in rows])
        return
    table = Table("dataset", "digest", "tier", "licence", "records", "PII", "expires", "status")
    for r in rows:
        left = r.days_left()
        status = "[red]expired[/]" if left <= 0 else f"{left} days left"
        table.add_row(
            r.name,
            str(r.digest)[:19] + "…",
            r.tier.value,
            r.license,
            "-" if r.rows is None else str(r.rows),
            str(r.pii_total),
            r.expires_on,
            status,
        )
    console.print(table)


def _used_by(app: Steward, snap: DatasetSnapshot) -> list[dict[str, Any]]:
    return [{"run": run.id, "model": run.output} for run in app.datasets.trained_on(snap)]


@dataset_app.command("show")
def show(
    ref: Annotated[str, typer.Argument(help="Dataset name or digest.")],
    json_out: JsonOpt = False,
) -> None:
    """A snapshot's record, PII findings and the models trained on it."""
    with open_steward() as app:
        snap = app.datasets.get(ref)
        used = _used_by(app, snap)
    if json_out:
        print_json({**snap.to_dict(), "days_left": snap.days_left(), "used_by": used})
        return
    console.print(f"[bold]{snap.name}[/]  {snap.digest}")
    _render(snap, used)
    if snap.expired() and used:
        console.print(
            "[red]flag:[/] models trained on this expired dataset: "
            + ", ".join(u["model"] for u in used)
        )


@dataset_app.command("card")
def card(
    ref: Annotated[str, typer.Argument(help="Dataset name or digest.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder to write DATASET_CARD.md and dataset_card.json.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The dataset card, generated from the register (Markdown, or JSON with --json)."""
    from modelsteward.data.card import card_data, render_markdown

    with open_steward() as app:
        snap = app.datasets.get(ref)
        data = card_data(snap, _used_by(app, snap), date.today().isoformat())
    markdown = render_markdown(data)
    if out is not None:
        import json

        out.mkdir(parents=True, exist_ok=True)
        (out / "DATASET_CARD.md").write_text(markdown, encoding="utf-8")
        (out / "dataset_card.json").write_text(
            json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        console.print(f"wrote {out / 'DATASET_CARD.md'} and {out / 'dataset_card.json'}")
        return
    if json_out:
        print_json(data)
    else:
        console.out(markdown, end="")
