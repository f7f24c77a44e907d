"""Validate the licence knowledge base YAML; every error names the entry and the field.

>>> field = {"transportation": {"description": "vehicles", "aliases": ["automotive"]}}
>>> read_fields(field)["automotive"]
'transportation'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.licensing._terms import (
    ATTRIBUTES,
    LicenseTerms,
    Permission,
    ShareAlike,
    ShareAlikeScope,
)

__all__ = ["KbContents", "read_contents", "read_fields"]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$")
_REQUIRED = frozenset({"id", "name", "spdx", "source", *ATTRIBUTES})
_OPTIONAL = frozenset({"aliases", "share_alike_scope", "share_alike_compatible", "clauses", "note"})
_TOP = frozenset({"version", "updated", "fields", "licenses"})
_HINT = "see docs/licensing.md for the knowledge base format"


@dataclass(frozen=True)
class KbContents:
    """A validated knowledge base file."""

    version: str
    updated: str
    fields: dict[str, str]  # field name -> description
    field_aliases: dict[str, str]  # lower-case name or alias -> field name
    entries: tuple[LicenseTerms, ...]


def _fail(message: str, hint: str = _HINT) -> InvalidInput:
    return InvalidInput(f"licence knowledge base: {message}", hint=hint)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{where} must be a non-empty string, not {value!r}")
    return value.strip()


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(f"{where} must be a list, not {value!r}")
    return tuple(_text(item, where) for item in value)


def read_fields(raw: object) -> dict[str, str]:
    """``fields:`` as lower-case name or alias -> field name."""
    if not isinstance(raw, Mapping):
        raise _fail("`fields` must map each field of use to its description and aliases")
    names: dict[str, str] = {}
    for name, spec in raw.items():
        field = _text(name, "a field name")
        if not isinstance(spec, Mapping):
            raise _fail(f"field {field!r} must have a description and aliases")
        _text(spec.get("description"), f"field {field!r}: description")
        for key in (field, *_strings(spec.get("aliases"), f"field {field!r}: aliases")):
            if names.setdefault(key.lower(), field) != field:
                raise _fail(f"field alias {key!r} is used twice")
    return names


def _tri_bool(entry: str, name: str, value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value == "unknown":
        return None
    raise _fail(
        f"entry {entry!r}: field {name!r} has unknown value {value!r}", "true, false or unknown"
    )


def _tri_list(entry: str, name: str, value: object) -> tuple[str, ...] | None:
    if value == "unknown":
        return None
    return _strings(value, f"entry {entry!r}: field {name!r}")


def _clauses(entry: str, raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise _fail(f"entry {entry!r}: field 'clauses' must map attributes to clause text")
    for key in raw:
        if key not in ATTRIBUTES:
            raise _fail(
                f"entry {entry!r}: clause for unknown attribute {key!r}",
                "clauses cite one of: " + ", ".join(ATTRIBUTES),
            )
    return tuple((str(k), _text(v, f"entry {entry!r}: clause {k!r}")) for k, v in raw.items())


def _scope(entry: str, share_alike: ShareAlike, raw: object) -> ShareAlikeScope | None:
    if raw is None:
        if share_alike in (ShareAlike.WEAK, ShareAlike.STRONG):
            raise _fail(f"entry {entry!r}: field 'share_alike_scope' is required for {share_alike}")
        return None
    if share_alike is ShareAlike.NONE:
        raise _fail(f"entry {entry!r}: field 'share_alike_scope' given without share-alike")
    return ShareAlikeScope.parse(raw, entry, "share_alike_scope")


def _check_shape(raw: Mapping[Any, Any], index: int) -> tuple[str, str]:
    ident = _text(raw.get("id"), f"licence #{index + 1}: id")
    if not _KEY.match(ident) or ident.lower().startswith("licenseref-"):
        raise _fail(f"entry {ident!r}: id must be an SPDX id or a key without LicenseRef-")
    missing = sorted(_REQUIRED - set(raw))
    if missing:
        raise _fail(f"entry {ident!r}: missing field(s) {', '.join(missing)}")
    extra = sorted(set(raw) - _REQUIRED - _OPTIONAL)
    if extra:
        raise _fail(f"entry {ident!r}: unknown field(s) {', '.join(map(str, extra))}")
    source = _text(raw["source"], f"entry {ident!r}: source")
    if not source.startswith(("https://", "http://")):
        raise _fail(f"entry {ident!r}: field 'source' must be the URL of the licence text")
    if not isinstance(raw["spdx"], bool):
        raise _fail(f"entry {ident!r}: field 'spdx' must be true or false")
    return ident, source


def _entry(raw: object, index: int, fields: Mapping[str, str]) -> LicenseTerms:
    if not isinstance(raw, Mapping):
        raise _fail(f"licence #{index + 1} is not a mapping")
    ident, source = _check_shape(raw, index)
    share_alike = ShareAlike.parse(raw["share_alike"], ident, "share_alike")
    field_of_use = _tri_list(ident, "field_of_use", raw["field_of_use"])
    for field in field_of_use or ():
        if fields.get(field.lower()) != field:
            raise _fail(f"entry {ident!r}: field 'field_of_use' names unknown field {field!r}")
    aliases = _strings(raw.get("aliases"), f"entry {ident!r}: aliases")
    for alias in aliases:
        if not _KEY.match(alias):
            raise _fail(f"entry {ident!r}: alias {alias!r} has spaces or odd characters")
    return LicenseTerms(
        id=ident,
        name=_text(raw["name"], f"entry {ident!r}: name"),
        spdx=raw["spdx"],
        source=source,
        commercial_use=Permission.parse(raw["commercial_use"], ident, "commercial_use"),
        redistribution=Permission.parse(raw["redistribution"], ident, "redistribution"),
        derivatives=Permission.parse(raw["derivatives"], ident, "derivatives"),
        share_alike=share_alike,
        attribution=_tri_bool(ident, "attribution", raw["attribution"]),
        research_only=_tri_bool(ident, "research_only", raw["research_only"]),
        use_restrictions=_tri_list(ident, "use_restrictions", raw["use_restrictions"]),
        field_of_use=field_of_use,
        share_alike_scope=_scope(ident, share_alike, raw.get("share_alike_scope")),
        share_alike_compatible=_strings(
            raw.get("share_alike_compatible"), f"entry {ident!r}: share_alike_compatible"
        ),
        aliases=aliases,
        clauses=_clauses(ident, raw.get("clauses")),
        note=str(raw.get("note") or "").strip(),
    )


def _check_cross_references(entries: tuple[LicenseTerms, ...]) -> None:
    owners: dict[str, str] = {}
    for terms in entries:
        for key in (terms.id, *terms.aliases, terms.name):
            if owners.setdefault(key.lower(), terms.id) != terms.id:
                raise _fail(f"{key!r} names both {owners[key.lower()]!r} and {terms.id!r}")
    ids = {t.id for t in entries}
    for terms in entries:
        for other in terms.share_alike_compatible:
            if other not in ids:
                raise _fail(f"entry {terms.id!r}: share_alike_compatible names unknown {other!r}")


def read_contents(raw: object) -> KbContents:
    """Validate a parsed YAML document; raises ``InvalidInput`` naming the entry and field."""
    if not isinstance(raw, Mapping):
        raise _fail("the file must be a mapping with version, updated, fields and licenses")
    extra = sorted(map(str, set(raw) - _TOP))
    if extra:
        raise _fail(f"unknown top-level key(s) {', '.join(extra)}")
    version = _text(raw.get("version"), "version")
    updated = raw.get("updated")
    if not isinstance(updated, dt.date):
        raise _fail(f"`updated` must be a date (YYYY-MM-DD), not {updated!r}")
    aliases = read_fields(raw.get("fields"))
    licenses = raw.get("licenses")
    if not isinstance(licenses, list) or not licenses:
        raise _fail("`licenses` must be a non-empty list")
    entries = tuple(_entry(item, i, aliases) for i, item in enumerate(licenses))
    _check_cross_references(entries)
    descriptions = {
        str(name): str(spec["description"]).strip() for name, spec in raw["fields"].items()
    }
    return KbContents(version, updated.isoformat(), descriptions, aliases, entries)
