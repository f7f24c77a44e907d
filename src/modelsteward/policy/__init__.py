"""Policy-as-code: release gates written in Rego, evaluated in process behind one seam.

A :class:`PolicyBundle` is a versioned pack of Rego modules and a data document (Steward ships
``steward-default``; users may point Steward at their own folder). A :class:`PolicyEngine`
evaluates a bundle's rules against an input and runs the bundle's own ``test_*`` rules;
:class:`RegoCppEngine` is the in-process implementation. The gate's answer is
``data.steward.gate.decision`` (docs/policies.md).

    >>> engine = RegoCppEngine()
    >>> bundle = PolicyBundle.default()
    >>> decision = engine.evaluate(bundle, GATE_QUERY, complete_input("controlled-pilot", "shadow"))
    >>> decision["allow"], decision["unmet"]
    (True, [])
    >>> decision["rubric"]["hardening"]
    {'met': 2, 'total': 2}
"""

from __future__ import annotations

from modelsteward.policy._examples import complete_input
from modelsteward.policy.bundle import BUNDLE_SCHEMA, PolicyBundle
from modelsteward.policy.engine import PolicyEngine, RegoCppEngine, RegoTestResult

__all__ = [
    "BUNDLE_SCHEMA",
    "GATE_QUERY",
    "REFUSALS_QUERY",
    "PolicyBundle",
    "PolicyEngine",
    "RegoCppEngine",
    "RegoTestResult",
    "complete_input",
]

GATE_QUERY = "data.steward.gate.decision"
"""The rule a release gate evaluates: ``{allow, unmet, required, rubric, signoffs}``."""

REFUSALS_QUERY = "data.steward.signoff.refusals"
"""The rule asked before a sign-off is recorded: the reasons it is refused (empty: may sign)."""
