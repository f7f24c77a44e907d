"""rego-cpp (``regopy``) plumbing for :class:`~modelsteward.policy.engine.RegoCppEngine`.

Compiles a bundle into a plan for a set of entry points, runs a plan on a JSON input, and turns
rego-cpp's error trees into messages. It works around rego-cpp 1.5.2 (docs/policies.md lists
these for pack authors):

- the interpreter's ``query`` recompiles every module on each call (about 100 ms for the
  default pack) and reads a ``false`` result as undefined, so plans are built once with
  ``build`` and run with ``rego_bundle_query_entrypoint``;
- regopy's ``Output`` wrapper parses or walks a failed output and can crash the process, so the
  C API is used directly and a failure's message is read from the interpreter;
- strings handed over as Python objects are printed back unescaped (invalid JSON) and floats
  lose digits, so the input and data go in as escaped ASCII JSON text;
- ``with input as VALUE`` can abort the process when VALUE names a rule, so modules using it
  are refused;
- compile errors are printed to stdout unless the log level is ``NONE``.

    >>> error = "(error 8:bad.rego|25|2 (errormsg 12:Invalid rule))"
    >>> _compile_error(error, {"bad.rego": "package x\\nimport rego.v1\\n!!"})
    'bad.rego line 3 column 1: Invalid rule'
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import regopy
from regopy import rego_shared

from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.policy.bundle import PolicyBundle

__all__: list[str] = []

QUERY = re.compile(r"^data(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
_PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)\s*$", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)
_WITH_INPUT = re.compile(r"^[^#\n]*\bwith\s+input\s+as\b", re.MULTILINE)
_ERROR_HEAD = re.compile(r"\(error (\d+):")
_ERROR_MSG = re.compile(r"\(errormsg (\d+):")
_NO_DETAIL = (
    "the engine gave no detail (a complete rule or function with two different values "
    "is the usual cause)"
)


class Plan:
    """A bundle compiled for some entry points; runs on it take turns (``lock``)."""

    def __init__(self, bundle: PolicyBundle, entrypoints: Sequence[str], *, tests: bool) -> None:
        self.interpreter, self.compiled = _build(bundle, entrypoints, with_tests=tests)
        self.lock = threading.Lock()

    def run(self, entrypoint: str, term: str) -> Any:
        """The value of ``entrypoint`` (``pkg/rule``) with ``term`` (JSON text) as the input.

        Raises:
            InvalidInput: the engine refused the input.
            PolicyDenied: evaluation failed or the value is undefined.
        """
        with self.lock:
            try:
                self.interpreter.set_input_term(term)
            except regopy.RegoError as exc:
                raise InvalidInput("the policy input is refused by the engine") from exc
            return _run(self.interpreter, self.compiled, entrypoint)


def entrypoint_of(query: str) -> str:
    """``steward/gate/decision`` for ``data.steward.gate.decision``.

    Raises:
        InvalidInput: the query is not a rule path.
    """
    if not QUERY.match(query):
        raise InvalidInput(f"policy query {query!r} is not a rule path", hint="e.g. data.a.b")
    return query.removeprefix("data.").replace(".", "/")


def json_text(value: Any, what: str) -> str:
    """ASCII JSON: rego-cpp keeps strings as written, so escaped text in gives valid JSON out."""
    try:
        return json.dumps(value, ensure_ascii=True, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from exc


def find_test_rules(bundle: PolicyBundle) -> list[tuple[str, str]]:
    """``(package, rule)`` for every ``test_*`` rule that starts a line, sorted."""
    found: dict[tuple[str, str], None] = {}
    for _, source in bundle.modules:
        package = _PACKAGE.search(source)
        if package is None:
            continue
        for rule in _TEST_RULE.findall(source):
            found[(package.group(1), rule)] = None
    return sorted(found)


def engine_error(message: str) -> PolicyDenied:
    """The fail-closed error for a policy that cannot be evaluated."""
    return PolicyDenied(
        f"policy engine error: {message}",
        hint="run `steward policy test` on the policy pack; the release stays where it is",
    )


def _build(
    bundle: PolicyBundle, entrypoints: Sequence[str], *, with_tests: bool
) -> tuple[Any, Any]:
    sources = {
        name: source
        for name, source in bundle.modules
        if with_tests or not name.endswith("_test.rego")
    }
    _refuse_whole_input_mocks(bundle, sources)
    interpreter = regopy.Interpreter()
    interpreter.log_level = regopy.LogLevel.NONE
    try:
        for name, source in sources.items():
            interpreter.add_module(name, source)
        interpreter.add_data_json(json_text(bundle.data, "the policy data"))
        compiled = interpreter.build(None, list(entrypoints))
    except regopy.RegoError as exc:
        raise _compile_failure(bundle, str(exc), sources) from exc
    if not compiled.ok():
        detail = rego_shared.rego_get_error(interpreter._impl) or "no detail from the engine"
        raise _compile_failure(bundle, detail, sources)
    return interpreter, compiled


def _refuse_whole_input_mocks(bundle: PolicyBundle, sources: Mapping[str, str]) -> None:
    for name, source in sources.items():
        found = _WITH_INPUT.search(source)
        if found is not None:
            line = source.count("\n", 0, found.start()) + 1
            raise InvalidInput(
                f"policy module {name} line {line}: `with input as …` is not supported "
                f"(the embedded engine, rego-cpp, can crash on it)",
                hint="write the policy as a function of the input document and call it from "
                "tests (docs/policies.md)",
            )


def _compile_failure(bundle: PolicyBundle, error: str, sources: Mapping[str, str]) -> InvalidInput:
    return InvalidInput(
        f"policy pack {bundle.name} {bundle.version} does not compile: "
        f"{_compile_error(error, sources)}",
        hint="fix the module named; `steward policy test` runs the pack's own tests",
    )


def _run(interpreter: Any, compiled: Any, entrypoint: str) -> Any:
    impl = interpreter._impl
    rule = "data." + entrypoint.replace("/", ".")
    try:
        output = rego_shared.rego_bundle_query_entrypoint(impl, compiled._impl, entrypoint)
    except regopy.RegoError as exc:
        raise engine_error(f"{rule} cannot be evaluated ({_messages(str(exc))})") from exc
    try:
        if not rego_shared.rego_output_ok(output):
            detail = rego_shared.rego_get_error(impl) or _NO_DETAIL
            raise engine_error(f"{rule} failed: {_messages(detail)}")
        text = rego_shared.rego_output_string(output)
    finally:
        rego_shared.rego_free_output(output)
    return _value(rule, text)


def _value(rule: str, text: str) -> Any:
    if text.strip() == "undefined":
        raise engine_error(f"{rule} is undefined (a rule it needs has no value for this input)")
    if text.lstrip().startswith("("):
        raise engine_error(f"{rule} failed: {_messages(text)}")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        detail = _messages(text) if "(error" in text else exc.msg
        raise engine_error(f"{rule} gave output that is not JSON ({detail})") from exc
    results = parsed if isinstance(parsed, list) else [parsed]
    if len(results) != 1 or not isinstance(results[0], dict):
        raise engine_error(f"{rule} gave {len(results)} results instead of one")
    values = results[0].get("expressions", [])
    if len(values) != 1:
        raise engine_error(f"{rule} gave {len(values)} values instead of one")
    return values[0]


def _messages(text: str) -> str:
    """The ``errormsg`` texts of a rego-cpp error tree (length-prefixed strings)."""
    found = [_prefixed(text, m.end(), int(m.group(1))) for m in _ERROR_MSG.finditer(text)]
    return "; ".join(dict.fromkeys(found)) if found else " ".join(text.split())[:300]


def _compile_error(text: str, sources: Mapping[str, str]) -> str:
    """``FILE line L column C: message`` for each error of a rego-cpp error tree."""
    parts: list[str] = []
    for head in _ERROR_HEAD.finditer(text):
        name = _prefixed(text, head.end(), int(head.group(1)))
        rest = text[head.end() + len(name) :]
        message = _messages(rest.split("(error ", 1)[0])
        where = re.match(r"\|(\d+)\|", rest)
        if where is None or name not in sources:
            parts.append(f"{name}: {message}" if name else message)
            continue
        source = sources[name].encode("utf-8")[: int(where.group(1))].decode("utf-8", "replace")
        line = source.count("\n") + 1
        column = len(source) - (source.rfind("\n") + 1) + 1
        parts.append(f"{name} line {line} column {column}: {message}")
    return "; ".join(dict.fromkeys(parts)) if parts else _messages(text)


def _prefixed(text: str, start: int, length: int) -> str:
    return text[start : start + length]
