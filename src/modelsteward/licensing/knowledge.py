"""The licence knowledge base: what each licence allows, versioned, with the clause that says so.

The packaged ``licenses.yaml`` holds the common SPDX licences and the model and dataset licences
model cards use (OpenRAIL-M, Llama, Gemma, NVIDIA, research-only dataset terms). Every entry
names its source; unknown attributes are written ``unknown`` and make reviews fail closed.

>>> kb = KnowledgeBase.default()
>>> kb.get("llama3.1").commercial_use
<Permission.CONDITIONAL: 'conditional'>
>>> normalize_expression("MIT OR cc-by-nc-4.0", kb)
'MIT OR CC-BY-NC-4.0'
>>> kb.digest.startswith("sha256:")
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from modelsteward.errors import InvalidInput
from modelsteward.licensing._kb_load import KbContents, read_contents
from modelsteward.licensing._spdx import (
    AllOf,
    AnyOf,
    Expression,
    ExpressionParser,
    LicenseLeaf,
    ParsedExpression,
)
from modelsteward.licensing._terms import LicenseTerms, Permission, ShareAlike, ShareAlikeScope

__all__ = [
    "AllOf",
    "AnyOf",
    "Expression",
    "KnowledgeBase",
    "LicenseLeaf",
    "LicenseTerms",
    "ParsedExpression",
    "Permission",
    "ShareAlike",
    "ShareAlikeScope",
    "normalize_expression",
]

_SEPARATORS = re.compile(r"[\s_]+")


def _lookup_keys(text: str) -> tuple[str, ...]:
    plain = text.strip().lower()
    return (plain, _SEPARATORS.sub("-", plain))


class KnowledgeBase:
    """A loaded, validated knowledge base. Build it with :meth:`default` or :meth:`from_path`."""

    def __init__(self, contents: KbContents, *, digest: str, origin: str) -> None:
        self._contents = contents
        self._digest = digest
        self._origin = origin
        self._index: dict[str, LicenseTerms] = {}
        for terms in contents.entries:
            for key in (terms.id, *terms.aliases, terms.name):
                self._index[key.lower()] = terms
        self._parser: ExpressionParser | None = None

    @classmethod
    def default(cls) -> KnowledgeBase:
        """The knowledge base shipped with Steward (loaded once per process)."""
        return _packaged()

    @classmethod
    def from_path(cls, path: str | Path) -> KnowledgeBase:
        """Load and validate a knowledge base file; raises ``InvalidInput`` on any problem."""
        target = Path(path).expanduser()
        try:
            data = target.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"licence knowledge base {target}: cannot read it ({exc})") from exc
        return cls.from_bytes(data, origin=str(target))

    @classmethod
    def from_bytes(cls, data: bytes, *, origin: str = "<bytes>") -> KnowledgeBase:
        """Load and validate knowledge base YAML held in memory."""
        try:
            # libyaml's safe loader when PyYAML was built with it: ~10x faster on this file
            raw = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        except yaml.YAMLError as exc:
            raise InvalidInput(f"licence knowledge base {origin}: not valid YAML ({exc})") from exc
        try:
            contents = read_contents(raw)
        except InvalidInput as exc:
            raise InvalidInput(f"{exc.message} ({origin})", hint=exc.hint) from exc
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return cls(contents, digest=digest, origin=origin)

    @property
    def version(self) -> str:
        """The knowledge base version, e.g. ``2026.11.0``."""
        return self._contents.version

    @property
    def updated(self) -> str:
        """When the knowledge base was last updated (ISO date)."""
        return self._contents.updated

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the file's bytes; reviews record it."""
        return self._digest

    @property
    def origin(self) -> str:
        """Where the knowledge base was loaded from."""
        return self._origin

    def entries(self) -> tuple[LicenseTerms, ...]:
        """Every entry, in file order."""
        return self._contents.entries

    def get(self, key: str) -> LicenseTerms | None:
        """The entry for an id, alias or full name (case-insensitive), or ``None``."""
        for candidate in _lookup_keys(key):
            found = self._index.get(candidate)
            if found is not None:
                return found
        return None

    def fields(self) -> Mapping[str, str]:
        """The field-of-use vocabulary: field name -> description."""
        return dict(self._contents.fields)

    def field(self, name: str) -> str:
        """The field-of-use name for ``name`` or one of its aliases; ``InvalidInput`` if none."""
        for candidate in _lookup_keys(name):
            found = self._contents.field_aliases.get(candidate)
            if found is not None:
                return found
        raise InvalidInput(
            f"unknown field of use {name!r}",
            hint="--field is one of: " + ", ".join(sorted(self._contents.fields)),
        )

    def parse(self, expression: str) -> ParsedExpression:
        """Parse and validate a licence expression (memoised); raises ``InvalidInput``."""
        if self._parser is None:
            self._parser = ExpressionParser(
                [(t.id, t.aliases) for t in self.entries() if not t.spdx],
                {t.id: t.aliases for t in self.entries() if t.spdx},
            )
        return self._parser.parse(expression)

    def __repr__(self) -> str:
        return f"KnowledgeBase(version={self.version!r}, entries={len(self.entries())})"


@cache
def _packaged() -> KnowledgeBase:
    resource = resources.files("modelsteward.licensing").joinpath("knowledge/licenses.yaml")
    return KnowledgeBase.from_bytes(resource.read_bytes(), origin="modelsteward:licenses.yaml")


def normalize_expression(expression: str, kb: KnowledgeBase | None = None) -> str:
    """The canonical spelling of a licence expression, validated against SPDX and the KB.

    Args:
        expression: An SPDX expression, KB id or alias (``apache-2.0``, ``llama3.1``, ``MIT OR
            cc-by-nc-4.0``).
        kb: The knowledge base whose custom ids are accepted (default: the packaged one).

    Returns:
        The normalised expression, e.g. ``"Apache-2.0"``.

    Raises:
        InvalidInput: The expression is malformed or names an unknown licence key.
    """
    return (kb or KnowledgeBase.default()).parse(expression).normalized
