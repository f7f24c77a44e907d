"""The policy engine seam: real rego-cpp, real Rego, failing closed."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from modelsteward.errors import InvalidInput, PolicyDenied
from modelsteward.policy import PolicyBundle, PolicyEngine, RegoCppEngine

ECHO = """package t
import rego.v1

echo := input.value
big := input.n > 10
label := sprintf("%s is %d", [input.name, input.n])
"""


def bundle_of(*modules: tuple[str, str], data: dict[str, Any] | None = None) -> PolicyBundle:
    return PolicyBundle("test-pack", "0.1.0", "", tuple(modules), data or {})


@pytest.fixture
def engine() -> RegoCppEngine:
    return RegoCppEngine()


def test_engine_names_itself_for_the_decision_record(engine: RegoCppEngine) -> None:
    seam: PolicyEngine = engine
    assert seam.name == "rego-cpp"
    assert seam.version == "1.5.2"


def test_a_false_value_is_false_not_undefined(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    assert engine.evaluate(bundle, "data.t.big", {"n": 3}) is False
    assert engine.evaluate(bundle, "data.t.big", {"n": 30}) is True


def test_the_cached_plan_gives_independent_results_for_different_inputs(
    engine: RegoCppEngine,
) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    first = engine.evaluate(bundle, "data.t.label", {"name": "a", "n": 1})
    second = engine.evaluate(bundle, "data.t.label", {"name": "b", "n": 2})
    again = engine.evaluate(bundle, "data.t.label", {"name": "a", "n": 1})
    assert (first, second, again) == ("a is 1", "b is 2", "a is 1")


def test_concurrent_evaluations_each_see_their_own_input(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))

    def echo(n: int) -> Any:
        return engine.evaluate(bundle, "data.t.echo", {"value": n})

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(echo, range(40))) == list(range(40))


@pytest.mark.parametrize(
    "value",
    [
        'quote " backslash \\ newline \n tab \t',
        "non-ASCII: é ☃ 漢字",
        1.5e-7,
        0.123456789,
        2**53 - 1,
        -0.5,
        None,
        {"nested": [True, False, {"k": "v"}]},
    ],
    ids=[
        "escapes",
        "unicode",
        "tiny-float",
        "precise-float",
        "big-int",
        "negative",
        "null",
        "nested",
    ],
)
def test_input_values_come_back_exactly(engine: RegoCppEngine, value: Any) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    assert engine.evaluate(bundle, "data.t.echo", {"value": value}) == value


def test_strings_built_by_the_policy_are_valid_json(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    label = engine.evaluate(bundle, "data.t.label", {"name": 'the "NC" clause', "n": 2})
    assert label == 'the "NC" clause is 2'


def test_data_document_is_visible_to_the_policy(engine: RegoCppEngine) -> None:
    source = "package t\nimport rego.v1\nlimit := data.limits[input.tier]\n"
    bundle = bundle_of(("t.rego", source), data={"limits": {"pilot": 0.2}})
    assert engine.evaluate(bundle, "data.t.limit", {"tier": "pilot"}) == 0.2


def test_an_undefined_result_is_a_denial(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    with pytest.raises(PolicyDenied, match=r"policy engine error: data\.t\.echo is undefined"):
        engine.evaluate(bundle, "data.t.echo", {})


def test_an_unknown_rule_is_a_denial(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    with pytest.raises(PolicyDenied, match="policy engine error"):
        engine.evaluate(bundle, "data.t.nothing_here", {"n": 1})


def test_a_policy_that_does_not_parse_names_the_file_and_line(engine: RegoCppEngine) -> None:
    broken = "package t\nimport rego.v1\n\nallow if {\n  input.a ==\n}\n"
    bundle = bundle_of(("ok.rego", ECHO), ("broken.rego", broken))
    with pytest.raises(InvalidInput, match=r"broken\.rego line 5 column 11: Invalid boolean"):
        engine.evaluate(bundle, "data.t.echo", {"value": 1})


def test_an_unknown_function_is_a_denial_naming_it(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", "package t\nimport rego.v1\nx := nope(1)\n"))
    with pytest.raises(PolicyDenied, match="Function not found: nope"):
        engine.evaluate(bundle, "data.t.x", {})


def test_conflicting_rule_values_are_a_denial(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", "package t\nimport rego.v1\nx := 1\nx := 2\n"))
    with pytest.raises(PolicyDenied, match=r"policy engine error: data\.t\.x failed"):
        engine.evaluate(bundle, "data.t.x", {})


def test_a_query_must_be_a_rule_path(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    with pytest.raises(InvalidInput, match="is not a rule path"):
        engine.evaluate(bundle, "data.t.echo; x := 1", {})


def test_an_input_that_is_not_json_is_refused(engine: RegoCppEngine) -> None:
    bundle = bundle_of(("t.rego", ECHO))
    with pytest.raises(InvalidInput, match="the policy input is not JSON"):
        engine.evaluate(bundle, "data.t.echo", {"value": math.nan})


def test_whole_input_mocks_are_refused_before_they_reach_the_engine(
    engine: RegoCppEngine,
) -> None:
    test = (
        "package t_test\nimport rego.v1\nbase := {}\n"
        "test_x if {\n  data.t.echo with input as base\n}\n"
    )
    bundle = bundle_of(("t.rego", ECHO), ("t_test.rego", test))
    with pytest.raises(
        InvalidInput, match=r"t_test\.rego line 5: `with input as …` is not supported"
    ):
        engine.run_tests(bundle)


def test_test_modules_are_not_loaded_to_evaluate(engine: RegoCppEngine) -> None:
    failing_test = "package t_test\nimport rego.v1\ntest_conflict := 1\ntest_conflict := 2\n"
    bundle = bundle_of(("t.rego", ECHO), ("t_test.rego", failing_test))
    assert engine.evaluate(bundle, "data.t.echo", {"value": 7}) == 7


def test_run_tests_passes_only_rules_that_are_exactly_true(engine: RegoCppEngine) -> None:
    tests = """package t_test
import rego.v1

test_true if {
    data.t.label == "x is 1" with input.name as "x" with input.n as 1
}
test_false := false
test_number := 1
test_undefined if 1 == 2
test_error := nope(1)
"""
    results = engine.run_tests(bundle_of(("t.rego", ECHO), ("t_test.rego", tests)))
    outcome = {r.name: (r.passed, r.error) for r in results}
    assert outcome["test_true"] == (True, None)
    assert outcome["test_false"] == (False, "the rule is false, not true")
    assert outcome["test_number"] == (False, "the rule is 1, not true")
    assert outcome["test_undefined"][0] is False
    assert "is undefined" in str(outcome["test_undefined"][1])
    assert outcome["test_error"][0] is False
    assert "Function not found: nope" in str(outcome["test_error"][1])
    assert [r.rule for r in results][0].startswith("data.t_test.test_")


def test_run_tests_of_a_pack_without_tests_is_empty(engine: RegoCppEngine) -> None:
    assert engine.run_tests(bundle_of(("t.rego", ECHO))) == []
