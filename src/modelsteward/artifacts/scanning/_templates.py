"""Chat templates are Jinja programs: flag the constructs sandbox escapes are built from.

Constructs that never occur in honest templates (dunders, escaped underscores, ``attr()``,
``eval(``) are looked for everywhere; words that prose uses too (``import``, ``os.``) only inside
``{{ ... }}`` and ``{% ... %}``, so a system prompt saying "import" is fine and
``{{ x.__class__ }}`` is not. This is a heuristic second line behind the sandbox runtimes use.

    >>> from modelsteward.artifacts.scanning._templates import suspicious_jinja
    >>> suspicious_jinja("{% for m in messages %}{{ m.content }}{% endfor %}")
    []
    >>> suspicious_jinja("{{ cycler.__init__.__globals__.os.popen('id').read() }}")[0]
    '`__init__` (dunder attribute access, the first step of a sandbox escape)'
"""

from __future__ import annotations

import re

__all__ = ["suspicious_jinja"]

_BLOCKS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# (pattern, why, prose-prone: only checked inside Jinja blocks)
_PATTERNS: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    (
        re.compile(r"__[A-Za-z]\w*__"),
        "dunder attribute access, the first step of a sandbox escape",
        False,
    ),
    (
        re.compile(r"\\x5f|\\u005f|\\137|\\N\{LOW LINE\}"),
        "an escaped underscore hiding a dunder",
        False,
    ),
    (
        re.compile(r"\battr\s*\("),
        "the attr filter, used to reach attributes by computed name",
        False,
    ),
    (re.compile(r"\bimport\b"), "an import", True),
    (re.compile(r"\bos\s*\."), "the os module", True),
    (
        re.compile(r"\b(?:subprocess|popen|builtins|sys\s*\.\s*modules)\b"),
        "process or module access",
        False,
    ),
    (re.compile(r"\b(?:eval|exec|compile)\s*\("), "a call to eval, exec or compile", False),
)
_MAX_REPORTED = 5


def suspicious_jinja(template: str) -> list[str]:
    """Why ``template`` looks like an attempt to escape the Jinja sandbox (empty if it does not).

    Args:
        template: The Jinja source of a chat template.

    Returns:
        One line per construct found (at most five), each naming the construct.
    """
    code = "\n".join(match.group(0) for match in _BLOCKS.finditer(template))
    reasons: list[str] = []
    for pattern, why, prose_prone in _PATTERNS:
        hit = pattern.search(code if prose_prone else template)
        if hit:
            reasons.append(f"`{hit.group(0)}` ({why})")
    return reasons[:_MAX_REPORTED]
