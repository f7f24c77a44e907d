"""Matching: run the detectors over one string, resolve overlaps, tally a column.

>>> from modelsteward.data._pii_detect import PiiType, build_detectors
>>> m = Matcher(build_detectors("US", ("us_ssn",), (), frozenset(PiiType)))
>>> [(h.type.value, h.redacted) for h in m.find("ssn 536-22-1234, mail a.b@example.org")]
[('national_id', '***-**-1234'), ('email', 'a***@e***.org')]
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from modelsteward.data._pii_detect import Detector, PiiType
from modelsteward.data._pii_report import PiiFinding, UnconfirmedFinding

__all__ = ["ColumnTally", "Matcher", "PiiMatch"]

MAX_SAMPLES = 3


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One value found in a string: its offsets in the caller's text and its redacted form
    (the raw value is not kept)."""

    type: PiiType
    kind: str
    start: int
    end: int
    redacted: str


def _words(name: str) -> str:
    """A column name as words: ``cardNumber`` and ``card_number`` both read "card number"."""
    return re.sub(r"[^A-Za-z0-9]+", " ", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name))


class ColumnTally:
    """Running counts for one column of one file, by detector kind (private to a scan)."""

    __slots__ = ("column", "found", "samples", "unconfirmed")

    def __init__(self, column: str | None) -> None:
        self.column = _words(column) if column else ""
        self.found: Counter[str] = Counter()
        self.unconfirmed: Counter[str] = Counter()
        self.samples: dict[str, list[str]] = {}

    def results(
        self, column: str | None, type_of: Mapping[str, PiiType]
    ) -> tuple[list[PiiFinding], list[UnconfirmedFinding]]:
        """Per-type findings, and the valid values that lacked their context."""
        findings = []
        for pii_type in PiiType:
            kinds = sorted(kind for kind in self.found if type_of[kind] is pii_type)
            if kinds:
                samples = [s for kind in kinds for s in self.samples.get(kind, [])]
                findings.append(
                    PiiFinding(
                        column=column,
                        type=pii_type,
                        count=sum(self.found[kind] for kind in kinds),
                        kinds=tuple((kind, self.found[kind]) for kind in kinds),
                        samples=tuple(samples[:MAX_SAMPLES]),
                    )
                )
        unconfirmed = [
            UnconfirmedFinding(column, type_of[kind], kind, n)
            for kind, n in sorted(self.unconfirmed.items())
        ]
        return findings, unconfirmed


class Matcher:
    """The enabled detectors, their combined RE2 trigger, and overlap resolution.

    Overlapping matches go to the earlier detector in priority order (an e-mail before the
    digits inside it, a card before a phone shape within its digits). Detector ``i`` is bit
    ``i`` of the *codes* that say which triggers a row matched.
    """

    def __init__(self, detectors: Sequence[Detector], *, remember: bool = False) -> None:
        """Args:
        detectors: In priority order.
        remember: Validate each distinct value once (logs repeat values). The memory holds
            raw values, so it lives only as long as this matcher: make one per scan.
        """
        self.detectors = tuple(detectors)
        self.type_of = {d.kind: d.type for d in self.detectors}
        self.candidate = self.trigger(range(len(self.detectors)))
        checks = [
            functools.lru_cache(maxsize=1 << 16)(d.validate) if remember else d.validate
            for d in self.detectors
        ]
        self._checked = tuple(zip(self.detectors, checks, strict=True))
        self._subsets: dict[int, tuple[tuple[Detector, Callable[[str], bool]], ...]] = {
            -1: self._checked
        }

    def trigger(self, members: Iterable[int]) -> str:
        """One RE2 regex matching whatever any of the given detectors' triggers match."""
        return "|".join(f"(?:{self.detectors[i].trigger})" for i in members)

    def groups(self, members: Sequence[int]) -> list[tuple[str, tuple[int, ...]]]:
        """The given detectors grouped by type, each group with its combined trigger."""
        by_type: dict[PiiType, list[int]] = {}
        for i in members:
            by_type.setdefault(self.detectors[i].type, []).append(i)
        return [(self.trigger(group), tuple(group)) for group in by_type.values()]

    def needing_context(self, column: str) -> tuple[int, ...]:
        """Detectors whose required context the column's name supplies (for numeric columns)."""
        words = _words(column)
        return tuple(
            i
            for i, d in enumerate(self.detectors)
            if d.context is not None and d.context.search(words)
        )

    def _subset(self, code: int) -> tuple[tuple[Detector, Callable[[str], bool]], ...]:
        """``(detector, validate)`` for the bits set in ``code`` (``-1``: all), in priority
        order."""
        found = self._subsets.get(code)
        if found is None:
            found = tuple(pair for i, pair in enumerate(self._checked) if code >> i & 1)
            self._subsets[code] = found
        return found

    def _valid(self, text: str, code: int) -> list[tuple[Detector, int, int, str]]:
        """``(detector, start, end, value)`` for each valid value, overlaps resolved."""
        out: list[tuple[Detector, int, int, str]] = []
        for det, check in self._subset(code):
            if det.literal is not None and det.literal not in text:
                continue
            for m in det.pattern.finditer(text):
                start, end = m.span()
                if out and any(start < b and a < end for _, a, b, _ in out):
                    continue
                value = m.group()
                if check(value):
                    out.append((det, start, end, value))
        return out

    def find(self, text: str) -> list[PiiMatch]:
        """Every validated (and, where required, context-confirmed) value in ``text``."""
        hits = [
            PiiMatch(det.type, det.kind, start, end, det.redact(value))
            for det, start, end, value in self._valid(text, -1)
            if det.context is None or det.context.search(text)
        ]
        return sorted(hits, key=lambda h: h.start)

    def tally(self, text: str, into: ColumnTally, code: int = -1) -> None:
        """Count the values in ``text`` into a column tally, trying the detectors in ``code``.

        The scan's innermost loop, so ``_valid`` and the counting are inlined here.
        """
        spans: list[tuple[int, int]] = []
        for det, check in self._subsets.get(code) or self._subset(code):
            if det.literal is not None and det.literal not in text:
                continue
            for m in det.pattern.finditer(text):
                start, end = m.span()
                if spans and any(start < b and a < end for a, b in spans):
                    continue
                value = m.group()
                if not check(value):
                    continue
                spans.append((start, end))
                context = det.context
                if context is None or context.search(text) or context.search(into.column):
                    into.found[det.kind] += 1
                    kept = into.samples.setdefault(det.kind, [])
                    if len(kept) < MAX_SAMPLES:
                        kept.append(det.redact(value))
                else:
                    into.unconfirmed[det.kind] += 1
