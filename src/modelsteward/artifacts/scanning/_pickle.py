"""Static pickle analysis with fickling: list what unpickling would import, never unpickle.

A pickle executes code only through the globals it imports, so the verdict is simple: every
import on Steward's allow-list (:mod:`._allowlist`) and fickling could follow every opcode →
safe; anything else → unsafe. fickling's own severity is recorded alongside, for the curious.

    >>> import pickle
    >>> from modelsteward.artifacts.scanning._pickle import analyse_pickle
    >>> analysis = analyse_pickle(pickle.dumps({"weights": [1.0, 2.0]}))
    >>> analysis.problems, analysis.imports
    ([], [])
"""

from __future__ import annotations

import ast
import contextlib
import io
import pickletools
from dataclasses import dataclass, field
from typing import Any

import fickling
from fickling.analysis import (
    Analysis,
    AnalysisContext,
    DuplicateProtoAnalysis,
    ExpansionAttackAnalysis,
    InvalidOpcode,
    MisplacedProtoAnalysis,
    Severity,
)
from fickling.exception import ResourceExhaustionError
from fickling.fickle import DEFAULT_INTERPRETER_LIMITS, Pickled

from modelsteward.artifacts.scanning._allowlist import is_allowed_global

__all__ = ["FICKLING_VERSION", "IMPORT_OPCODES", "PickleAnalysis", "analyse_pickle"]

FICKLING_VERSION: str = fickling.__version__
"""Recorded as the ``fickling`` scanner's version."""

IMPORT_OPCODES = frozenset({"GLOBAL", "INST", "STACK_GLOBAL", "EXT1", "EXT2", "EXT4"})
"""The opcodes through which unpickling imports (and so can call) a global."""

# Errors fickling raises on hostile opcode streams instead of returning a result.
_FICKLING_ERRORS = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    RuntimeError,  # includes RecursionError and NotImplementedError (unsupported opcodes)
    ResourceExhaustionError,
)
# fickling analyses that spot a tampered stream rather than a suspicious import; Steward judges
# imports itself, but a tampered stream is unsafe whatever it imports.
_STRUCTURAL = (
    DuplicateProtoAnalysis,
    MisplacedProtoAnalysis,
    InvalidOpcode,
    ExpansionAttackAnalysis,
)
_TAMPER_NAMES = frozenset({"InterpretationError", "ResourceExhaustion"})
# torch.save's legacy (non-zip) format: this magic number, then four more pickles, then raw bytes.
_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_LEGACY_PICKLES = 5
_MAX_MESSAGES = 20
_MAX_PICKLES = 1000
_MAX_OPCODES = DEFAULT_INTERPRETER_LIMITS.max_opcodes


@dataclass
class PickleAnalysis:
    """What fickling and the allow-list made of one pickle stream (possibly stacked pickles).

    Attributes:
        parsed: The first pickle decoded completely.
        imports_before_error: Undecodable data held an import opcode before its first bad byte.
        problems: Reasons the stream is unsafe (empty means safe).
        imports: Every ``module.name`` unpickling would import, sorted.
        pickles: Complete pickles found one after the other.
        opcodes: Opcodes across them.
        trailing_bytes: Bytes after the last complete pickle (legacy torch storages, junk).
        legacy_torch: The stream is torch.save's legacy format.
        severity: fickling's own severity name (it flags ordinary torch imports too).
        messages: fickling's messages.
        warnings: Text fickling printed while analysing, captured.
    """

    parsed: bool = False
    imports_before_error: bool = False
    problems: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    pickles: int = 0
    opcodes: int = 0
    trailing_bytes: int = 0
    legacy_torch: bool = False
    severity: str = Severity.LIKELY_SAFE.name
    messages: list[str] = field(default_factory=list)
    warnings: str = ""

    def details(self) -> dict[str, Any]:
        """JSON-safe summary for a :class:`FileVerdict`."""
        found: dict[str, Any] = {
            "imports": self.imports,
            "pickles": self.pickles,
            "opcodes": self.opcodes,
            "fickling": {"severity": self.severity, "messages": self.messages[:_MAX_MESSAGES]},
        }
        if self.trailing_bytes:
            found["trailing_bytes"] = self.trailing_bytes
        if self.legacy_torch:
            found["legacy_torch_format"] = True
        if self.warnings:
            found["fickling"]["warnings"] = self.warnings[:2000]
        return found


def analyse_pickle(data: bytes) -> PickleAnalysis:
    """Analyse ``data`` as a stream of pickles without executing any of it.

    Args:
        data: The pickle bytes (already bounded in size by the caller).

    Returns:
        The analysis; ``problems`` is empty only if every import is allowed and every opcode
        could be followed.

    fickling prints warnings about malformed streams; they are captured into the analysis by
    redirecting ``sys.stdout``/``sys.stderr`` while it runs (process-wide, for that moment),
    because the library must never print.
    """
    result = PickleAnalysis()
    found: set[str] = set()
    stream = io.BytesIO(data)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        while stream.tell() < len(data):
            start = stream.tell()
            if result.pickles == _MAX_PICKLES or _too_many_opcodes(stream):
                result.problems.append(
                    f"cannot be analysed: more than {_MAX_PICKLES} stacked pickles or "
                    f"{_MAX_OPCODES} opcodes in one"
                )
                break
            try:
                pickled = Pickled.load(stream, fail_on_decode_error=True)
            except _FICKLING_ERRORS as exc:
                _undecodable(data[start:], exc, result, found)
                break
            result.parsed = True
            result.pickles += 1
            _analyse_one(pickled, result, found)
            if result.pickles == 1 and _is_legacy_magic(pickled):
                result.legacy_torch = True
            if result.legacy_torch and result.pickles == _TORCH_LEGACY_PICKLES:
                result.trailing_bytes = len(data) - stream.tell()
                break
    if not data:
        result.problems.append("cannot be analysed: the pickle is empty")
    result.imports = sorted(found)
    result.problems = list(dict.fromkeys(result.problems))
    result.warnings = captured.getvalue()
    return result


def _undecodable(rest: bytes, exc: BaseException, result: PickleAnalysis, found: set[str]) -> None:
    """The stream stops decoding at ``rest``: judge what a loader would run before failing."""
    if result.pickles == 0:
        result.problems.append(f"cannot be analysed: not a well-formed pickle ({_brief(exc)})")
    else:
        result.trailing_bytes = len(rest)
    try:
        prefix = Pickled.load(io.BytesIO(rest), fail_on_decode_error=False)
    except _FICKLING_ERRORS:
        return
    # pickle.load runs opcodes as it reads them, so imports before the bad byte still run.
    for op in prefix:
        name = op.info.name
        if name in IMPORT_OPCODES:
            result.imports_before_error = True
        if name in ("GLOBAL", "INST"):
            module, _, attr = str(op.arg).partition(" ")
            found.add(f"{module}.{attr}")
            if not is_allowed_global(module, attr):
                result.problems.append(f"imports {module}.{attr} (not on the allow-list)")
        elif name in IMPORT_OPCODES:
            result.problems.append(f"undecodable data uses {name}, which imports a global")


def _analyse_one(pickled: Any, result: PickleAnalysis, found: set[str]) -> None:
    expected = 0
    for op in pickled:
        result.opcodes += 1
        name = op.info.name
        if name not in IMPORT_OPCODES:
            continue
        expected += 1
        if name.startswith("EXT"):
            result.problems.append(
                f"uses {name}: imports through the copyreg extension registry cannot be "
                "resolved statically"
            )
        elif name != "STACK_GLOBAL" and str(op.arg).count(" ") != 1:
            result.problems.append(f"cannot be analysed: malformed {name} argument {op.arg!r}")
    try:
        nodes = pickled.properties.imports
    except _FICKLING_ERRORS as exc:
        result.problems.append(f"cannot be analysed: fickling could not follow it ({_brief(exc)})")
        return
    if pickled.has_interpretation_error or pickled.has_resource_exhaustion:
        result.problems.append(
            "cannot be analysed: malformed opcode sequence or resource limits exceeded"
        )
    elif len(nodes) != expected:
        result.problems.append(
            f"cannot be analysed: fickling resolved {len(nodes)} of {expected} imports"
        )
    for node in nodes:
        for module, attr in _import_names(node):
            found.add(f"{module}.{attr}" if attr else module)
            if not is_allowed_global(module, attr):
                shown = f"{module}.{attr}" if attr else module
                result.problems.append(f"imports {shown} (not on the allow-list)")
    _fickling_opinion(pickled, result)


def _import_names(node: ast.stmt) -> list[tuple[str, str]]:
    if isinstance(node, ast.ImportFrom):
        return [(node.module or "", alias.name) for alias in node.names]
    if isinstance(node, ast.Import):
        return [(alias.name, "") for alias in node.names]
    return []


def _fickling_opinion(pickled: Any, result: PickleAnalysis) -> None:
    """Record fickling's severity; adopt only its verdicts on tampered streams."""
    context = AnalysisContext(pickled)
    try:
        for analysis in Analysis.ALL:
            context.analyze(analysis)
    except _FICKLING_ERRORS as exc:
        result.problems.append(f"cannot be analysed: fickling failed ({_brief(exc)})")
        return
    outcome = context.results
    if outcome.severity > Severity[result.severity]:
        result.severity = outcome.severity.name
    result.messages.extend(
        str(r) for r in outcome.results if r.severity >= Severity.POSSIBLY_UNSAFE
    )
    for kind, findings in context.results_by_analysis.items():
        for finding in findings:
            tampered = issubclass(kind, _STRUCTURAL) or finding.analysis_name in _TAMPER_NAMES
            if tampered and finding.severity >= Severity.LIKELY_UNSAFE:
                result.problems.append(f"fickling: {finding}")


def _too_many_opcodes(stream: io.BytesIO) -> bool:
    """Count the next pickle's opcodes first: fickling lists them all before enforcing limits."""
    start = stream.tell()
    try:
        for count, _ in enumerate(pickletools.genops(stream)):
            if count >= _MAX_OPCODES:
                return True
    except ValueError:
        pass  # Pickled.load meets the same error and reports it
    finally:
        stream.seek(start)
    return False


def _is_legacy_magic(pickled: Any) -> bool:
    ops = list(pickled)
    return len(ops) <= 4 and any(
        op.info.name == "LONG1" and op.arg == _TORCH_LEGACY_MAGIC for op in ops
    )


def _brief(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
