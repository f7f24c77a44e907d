"""The default pack's own Rego tests: one pytest case per ``test_*`` rule, named after it."""

from __future__ import annotations

from functools import cache

import pytest

from modelsteward.policy import PolicyBundle, RegoCppEngine, RegoTestResult
from modelsteward.policy._regocpp import find_test_rules

_RULES = find_test_rules(PolicyBundle.default())


@cache
def _results() -> dict[str, RegoTestResult]:
    """Every Rego test of the pack, run once (one compiled plan for all of them)."""
    results = RegoCppEngine().run_tests(PolicyBundle.default())
    return {result.rule: result for result in results}


def test_the_default_pack_has_rego_tests_for_gate_and_signoff() -> None:
    packages = {package for package, _ in _RULES}
    assert packages == {"steward.gate_test", "steward.signoff_test"}
    assert len(_RULES) >= 60


@pytest.mark.parametrize(("package", "rule"), _RULES, ids=[f"{p}.{r}" for p, r in _RULES])
def test_rego_rule_passes(package: str, rule: str) -> None:
    result = _results()[f"data.{package}.{rule}"]
    assert result.passed, f"Rego test data.{package}.{rule} failed: {result.error}"
