"""Dataset cards (Markdown and JSON) generated from the register, never written by hand.

The headings follow the dataset-card practice of Gebru et al.'s *Datasheets for Datasets* and the
Hugging Face dataset card: identity, provenance and consent, composition, curation (what was kept
and what was removed), personal data, retention, operational design domain, and use.

>>> from modelsteward.data.records import DatasetSnapshot
>>> card = {"name": "logs", "digest": "sha256:" + "0" * 64}
>>> "# Dataset card: logs" in render_markdown(card)
True
"""

from __future__ import annotations

from typing import Any

from modelsteward.data.records import DatasetSnapshot

__all__ = ["CARD_SCHEMA", "card_data", "render_markdown"]

CARD_SCHEMA = "https://modelsteward.dev/schemas/dataset-card/v1"


def card_data(
    snapshot: DatasetSnapshot, used_by: list[dict[str, Any]], today: str
) -> dict[str, Any]:
    """The card as JSON: the record plus the runs and models that used the data."""
    record = snapshot.to_dict()
    record.pop("location", None)  # a local path says nothing to a reader elsewhere
    return {
        "$schema": CARD_SCHEMA,
        **record,
        "status": "expired" if snapshot.expired() else "in retention",
        "generated_on": today,
        "used_by": used_by,
    }


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["_none_", ""]
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*out, ""]


def _composition(card: dict[str, Any]) -> list[str]:
    lines = ["## Composition", ""]
    lines.append(f"{card.get('file_count', 0)} files, {card.get('size', 0)} bytes.")
    if card.get("rows") is not None:
        lines.append(f"{card['rows']} records in tabular files.")
    lines.append("")
    tables = card.get("tables", {})
    rows = [
        [path, t.get("format"), t.get("rows"), ", ".join(c["name"] for c in t.get("columns", []))]
        for path, t in sorted(tables.items())
    ]
    lines += _table(["file", "format", "records", "columns"], rows)
    for path, t in sorted(tables.items()):
        if t.get("source_counts"):
            lines.append(f"Records per `{t['source_column']}` in `{path}`:")
            lines.append("")
            lines += _table(["source", "records"], [[k, v] for k, v in t["source_counts"].items()])
    return lines


def _curation(card: dict[str, Any]) -> list[str]:
    curation = card.get("curation", {})
    lines = ["## Curation", "", "### Inclusion rules", ""]
    lines += _table(
        ["rule", "reason"], [[r["rule"], r["reason"]] for r in curation.get("inclusion", [])]
    )
    lines += ["### Exclusion rules", ""]
    lines += _table(
        ["rule", "reason", "records removed"],
        [[r["rule"], r["reason"], r["removed"]] for r in curation.get("exclusion", [])],
    )
    lines += [f"Records removed in total: {curation.get('removed_total', 0)}.", ""]
    return lines


def _pii(card: dict[str, Any]) -> list[str]:
    pii = card.get("pii", {})
    counts = pii.get("counts", {})
    lines = ["## Personal data", ""]
    lines.append(f"Scanner: {pii.get('scanner', 'unknown')}. Consent basis: {card.get('consent')}.")
    lines.append("")
    if not counts:
        return [*lines, "No personal data was found by the scanner.", ""]
    rows = [
        [
            item["file"],
            item.get("column") or "-",
            item["type"],
            item["count"],
            ", ".join(item.get("samples", [])),
        ]
        for item in pii.get("by_column", [])
    ]
    return lines + _table(["file", "column", "type", "count", "redacted samples"], rows)


def _odd(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value['min']} to {value['max']}"
    return ", ".join(str(v) for v in value)


def render_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown (from :func:`card_data`'s output)."""
    lines = [f"# Dataset card: {card['name']}", "", f"Snapshot digest: `{card['digest']}`", ""]
    if "tier" in card:
        lines += [
            "## Provenance",
            "",
            f"- Source: {card['source']}",
            f"- Tier: {card['tier']}",
            f"- Licence: {card['license']}",
            f"- Consent basis: {card['consent']}",
            f"- Collected: {card['collected_from']} to {card['collected_to']}",
            f"- Geography: {', '.join(card['geography'])}",
            f"- Registered: {card['registered_at']} by {card['registered_by']}",
            "",
            "## Retention",
            "",
            f"- Retention: {card['retention_days']} days after collection; "
            f"expires on {card['expires_on']} ({card['status']} on {card['generated_on']}).",
            "",
        ]
        lines += _composition(card) + _curation(card) + _pii(card)
        odd = card.get("odd_tags") or {}
        lines += ["## Operational design domain", ""]
        lines += _table(["attribute", "values"], [[k, _odd(v)] for k, v in sorted(odd.items())])
        lines += ["## Used by", ""]
        lines += _table(["run", "model"], [[u["run"], u["model"]] for u in card.get("used_by", [])])
    return "\n".join(lines).rstrip() + "\n"
