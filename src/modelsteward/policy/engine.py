"""The policy engine seam, and its in-process implementation on rego-cpp (``regopy``).

:class:`PolicyEngine` is the one seam between Steward and a Rego engine: evaluate a rule of a
:class:`~modelsteward.policy.bundle.PolicyBundle` against an input document, and run the
bundle's own ``test_*`` rules. :class:`RegoCppEngine` implements it in process. Both fail
closed: a policy that does not compile is :class:`~modelsteward.errors.InvalidInput` naming the
module file and line; an evaluation error or an undefined result is
:class:`~modelsteward.errors.PolicyDenied` ("policy engine error: …").

    >>> from modelsteward.policy.bundle import PolicyBundle
    >>> source = "package t\\nimport rego.v1\\nbig := input.n > 10\\n"
    >>> bundle = PolicyBundle("tiny", "0.1.0", "", (("t.rego", source),), {})
    >>> engine = RegoCppEngine()
    >>> [engine.evaluate(bundle, "data.t.big", {"n": n}) for n in (11, 1)]
    [True, False]
    >>> engine.evaluate(bundle, "data.t.small", {"n": 1})
    Traceback (most recent call last):
    ...
    modelsteward.errors.PolicyDenied: policy engine error: data.t.small is undefined ...
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import regopy

from modelsteward.errors import PolicyDenied
from modelsteward.policy._regocpp import Plan, entrypoint_of, find_test_rules, json_text
from modelsteward.policy.bundle import PolicyBundle

__all__ = ["PolicyEngine", "RegoCppEngine", "RegoTestResult"]

_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class RegoTestResult:
    """The outcome of one ``test_*`` rule of a bundle.

    Attributes:
        package: The Rego package holding the rule (``steward.gate_test``).
        name: The rule name (``test_skipping_a_stage_is_denied``).
        passed: True only when the rule's value is exactly ``true``.
        error: Why it failed (undefined, another value, or the engine's error), else ``None``.
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
        """Run every ``test_*`` rule of every package of ``bundle``, input ``{}``.

        Raises:
            InvalidInput: the bundle does not compile.
        """
        ...


class RegoCppEngine:
    """:class:`PolicyEngine` on rego-cpp, in process.

    A bundle is compiled once per query (about 0.1 s for the default pack) and the plan is
    kept, for up to eight bundle × query pairs; each evaluation then sets the input and runs
    the plan (tens of milliseconds). Thread-safe: evaluations of one plan take turns. Modules
    named ``*_test.rego`` are loaded only to run tests.
    """

    name = "rego-cpp"
    version: str = regopy.__version__

    def __init__(self) -> None:
        self._plans: OrderedDict[tuple[str, str], Plan] = OrderedDict()
        self._lock = threading.Lock()

    def evaluate(self, bundle: PolicyBundle, query: str, input: Mapping[str, Any]) -> Any:
        """See :meth:`PolicyEngine.evaluate`."""
        entrypoint = entrypoint_of(query)
        term = json_text(input, "the policy input")
        return self._plan(bundle, entrypoint).run(entrypoint, term)

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        """See :meth:`PolicyEngine.run_tests`."""
        rules = find_test_rules(bundle)
        if not rules:
            return []
        entrypoints = [f"{package.replace('.', '/')}/{rule}" for package, rule in rules]
        plan = Plan(bundle, entrypoints, tests=True)
        return [
            _test_result(plan, package, rule, entrypoint)
            for (package, rule), entrypoint in zip(rules, entrypoints, strict=True)
        ]

    def _plan(self, bundle: PolicyBundle, entrypoint: str) -> Plan:
        key = (bundle.digest, entrypoint)
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
                return found
        plan = Plan(bundle, [entrypoint], tests=False)  # compiled outside the lock
        with self._lock:
            found = self._plans.setdefault(key, plan)
            while len(self._plans) > _CACHE_SIZE:
                self._plans.popitem(last=False)
        return found


def _test_result(plan: Plan, package: str, rule: str, entrypoint: str) -> RegoTestResult:
    try:
        value = plan.run(entrypoint, "{}")
    except PolicyDenied as exc:
        return RegoTestResult(
            package, rule, False, exc.message.removeprefix("policy engine error: ")
        )
    if value is True:
        return RegoTestResult(package, rule, True)
    return RegoTestResult(package, rule, False, f"the rule is {json.dumps(value)}, not true")
