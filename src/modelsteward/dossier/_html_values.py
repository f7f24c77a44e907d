"""HTML for fact values and evidence references (escaped; digests shortened with a tooltip).

>>> html = short_digest("sha256:" + "ab" * 32)
>>> f'title="sha256:{"ab" * 32}"' in html, ">sha256:abababababab…<" in html
(True, True)
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

__all__ = ["evidence_html", "short_digest", "value_html"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_MAX_DEPTH = 6


def short_digest(digest: str) -> str:
    """``sha256:`` and 12 hex digits, the full digest in the tooltip."""
    return (
        f'<code class="digest" title="{escape(digest)}">{escape(digest[:19])}…</code>'
        if _DIGEST.match(digest)
        else f"<code>{escape(digest)}</code>"
    )


def evidence_html(ref: dict[str, Any]) -> str:
    """One evidence reference: a link to a ledger entry, a digest, or a *missing* marker."""
    kind = escape(str(ref.get("kind")))
    if ref.get("kind") == "ledger-entry":
        seq = int(ref["seq"])
        return (
            f'<a class="ev" href="#entry-{seq}" title="leaf hash {escape(str(ref["leaf_hash"]))}">'
            f"ledger seq {seq} ({escape(str(ref.get('entry_kind')))})</a>"
        )
    parts = [f'<span class="ev">{kind}']
    if ref.get("digest"):
        parts.append(" " + short_digest(str(ref["digest"])))
    if ref.get("missing"):
        parts.append(f' <strong class="missing">missing: {escape(str(ref["missing"]))}</strong>')
    parts.append("</span>")
    return "".join(parts)


def value_html(value: Any, depth: int = 0) -> str:
    """A fact value: scalars inline, lists of records as tables, mappings as key/value tables."""
    if value is None or value == "" or value == [] or value == {}:
        return '<span class="none">—</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return escape(str(value))
    if isinstance(value, str):
        return _text(value)
    if depth >= _MAX_DEPTH:
        return f"<code>{escape(str(value))}</code>"
    if isinstance(value, dict):
        return mapping_html(value, depth)
    if all(not isinstance(v, dict | list) for v in value):
        return ", ".join(value_html(v, depth + 1) for v in value)
    if all(isinstance(v, dict) for v in value):
        return _records(value, depth)
    return "<ol>" + "".join(f"<li>{value_html(v, depth + 1)}</li>" for v in value) + "</ol>"


def mapping_html(value: dict[str, Any], depth: int = 0) -> str:
    """A key/value table."""
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{_keyed(str(k), v, depth)}</td></tr>"
        for k, v in value.items()
    )
    return f'<table class="kv">{rows}</table>'


def _keyed(key: str, value: Any, depth: int) -> str:
    if key == "signature_verified":
        return (
            '<strong class="ok">verified</strong>'
            if value is True
            else '<strong class="missing">NOT verified</strong>'
        )
    return value_html(value, depth + 1)


def _records(rows: list[dict[str, Any]], depth: int) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_keyed(c, row.get(c), depth)}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f'<table class="records"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _text(value: str) -> str:
    if _DIGEST.match(value):
        return short_digest(value)
    if "\n" in value:
        return f"<pre>{escape(value)}</pre>"
    return escape(value)
