"""The rules: what one licence means for one artifact in one intended use.

Findings are computed without the artifact's label so they can be memoised per (licence,
context); the review adds the label when it turns them into reasons.

>>> from modelsteward.licensing.knowledge import KnowledgeBase
>>> kb = KnowledgeBase.default()
>>> ctx = Context(Use.COMMERCIAL, Distribution.NONE, None, is_root=False, carried=False)
>>> [f.level.value for f in evaluate(kb.parse("CC-BY-NC-4.0").tree, ctx, kb, {}).findings]
['incompatible']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from modelsteward.licensing._spdx import AllOf, Expression, LicenseLeaf
from modelsteward.licensing._terms import LicenseTerms, Permission, ShareAlike, ShareAlikeScope
from modelsteward.licensing.knowledge import KnowledgeBase

__all__ = [
    "Context",
    "Distribution",
    "Finding",
    "Level",
    "Outcome",
    "ShareAlikeClaim",
    "Use",
    "evaluate",
    "render",
]


class Use(StrEnum):
    """The intended use. ``internal`` business use counts as commercial under NC terms."""

    COMMERCIAL = "commercial"
    RESEARCH = "research"
    INTERNAL = "internal"


class Distribution(StrEnum):
    """What leaves the organisation: nothing, the weights, or a product embedding them."""

    NONE = "none"
    WEIGHTS = "weights"
    PRODUCT = "product"


class Level(StrEnum):
    """How serious a reason is (most serious first)."""

    INCOMPATIBLE = "incompatible"
    UNKNOWN = "unknown"
    OBLIGATION = "obligation"


_RANK = {Level.OBLIGATION: 1, Level.UNKNOWN: 2, Level.INCOMPATIBLE: 3}


@dataclass(frozen=True)
class Context:
    """Where an artifact sits: ``carried`` means its own bits ship inside the distributed root."""

    use: Use
    distribution: Distribution
    field: str | None
    is_root: bool
    carried: bool
    derived_root: bool = False  # the root is itself an adaptation of another model

    @property
    def distributing(self) -> bool:
        """Whether anything is distributed."""
        return self.distribution is not Distribution.NONE


@dataclass(frozen=True)
class ShareAlikeClaim:
    """A strong share-alike licence that reaches the distributed root."""

    license_id: str
    name: str
    targets: frozenset[str]
    clause: str


@dataclass(frozen=True)
class Finding:
    """One consequence of one licence, without the artifact's label."""

    level: Level
    license_id: str | None
    clause: str
    text: str
    obligation: str | None = None  # the deduplicated obligation line, for obligations
    claim: ShareAlikeClaim | None = None


@dataclass(frozen=True)
class Outcome:
    """The findings of an expression and notes on how it was read (OR choices, exceptions)."""

    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """0 compatible, 1 obligations, 2 unknown, 3 incompatible."""
        return max((_RANK[f.level] for f in self.findings), default=0)


def render(tree: Expression) -> str:
    """An expression tree back as text."""
    if isinstance(tree, LicenseLeaf):
        return f"{tree.key} WITH {tree.exception}" if tree.exception else tree.key
    glue, items = (" AND ", tree.parts) if isinstance(tree, AllOf) else (" OR ", tree.options)
    return glue.join(render(i) if isinstance(i, LicenseLeaf) else f"({render(i)})" for i in items)


def evaluate(
    tree: Expression, ctx: Context, kb: KnowledgeBase, memo: dict[object, Outcome]
) -> Outcome:
    """Evaluate an expression: AND applies every part; OR takes the best option."""
    key = (tree, ctx)
    found = memo.get(key)
    if found is not None:
        return found
    if isinstance(tree, LicenseLeaf):
        outcome = _leaf(tree, ctx, kb)
    elif isinstance(tree, AllOf):
        parts = [evaluate(p, ctx, kb, memo) for p in tree.parts]
        outcome = Outcome(
            tuple(f for p in parts for f in p.findings), tuple(n for p in parts for n in p.notes)
        )
    else:
        options = [evaluate(o, ctx, kb, memo) for o in tree.options]
        best = min(range(len(options)), key=lambda i: (options[i].rank, len(options[i].findings)))
        chosen = options[best]
        note = f"took {render(tree.options[best])} of '{render(tree)}' (licensee's choice)"
        outcome = Outcome(chosen.findings, (note, *chosen.notes))
    memo[key] = outcome
    return outcome


def _leaf(leaf: LicenseLeaf, ctx: Context, kb: KnowledgeBase) -> Outcome:
    terms = kb.get(leaf.key)
    if terms is None:
        text = f"licence {leaf.key} is not in the licence knowledge base (version {kb.version})"
        return Outcome((Finding(Level.UNKNOWN, leaf.key, f"{leaf.key} (no entry)", text),))
    notes: tuple[str, ...] = ()
    if leaf.exception:
        notes = (f"read {leaf.key} WITH {leaf.exception} as {leaf.key}: the exception is noted",)
    findings = [*_commercial(terms, ctx), *_distribution(terms, ctx), *_use(terms, ctx)]
    unknown = [f for f in findings if f.level is Level.UNKNOWN]
    if len(unknown) > 1:  # one reason per licence, not one per unknown attribute
        what = ", ".join(f.text for f in unknown)
        merged = Finding(Level.UNKNOWN, terms.id, _fallback(terms), f"{terms.name}: {what}")
        findings = [f for f in findings if f.level is not Level.UNKNOWN] + [merged]
    return Outcome(tuple(findings), notes)


def _fallback(terms: LicenseTerms) -> str:
    return f"{terms.name}: {terms.note}" if terms.note else f"{terms.name} (see {terms.source})"


def _unknown(terms: LicenseTerms, attribute: str) -> Finding:
    return Finding(Level.UNKNOWN, terms.id, _fallback(terms), f"{attribute} is unknown")


def _blocked(terms: LicenseTerms, attribute: str, text: str) -> Finding:
    return Finding(Level.INCOMPATIBLE, terms.id, terms.clause(attribute), f"{terms.name} {text}")


def _duty(terms: LicenseTerms, attribute: str, text: str, line: str | None = None) -> Finding:
    clause = terms.clause(attribute)
    return Finding(Level.OBLIGATION, terms.id, clause, f"{terms.name}: {text}", line or clause)


def _commercial(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    if ctx.use is Use.RESEARCH:
        return
    why = " (internal business use counts as commercial use)" if ctx.use is Use.INTERNAL else ""
    if terms.commercial_use is Permission.PROHIBITED:
        yield _blocked(terms, "commercial_use", f"prohibits commercial use{why}")
    elif terms.research_only is True:
        yield _blocked(terms, "research_only", f"licenses research use only{why}")
    else:
        if terms.commercial_use is Permission.UNKNOWN:
            yield _unknown(terms, "commercial use")
        if terms.research_only is None:
            yield _unknown(terms, "whether use is research-only")
        if terms.commercial_use is Permission.CONDITIONAL:
            yield _duty(terms, "commercial_use", "commercial use is conditional")


def _distribution(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    if not ctx.distributing:
        if terms.derivatives is Permission.PROHIBITED and not ctx.is_root:
            text = "adaptations must stay internal (no derivatives may be shared)"
            yield _duty(terms, "derivatives", text)
        return
    yield from _redistribution(terms, ctx)
    yield from _derivatives(terms, ctx)
    yield from _share_alike(terms, ctx)
    if terms.attribution is None:
        yield _unknown(terms, "attribution")
    elif terms.attribution:
        yield _duty(terms, "attribution", "keep the required notices when distributing")


def _derivatives(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    permission = terms.derivatives
    if permission is Permission.PROHIBITED and ctx.is_root and not ctx.derived_root:
        yield _duty(terms, "derivatives", "distribute unmodified copies only")
    elif permission is Permission.PROHIBITED:
        where = "it is an ancestor of the distributed model"
        if ctx.is_root:
            where = "the distributed model is itself an adaptation of another model"
        yield _blocked(terms, "derivatives", f"forbids sharing adaptations, and {where}")
    elif ctx.is_root:
        return
    elif permission is Permission.UNKNOWN:
        yield _unknown(terms, "whether adaptations may be shared")
    elif permission is Permission.CONDITIONAL:
        yield _duty(terms, "derivatives", "sharing adaptations is conditional")


def _redistribution(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    permission = terms.redistribution
    if permission is Permission.PROHIBITED:
        if ctx.carried:
            yield _blocked(
                terms,
                "redistribution",
                "prohibits redistribution, and it ships inside the distributed model",
            )
        else:
            yield _duty(
                terms,
                "redistribution",
                "do not ship it with the distributed model (redistribution is prohibited)",
            )
    elif permission is Permission.UNKNOWN and ctx.carried:
        yield _unknown(terms, "redistribution")
    elif permission is Permission.CONDITIONAL and ctx.carried:
        yield _duty(terms, "redistribution", "redistribution is conditional")


def _share_alike(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    strength, scope = terms.share_alike, terms.share_alike_scope
    if strength is ShareAlike.UNKNOWN:
        yield _unknown(terms, "share-alike")
    elif strength is ShareAlike.WEAK and ctx.carried:
        yield _duty(terms, "share_alike", "its terms stay attached to the material it contributed")
    elif strength is ShareAlike.STRONG and (
        ctx.carried or scope in (ShareAlikeScope.WEIGHTS, ShareAlikeScope.PRODUCT)
    ):
        what = "the distributed product" if scope is ShareAlikeScope.PRODUCT else "derived weights"
        targets = frozenset((terms.id, *terms.share_alike_compatible))
        alternatives = " or ".join(sorted(targets))
        line = f"{what} must be released under {alternatives} ({terms.name} share-alike)"
        claim = ShareAlikeClaim(terms.id, terms.name, targets, terms.clause("share_alike"))
        finding = _duty(terms, "share_alike", f"{what} must be released under {alternatives}", line)
        yield Finding(finding.level, terms.id, finding.clause, finding.text, line, claim)


def _use(terms: LicenseTerms, ctx: Context) -> Iterable[Finding]:
    if terms.use_restrictions is None:
        yield _unknown(terms, "use restrictions")
    elif terms.use_restrictions:
        verb = "pass on" if ctx.distributing else "comply with"
        listed = "; ".join(terms.use_restrictions)
        line = f"{terms.name}: {verb} use restrictions: {listed}"
        yield _duty(terms, "use_restrictions", f"{verb} use restrictions: {listed}", line)
    if terms.field_of_use is None:
        yield _unknown(terms, "field-of-use restrictions")
    elif ctx.field is not None and ctx.field in terms.field_of_use:
        yield _blocked(terms, "field_of_use", f"forbids use for {ctx.field}")
    elif terms.field_of_use:
        listed = ", ".join(terms.field_of_use)
        line = f"{terms.name}: must not be used for: {listed}"
        yield _duty(terms, "field_of_use", f"must not be used for: {listed}", line)
