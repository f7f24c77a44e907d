"""Human renderings shared by command groups: sizes, inventory records, scan verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from modelsteward.artifacts.scanning import ScanReport
    from modelsteward.registry.records import ModelVersion

__all__ = ["human_size", "render_record", "scan_table"]

_VERDICT_STYLE = {"safe": "green", "unsafe": "bold red", "unscanned": "yellow"}


def human_size(n: int) -> str:
    """``1.5 GiB`` style."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def render_record(console: Console, version: ModelVersion) -> None:
    """The inventory fields an auditor asks for, as a two-column table."""
    licence = version.license or "-"
    if version.license == "other":
        licence = f"other: {version.license_name or '?'} {version.license_link or ''}".strip()
    rows = [
        ("status", version.status.value.upper()),
        ("name", version.ref),
        ("digest", str(version.digest)),
        ("source", version.source or "-"),
        ("revision", version.revision or "-"),
        ("supplier", version.supplier or "-"),
        ("steward", version.steward or "-"),
        ("tier", version.tier.value),
        ("formats", ", ".join(version.formats) or "-"),
        ("size", f"{human_size(version.size)} in {version.file_count} files"),
        ("licence", licence),
        ("base models", ", ".join(version.base_models) or "-"),
        ("datasets", ", ".join(version.datasets) or "-"),
        ("framework", ", ".join(f"{k} {v}" for k, v in version.framework.items()) or "-"),
        ("intended use", version.intended_use or "-"),
        ("prohibited use", version.prohibited_use or "-"),
        ("registered", f"{version.registered_at} by {version.registered_by}"),
    ]
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        style = "red" if key == "status" and value == "BLOCKED" else ""
        table.add_row(key, value, style=style)
    for gap in version.gaps:
        table.add_row("gap", gap, style="yellow")
    console.print(table)


def scan_table(report: ScanReport, *, problems_only: bool = False) -> Table:
    """One row per file (or per unsafe/unscanned file): format, verdict, scanner, findings."""
    files = (
        [f for f in report.files if f.verdict.value != "safe"] if problems_only else report.files
    )
    hidden = len(report.files) - len(files)
    caption = f"{hidden} other file(s) scanned safe" if hidden else None
    table = Table("file", "format", "verdict", "scanner", "findings", title="scan", caption=caption)
    for f in files:
        style = _VERDICT_STYLE.get(f.verdict.value, "")
        table.add_row(
            f.path,
            f.format,
            f"[{style}]{f.verdict.value}[/]",
            f"{f.scanner} {f.scanner_version}",
            "; ".join(f.findings),
        )
    return table
