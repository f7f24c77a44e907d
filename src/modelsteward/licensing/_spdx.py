"""Licence expressions: parse with ``license_expression``, restricted to SPDX ids and the KB's keys.

The parser accepts every id on the SPDX licence list (as ``license_expression`` ships it) plus the
knowledge base's own ids and aliases. ScanCode's ``LicenseRef-scancode-*`` keys are left out on
purpose: a ``LicenseRef-`` is only accepted when the knowledge base defines it.

>>> parser = ExpressionParser([("nvidia-open-model-license", ("nvidia-oml",))], {})
>>> parser.parse("mit or NVIDIA-OML").normalized
'MIT OR nvidia-open-model-license'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import license_expression as le

from modelsteward.errors import InvalidInput

__all__ = [
    "AllOf",
    "AnyOf",
    "Expression",
    "ExpressionParser",
    "LicenseLeaf",
    "ParsedExpression",
]

_MEMO_LIMIT = 8192
_KB_HINT = (
    "use SPDX ids or a key from `steward license kb`; a LicenseRef- is accepted only when the "
    "knowledge base defines it"
)


@dataclass(frozen=True)
class LicenseLeaf:
    """One licence in an expression; ``exception`` is the ``WITH`` exception, if any."""

    key: str
    exception: str | None = None


@dataclass(frozen=True)
class AllOf:
    """``A AND B``: every part applies."""

    parts: tuple[Expression, ...]


@dataclass(frozen=True)
class AnyOf:
    """``A OR B``: the licensee chooses one option."""

    options: tuple[Expression, ...]


Expression = LicenseLeaf | AllOf | AnyOf


@dataclass(frozen=True)
class ParsedExpression:
    """A validated licence expression.

    Attributes:
        normalized: The canonical spelling (SPDX case, KB ids instead of aliases).
        tree: The expression as ``LicenseLeaf`` / ``AllOf`` / ``AnyOf``.
        keys: Every licence key it names, in order of first appearance.
    """

    normalized: str
    tree: Expression
    keys: tuple[str, ...]


@cache
def _spdx_symbols() -> tuple[Any, ...]:
    licensing = le.get_spdx_licensing()
    return tuple(
        s for s in licensing.known_symbols.values() if not s.key.lower().startswith("licenseref-")
    )


class ExpressionParser:
    """Parses and normalises licence expressions; memoised per input string.

    Args:
        custom: ``(key, aliases)`` for every licence the knowledge base adds to SPDX.
        spdx_aliases: Extra aliases for SPDX ids, keyed by SPDX id.
    """

    def __init__(
        self,
        custom: Iterable[tuple[str, tuple[str, ...]]],
        spdx_aliases: Mapping[str, tuple[str, ...]],
    ) -> None:
        known = {s.key for s in _spdx_symbols()}
        missing = sorted(set(spdx_aliases) - known)
        if missing:
            raise InvalidInput(
                f"licence knowledge base: {', '.join(missing)} marked spdx but not an SPDX id",
                hint="set `spdx: false` for custom licences, or fix the id's spelling",
            )
        symbols: list[Any] = []
        for symbol in _spdx_symbols():
            extra = spdx_aliases.get(symbol.key, ())
            if extra:
                aliases = tuple(symbol.aliases) + tuple(extra)
                symbol = le.LicenseSymbol(symbol.key, aliases=aliases)
            symbols.append(symbol)
        for key, aliases in custom:
            symbols.append(le.LicenseSymbol(key, aliases=(*aliases, f"LicenseRef-{key}")))
        try:
            self._licensing = le.Licensing(symbols)
        except (ValueError, le.ExpressionError) as exc:
            raise InvalidInput(
                f"licence knowledge base: an id or alias clashes with another licence key ({exc})",
                hint="rename the alias in licenses.yaml",
            ) from exc
        self._memo: dict[str, ParsedExpression] = {}

    def parse(self, text: str) -> ParsedExpression:
        """Parse ``text``; raises ``InvalidInput`` naming unknown keys or the syntax error."""
        found = self._memo.get(text)
        if found is None:
            found = self._parse(text)
            if len(self._memo) >= _MEMO_LIMIT:  # inputs come from users: keep the memo bounded
                self._memo.clear()
            self._memo[text] = found
        return found

    def _parse(self, text: str) -> ParsedExpression:
        if not text or not text.strip():
            raise InvalidInput("licence expression is empty", hint=_KB_HINT)
        try:
            parsed = self._licensing.parse(text, strict=True)
        except le.ExpressionError as exc:
            raise InvalidInput(
                f"licence expression {text!r} is malformed: {exc}", hint=_KB_HINT
            ) from exc
        unknown = self._licensing.unknown_license_keys(parsed, unique=True)
        if unknown:
            names = ", ".join(repr(k) for k in unknown)
            raise InvalidInput(
                f"licence expression {text!r}: unknown licence key(s) {names}", hint=_KB_HINT
            )
        tree = _convert(parsed)
        keys = tuple(dict.fromkeys(_leaf_keys(tree)))
        return ParsedExpression(str(parsed), tree, keys)


def _convert(node: Any) -> Expression:
    if isinstance(node, le.LicenseWithExceptionSymbol):
        return LicenseLeaf(node.license_symbol.key, node.exception_symbol.key)
    if isinstance(node, le.LicenseSymbol):
        return LicenseLeaf(node.key)
    children = tuple(_convert(arg) for arg in node.args)
    if isinstance(node, le.AND):
        return AllOf(children)
    if isinstance(node, le.OR):
        return AnyOf(children)
    raise InvalidInput(f"licence expression: unsupported element {node!r}")


def _leaf_keys(tree: Expression) -> Iterable[str]:
    if isinstance(tree, LicenseLeaf):
        yield tree.key
        return
    for child in tree.parts if isinstance(tree, AllOf) else tree.options:
        yield from _leaf_keys(child)
