"""The dossier as one self-contained, print-friendly HTML page (no scripts, no external assets).

A table of contents, one page per Annex IV section when printed, every fact next to the evidence
it rests on (short digests, the full value in the tooltip; ledger entries link to their row in
the changes section), missing evidence in red, and the dossier digest in the header and footer.
The page is a pure function of the document and its digest: no clock.

>>> page = render_html({"model": {"ref": "m@1", "digest": "sha256:" + "a" * 64},
...                     "sections": {}, "summary": {}, "gaps": []}, "sha256:" + "b" * 64)
>>> page.startswith("<!DOCTYPE html>"), "<script" in page, ("b" * 64) in page
(True, False, True)
"""

from __future__ import annotations

from html import escape
from typing import Any

from modelsteward.dossier._html_values import evidence_html, short_digest, value_html

__all__ = ["render_html"]

_CSS = """
:root { color-scheme: light; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111;
       max-width: 62rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2.5rem; }
h2 small, h3 small { font-weight: normal; color: #555; font-size: .75em; }
h3 { margin: 0 0 .3rem; font-size: 1.05rem; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .88em; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: .4rem; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .2rem 0; }
th, td { border: 1px solid #ccc; padding: .15rem .35rem; text-align: left; vertical-align: top; }
table.kv > tbody > tr > th, table.kv > tr > th { width: 12rem; background: #fafafa; }
table.records th { background: #f0f0f0; }
.item { border-left: 3px solid #ccc; padding: .2rem 0 .2rem .7rem; margin: 1rem 0;
        break-inside: avoid-page; }
.item.has-missing { border-left-color: #b00; }
.evidence { font-size: .9em; margin-top: .3rem; }
.ev { display: inline-block; margin: 0 .6rem .1rem 0; }
.missing { color: #b00; }
.ok { color: #060; }
.none { color: #888; }
.meta td, .meta th { border: none; padding: .05rem .4rem .05rem 0; }
nav.toc ol { padding-left: 1.4rem; }
footer { margin-top: 3rem; border-top: 1px solid #999; font-size: .9em; color: #333; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9pt; }
  section.annex { break-before: page; page-break-before: always; }
  nav.toc { break-after: page; page-break-after: always; }
  a { color: inherit; text-decoration: none; }
  .item { break-inside: avoid; page-break-inside: avoid; }
}
"""


def render_html(document: dict[str, Any], digest: str) -> str:
    """The HTML page for ``document``, whose canonical JSON has ``digest``."""
    model = document.get("model", {})
    sections = document.get("sections", {})
    title = f"Approval dossier: {model.get('ref', '?')}"
    body = [
        _header(document, digest, title),
        _toc(sections, document.get("summary", {})),
        *(_section(key, section) for key, section in sections.items()),
        _gaps(document.get("gaps", [])),
        _footer(digest),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n"
        f'<meta name="dossier-digest" content="{escape(digest)}">\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _header(document: dict[str, Any], digest: str, title: str) -> str:
    model = document.get("model", {})
    review = document.get("review", {})
    checkpoint = document.get("ledger", {}).get("checkpoint", {})
    rows = [
        ("Model", f"{escape(str(model.get('ref')))} {short_digest(str(model.get('digest')))}"),
        ("Risk tier", escape(str(model.get("tier")))),
        (
            "Licence review for",
            f"{escape(str(review.get('use')))} use, "
            f"distribution {escape(str(review.get('distribution')))}",
        ),
        (
            "Ledger checkpoint",
            f"{escape(str(checkpoint.get('size')))} entries, root "
            f"<code>{escape(str(checkpoint.get('root')))}</code>",
        ),
        ("Dossier digest", f"<code>{escape(digest)}</code> (SHA-256 of dossier.json)"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<header><h1>{escape(title)}</h1><table class="meta">{table}</table></header>'


def _toc(sections: dict[str, Any], summary: dict[str, Any]) -> str:
    entries = []
    for key, section in sections.items():
        counts = summary.get(key, {})
        missing = counts.get("missing", 0)
        flag = f' — <span class="missing">{missing} missing</span>' if missing else ""
        entries.append(
            f'<li value="{int(section.get("number", 0))}"><a href="#section-{escape(key)}">'
            f"{escape(str(section.get('title')))}</a> ({counts.get('items', 0)} items{flag})</li>"
        )
    entries.append('<li value="8"><a href="#gaps">Missing evidence (all gaps)</a></li>')
    return f'<nav class="toc"><h2>Contents</h2><ol>{"".join(entries)}</ol></nav>'


def _section(key: str, section: dict[str, Any]) -> str:
    head = (
        f"<h2>{int(section.get('number', 0))}. {escape(str(section.get('title')))} "
        f"<small>{escape(str(section.get('annex_iv', '')))}</small></h2>"
    )
    if key == "changes":
        return (
            f'<section class="annex" id="section-{escape(key)}">{head}{_changes(section)}</section>'
        )
    items = "".join(_item(item) for item in section.get("items", []))
    return f'<section class="annex" id="section-{escape(key)}">{head}{items}</section>'


def _item(item: dict[str, Any]) -> str:
    missing = item.get("missing", [])
    facts = item.get("facts", {})
    body = _lineage(facts) if item.get("id") == "development.lineage" else value_html(facts)
    gaps = (
        '<ul class="missing">'
        + "".join(f"<li>missing: {escape(str(m))}</li>" for m in missing)
        + "</ul>"
        if missing
        else ""
    )
    evidence = " ".join(evidence_html(e) for e in item.get("evidence", []))
    css = "item has-missing" if missing else "item"
    return (
        f'<article class="{css}" id="item-{escape(str(item.get("id")))}">'
        f"<h3>{escape(str(item.get('title')))}</h3>{body}{gaps}"
        f'<div class="evidence"><strong>Evidence:</strong> {evidence or "none"}</div></article>'
    )


def _lineage(facts: dict[str, Any]) -> str:
    def tree(nodes: list[dict[str, Any]]) -> str:
        if not nodes:
            return ""
        rows = []
        for node in nodes:
            label = escape(str(node.get("declared")))
            relation = escape(str(node.get("relation") or "base"))
            where = (
                f"{escape(str(node.get('ref')))} {short_digest(str(node['digest']))}"
                if node.get("digest")
                else '<strong class="missing">not registered (missing)</strong>'
            )
            cycle = " (cycle)" if node.get("cycle") else ""
            rows.append(f"<li>{relation}: {label} → {where}{cycle}{tree(node['ancestors'])}</li>")
        return "<ul>" + "".join(rows) + "</ul>"

    ancestors = facts.get("ancestors", [])
    descendants = facts.get("descendants", [])
    parts = [f"<p><strong>Ancestors</strong></p>{tree(ancestors) or '<p>none declared</p>'}"]
    if descendants:
        parts.append(f"<p><strong>Descendants</strong></p>{value_html(descendants)}")
    return "".join(parts)


def _changes(section: dict[str, Any]) -> str:
    rows = []
    for item in section.get("items", []):
        f = item.get("facts", {})
        proof = f.get("proof")
        leaf: dict[str, Any] = next(
            (e for e in item.get("evidence", []) if e.get("kind") == "ledger-entry"), {}
        )
        status = (
            f"{len(proof['inclusion'])}-hash audit path"
            if proof
            else '<strong class="missing">missing</strong>'
        )
        rows.append(
            f'<tr id="entry-{int(f.get("seq", -1))}"><td>{f.get("seq")}</td>'
            f"<td>{escape(str(f.get('time')))}</td><td>{escape(str(f.get('kind')))}</td>"
            f"<td>{escape(str(f.get('actor')))}</td><td>{escape(str(f.get('subject')))}</td>"
            f"<td>{escape(str(f.get('relation')))}</td>"
            f'<td><code title="{escape(str(leaf.get("leaf_hash")))}">'
            f"{escape(str(leaf.get('leaf_hash', ''))[:16])}…</code></td><td>{status}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("seq", "time", "kind", "actor", "subject", "relation", "leaf hash", "proof")
    )
    note = (
        "<p>Each entry's inclusion proof (JSON: "
        "<code>sections.changes.items[].facts.proof</code>, format "
        "<code>steward.ledger.proof/v1</code>) leads to the signed checkpoint in the header; "
        "verify one with <code>steward ledger verify-proof FILE --key KEY</code>.</p>"
    )
    body = "".join(rows)
    return (
        f'{note}<table class="records"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _gaps(gaps: list[dict[str, Any]]) -> str:
    if not gaps:
        return '<section class="annex" id="gaps"><h2>Missing evidence</h2><p>None.</p></section>'
    rows = "".join(
        f'<tr><td><a href="#{_anchor(str(g["item"]))}">{escape(str(g["item"]))}</a></td>'
        f'<td class="missing">{escape(str(g["what"]))}</td></tr>'
        for g in gaps
    )
    return (
        f'<section class="annex" id="gaps"><h2>Missing evidence ({len(gaps)})</h2>'
        f'<table class="records"><thead><tr><th>item</th><th>what is missing</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _anchor(item_id: str) -> str:
    """Rows of the changes table are anchored by seq; every other item by its id."""
    if item_id.startswith("changes."):
        return "entry-" + escape(item_id.removeprefix("changes."))
    return "item-" + escape(item_id)


def _footer(digest: str) -> str:
    return (
        f"<footer><p>Dossier digest <code>{escape(digest)}</code>: the SHA-256 of the canonical "
        "JSON file written next to this page (<code>sha256sum dossier.json</code>). The time "
        "this dossier was written is the time of its <code>dossier.written</code> ledger entry."
        "</p></footer>"
    )
