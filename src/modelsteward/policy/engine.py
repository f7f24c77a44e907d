"""The policy engine seam, and its in-process implementation on rego-cpp (``regopy``).

:class:`PolicyEngine` is the one seam between Steward and a Rego engine: evaluate a query of a
:class:`~modelsteward.policy.bundle.PolicyBundle` against an input, and run the bundle's own
``test_*`` rules. :class:`RegoCppEngine` implements it in process. It fails closed: a policy that
does not compile is :class:`~modelsteward.errors.InvalidInput` naming the module file; an
evaluation error or an undefined result is :class:`~modelsteward.errors.PolicyDenied`
("policy engine error: …").

    >>> from modelsteward.policy.bundle import PolicyBundle
    >>> bundle = PolicyBundle(
    ...     name="tiny", version="0.1.0", description="",
    ...     modules=(("t.rego", "package t\\nimport rego.v1\\nbig if input.n > 10\\n"),), data={},
    ... )
    >>> engine = RegoCppEngine()
    >>> engine.evaluate(bundle, "data.t", {"n": 11})
    {'big': True}
    >>> engine.evaluate(bundle, "data.t.big", {"n": 1})
    Traceback (most recent call last):
    ...
    modelsteward.errors.PolicyDenied: policy engine error: data.t.big is undefined ...

rego-cpp 1.5.2 behaviours this module works around (docs/policies.md lists them for pack
authors): a failed query's output must not be printed or walked (it can crash the process), so
its error is read from the interpreter; a query that evaluates to ``false`` reads as undefined,
so the query is bound to a variable (``result := data.…``); strings built from Python objects
are printed unescaped, so the input and data are handed over as JSON text (ASCII, escaped);
the library logs compile errors to stdout unless its log level is ``NONE``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import regopy
from regopy import rego_shared

from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.policy.bundle import PolicyBundle

__all__ = ["PolicyEngine", "RegoCppEngine", "RegoTestResult"]

_QUERY = re.compile(r"^data(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)
_ERROR_HEAD = re.compile(r"\(error (\d+):")
_ERROR_MSG = re.compile(r"\(errormsg (\d+):")
_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class RegoTestResult:
    """The outcome of one ``test_*`` rule of a bundle.

    Attributes:
        package: The Rego package holding the rule (``steward.gate_test``).
        name: The rule name (``test_skipping_a_stage_is_denied``).
        passed: True only when the rule's value is exactly ``true``.
        error: Why it failed (``undefined``, ``false`` or the engine's error), else ``None``.
    """

    package: str
    name: str
    passed: bool
    error: str | None = None

    @property
    def rule(self) -> str:
        """``data.<package>.<name>``, the rule's full path."""
        return f"data.{self.package}.{self.name}"


class PolicyEngine(Protocol):
    """What Steward needs from a Rego engine.

    Attributes:
        name: The engine's name, recorded with every decision.
        version: The engine's version, recorded with every decision.
    """

    name: str
    version: str

    def evaluate(self, bundle: PolicyBundle, query: str, input: Mapping[str, Any]) -> Any:
        """The JSON value of ``query`` (``data.pkg.rule``) with ``input`` as the input document.

        Raises:
            InvalidInput: the bundle does not compile, or the query or input is malformed.
            PolicyDenied: evaluation failed or the result is undefined (fail closed).
        """
        ...

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        """Run every ``test_*`` rule of every package of ``bundle``.

        Raises:
            InvalidInput: the bundle does not compile.
        """
        ...


class _Compiled:
    """A bundle compiled for a set of entry points; queries on it are serialised by ``lock``."""

    def __init__(self, interpreter: Any, compiled: Any) -> None:
        self.interpreter = interpreter
        self.compiled = compiled
        self.lock = threading.Lock()

    def query(self, entrypoint: str, term: str) -> Any:
        """The value of ``entrypoint`` with ``term`` (JSON text) as the input document."""
        with self.lock:
            _set_input(self.interpreter, term)
            return _run(self.interpreter, self.compiled, entrypoint)


class RegoCppEngine:
    """:class:`PolicyEngine` on rego-cpp, in process.

    A bundle is compiled once per query (tens of milliseconds) and kept, for up to eight
    bundle × query pairs; each evaluation then only sets the input and runs the compiled plan.
    Thread-safe: evaluations of one compiled plan take turns.
    """

    name = "rego-cpp"
    version: str = regopy.__version__

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, str], _Compiled] = OrderedDict()
        self._cache_lock = threading.Lock()

    def evaluate(self, bundle: PolicyBundle, query: str, input: Mapping[str, Any]) -> Any:
        """See :meth:`PolicyEngine.evaluate`. Modules named ``*_test.rego`` are not loaded."""
        entrypoint = _entrypoint(query)
        term = _json_text(input, "the policy input")
        return self._compiled(bundle, entrypoint).query(entrypoint, term)

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        """See :meth:`PolicyEngine.run_tests`. Each test runs with the input ``{}``."""
        rules = _test_rules(bundle)
        if not rules:
            return []
        entrypoints = [f"{package.replace('.', '/')}/{rule}" for package, rule in rules]
        compiled = _Compiled(*_build(bundle, entrypoints, with_tests=True))
        results: list[RegoTestResult] = []
        for (package, rule), entrypoint in zip(rules, entrypoints, strict=True):
            try:
                value = compiled.query(entrypoint, "{}")
            except PolicyDenied as exc:
                results.append(RegoTestResult(package, rule, False, exc.message))
                continue
            error = None if value is True else f"the rule is {json.dumps(value)}, not true"
            results.append(RegoTestResult(package, rule, value is True, error))
        return results

    def _compiled(self, bundle: PolicyBundle, entrypoint: str) -> _Compiled:
        key = (bundle.digest, entrypoint)
        with self._cache_lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        compiled = _Compiled(*_build(bundle, [entrypoint], with_tests=False))
        with self._cache_lock:
            found = self._cache.setdefault(key, compiled)
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found


def _entrypoint(query: str) -> str:
    if not _QUERY.match(query):
        raise InvalidInput(f"policy query {query!r} is not a rule path", hint="e.g. data.a.b")
    return query.removeprefix("data.").replace(".", "/")


def _build(bundle: PolicyBundle, entrypoints: list[str], *, with_tests: bool) -> tuple[Any, Any]:
    """A new interpreter holding the bundle, and the plan compiled for ``entrypoints``."""
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE  # otherwise compile errors go to stdout
    sources = {
        name: source
        for name, source in bundle.modules
        if with_tests or not name.endswith("_test.rego")
    }
    for name, source in sources.items():
        try:
            interpreter.add_module(name, source)
        except regopy.RegoError as exc:
            raise _compile_failure(bundle, str(exc), sources) from exc
    try:
        interpreter.add_data_json(_json_text(bundle.data, "the policy data"))
        compiled = interpreter.build(None, entrypoints)
    except regopy.RegoError as exc:
        raise _compile_failure(bundle, str(exc), sources) from exc
    if not compiled.ok():
        detail = rego_shared.rego_get_error(interpreter._impl) or "no detail from the engine"
        raise _compile_failure(bundle, detail, sources)
    return interpreter, compiled


def _compile_failure(bundle: PolicyBundle, error: str, sources: Mapping[str, str]) -> InvalidInput:
    return InvalidInput(
        f"policy pack {bundle.name} {bundle.version} does not compile: "
        f"{_compile_error(error, sources)}",
        hint="fix the module named; `steward policy test` runs the pack's own tests",
    )


def _set_input(interpreter: Any, term: str) -> None:
    try:
        interpreter.set_input_term(term)
    except regopy.RegoError as exc:
        raise InvalidInput("the policy input is refused by the engine") from exc


def _run(interpreter: Any, compiled: Any, entrypoint: str) -> Any:
    """Run ``entrypoint``'s plan; undefined or an error is ``PolicyDenied``."""
    impl = interpreter._impl  # regopy's Output wrapper crashes on failed queries: use the C API
    rule = "data." + entrypoint.replace("/", ".")
    try:
        output = rego_shared.rego_bundle_query_entrypoint(impl, compiled._impl, entrypoint)
    except regopy.RegoError as exc:
        raise _engine_error(f"{rule} cannot be evaluated ({_messages(str(exc))})") from exc
    try:
        if not rego_shared.rego_output_ok(output):
            detail = rego_shared.rego_get_error(impl) or _NO_DETAIL
            raise _engine_error(f"{rule} failed: {_messages(detail)}")
        text = rego_shared.rego_output_string(output)
    finally:
        rego_shared.rego_free_output(output)
    return _result(rule, text)


_NO_DETAIL = (
    "the engine gave no detail (a complete rule or function with two different values "
    "is the usual cause)"
)


def _result(rule: str, text: str) -> Any:
    if text.strip() == "undefined":
        raise _engine_error(f"{rule} is undefined (a rule it needs has no value for this input)")
    if text.lstrip().startswith("("):
        raise _engine_error(f"{rule} failed: {_messages(text)}")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = _messages(text) if "(error" in text else exc.msg
        raise _engine_error(f"{rule} gave output that is not JSON ({detail})") from exc
    results = parsed if isinstance(parsed, list) else [parsed]
    if len(results) != 1 or not isinstance(results[0], dict):
        raise _engine_error(f"{rule} gave {len(results)} results instead of one")
    values = results[0].get("expressions", [])
    if len(values) != 1:
        raise _engine_error(f"{rule} gave {len(values)} values instead of one")
    return values[0]


def _engine_error(message: str) -> PolicyDenied:
    return PolicyDenied(
        f"policy engine error: {message}",
        hint="run `steward policy test` on the policy pack; the release stays where it is",
    )


def _json_text(value: Any, what: str) -> str:
    # ASCII with escapes: rego-cpp keeps strings as written and prints them as kept, so escaped
    # JSON text in means valid JSON out (and equal strings compare equal).
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from exc


def _test_rules(bundle: PolicyBundle) -> list[tuple[str, str]]:
    """``(package, rule)`` for every ``test_*`` rule written at the start of a line."""
    found: dict[tuple[str, str], None] = {}
    for _, source in bundle.modules:
        package = _PACKAGE.search(source)
        if package is None:
            continue
        for rule in _TEST_RULE.findall(source):
            found[(package.group(1), rule)] = None
    return sorted(found)


def _messages(text: str) -> str:
    """The ``errormsg`` texts of a rego-cpp error tree (length-prefixed strings)."""
    found = [_prefixed(text, m.end(), int(m.group(1))) for m in _ERROR_MSG.finditer(text)]
    return "; ".join(dict.fromkeys(found)) if found else " ".join(text.split())[:300]


def _compile_error(text: str, sources: Mapping[str, str]) -> str:
    """``FILE line L column C: message`` for each error of a rego-cpp error tree."""
    heads = list(_ERROR_HEAD.finditer(text))
    if not heads:
        return _messages(text)
    parts: list[str] = []
    for head in heads:
        name = _prefixed(text, head.end(), int(head.group(1)))
        rest = text[head.end() + len(name) :]
        message = _messages(rest.split("(error ", 1)[0])
        where = re.match(r"\|(\d+)\|", rest)
        if where is None or name not in sources:
            parts.append(f"{name}: {message}" if name else message)
            continue
        before = sources[name].encode("utf-8")[: int(where.group(1))].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        parts.append(f"{name} line {line} column {column}: {message}")
    return "; ".join(dict.fromkeys(parts))


def _prefixed(text: str, start: int, length: int) -> str:
    return text[start : start + length]
