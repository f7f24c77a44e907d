"""What one licence allows: the attributes a review reads, with the clauses that say so.

>>> Permission.parse("conditional", "llama-3.1-community-license", "commercial_use")
<Permission.CONDITIONAL: 'conditional'>
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from modelsteward.errors import InvalidInput

__all__ = ["ATTRIBUTES", "LicenseTerms", "Permission", "ShareAlike", "ShareAlikeScope"]

_E = TypeVar("_E", bound=StrEnum)

ATTRIBUTES = (
    "commercial_use",
    "redistribution",
    "derivatives",
    "share_alike",
    "attribution",
    "research_only",
    "use_restrictions",
    "field_of_use",
)
"""Attribute names a ``clauses:`` mapping may cite."""


def _parse_enum(cls: type[_E], value: object, entry: str, field: str) -> _E:
    if isinstance(value, str):
        for member in cls:
            if member.value == value.strip().lower():
                return member
    raise InvalidInput(
        f"licence knowledge base: entry {entry!r}: field {field!r} has unknown value {value!r}",
        hint=f"{field} is one of: " + ", ".join(m.value for m in cls),
    )


class Permission(StrEnum):
    """Whether a licence permits an act: ``conditional`` means yes, with obligations."""

    ALLOWED = "allowed"
    PROHIBITED = "prohibited"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object, entry: str, field: str) -> Permission:
        """Parse a YAML value, or raise ``InvalidInput`` naming the entry and field."""
        return _parse_enum(cls, value, entry, field)


class ShareAlike(StrEnum):
    """Copyleft strength: ``weak`` keeps the licensed part under its terms; ``strong`` the whole."""

    NONE = "none"
    WEAK = "weak"
    STRONG = "strong"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: object, entry: str, field: str) -> ShareAlike:
        """Parse a YAML value, or raise ``InvalidInput`` naming the entry and field."""
        return _parse_enum(cls, value, entry, field)


class ShareAlikeScope(StrEnum):
    """How far share-alike reaches.

    ``files``: modified files of the work itself; ``data``: redistributed or adapted copies of the
    data (a model trained on it is not reached); ``weights``: derived weights, including models
    trained on the work; ``product``: the whole distributed product.
    """

    FILES = "files"
    DATA = "data"
    WEIGHTS = "weights"
    PRODUCT = "product"

    @classmethod
    def parse(cls, value: object, entry: str, field: str) -> ShareAlikeScope:
        """Parse a YAML value, or raise ``InvalidInput`` naming the entry and field."""
        return _parse_enum(cls, value, entry, field)


@dataclass(frozen=True)
class LicenseTerms:
    """One knowledge-base entry. ``None`` in a tri-state field means *unknown*.

    Attributes:
        id: SPDX id, or a custom key (never ``LicenseRef-``).
        name: Full name of the licence.
        spdx: Whether ``id`` is on the SPDX licence list.
        source: URL of the licence text.
        commercial_use: Whether commercial use (including internal business use) is permitted.
        redistribution: Whether the weights or data themselves may be redistributed.
        derivatives: Whether adaptations (fine-tunes, models trained on it) may be shared.
        share_alike: Copyleft strength.
        attribution: Notices must accompany copies (``None``: unknown).
        research_only: Only research or evaluation use is licensed (``None``: unknown).
        use_restrictions: Restrictions to pass downstream (``None``: unknown).
        field_of_use: Fields the licence forbids, from the KB's vocabulary (``None``: unknown).
        share_alike_scope: How far share-alike reaches, when there is share-alike.
        share_alike_compatible: Other licence ids derived work may be released under instead.
        aliases: Other spellings (Hugging Face tags, ``license_name`` values).
        clauses: ``(attribute, clause wording or summary with its section)`` pairs.
        note: Caveats, such as terms summarised conservatively.
    """

    id: str
    name: str
    spdx: bool
    source: str
    commercial_use: Permission
    redistribution: Permission
    derivatives: Permission
    share_alike: ShareAlike
    attribution: bool | None
    research_only: bool | None
    use_restrictions: tuple[str, ...] | None
    field_of_use: tuple[str, ...] | None
    share_alike_scope: ShareAlikeScope | None = None
    share_alike_compatible: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    clauses: tuple[tuple[str, str], ...] = ()
    note: str = ""

    def clause(self, attribute: str) -> str:
        """The clause behind ``attribute``, or a pointer to the licence text."""
        for name, text in self.clauses:
            if name == attribute:
                return f"{self.name}, {text}"
        return f"{self.name} (see {self.source})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, in the YAML's field names."""

        def tri(value: object) -> object:
            if value is None:
                return "unknown"
            return list(value) if isinstance(value, tuple) else value

        return {
            "id": self.id,
            "name": self.name,
            "spdx": self.spdx,
            "source": self.source,
            "aliases": list(self.aliases),
            "commercial_use": self.commercial_use.value,
            "redistribution": self.redistribution.value,
            "derivatives": self.derivatives.value,
            "share_alike": self.share_alike.value,
            "share_alike_scope": self.share_alike_scope.value if self.share_alike_scope else None,
            "share_alike_compatible": list(self.share_alike_compatible),
            "attribution": tri(self.attribution),
            "research_only": tri(self.research_only),
            "use_restrictions": tri(self.use_restrictions),
            "field_of_use": tri(self.field_of_use),
            "clauses": dict(self.clauses),
            "note": self.note,
        }
