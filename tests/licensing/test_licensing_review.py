"""Lineage licence review: the rules, read as rules."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from modelsteward.errors import InvalidInput
from modelsteward.licensing._synthetic import SYNTHETIC_ROOT, synthetic_lineage
from modelsteward.licensing.knowledge import KnowledgeBase
from modelsteward.licensing.review import (
    Distribution,
    Level,
    LicenseReview,
    LineageNode,
    Use,
    Verdict,
    review_lineage,
)

ROOT = "model:root"


def node(
    node_id: str,
    license: str | None,
    *inputs: str,
    kind: str | None = None,
    registered: bool = True,
    license_name: str | None = None,
) -> LineageNode:
    """A node whose label is its id without the prefix; inputs are ``id`` or ``id=relation``."""
    edges = tuple((i.split("=")[0], i.split("=")[1] if "=" in i else "base-model") for i in inputs)
    return LineageNode(
        id=node_id,
        kind=kind or node_id.split(":")[0],
        label=node_id.split(":")[1],
        license=license,
        license_name=license_name,
        registered=registered,
        inputs=edges,
    )


def lineage(*nodes: LineageNode) -> dict[str, LineageNode]:
    return {n.id: n for n in nodes}


def review(nodes: dict[str, LineageNode], use: str = "commercial", **kw: str) -> LicenseReview:
    return review_lineage(ROOT, nodes, use=use, **kw)


def levels(result: LicenseReview, label: str) -> set[Level]:
    return {r.level for r in result.reasons if r.label == label}


def fine_tune_on(dataset_license: str, root_license: str = "Apache-2.0") -> dict[str, LineageNode]:
    return lineage(
        node(ROOT, root_license, "model:base", "dataset:logs=run-dataset"),
        node("model:base", "Apache-2.0"),
        node("dataset:logs", dataset_license),
    )


# ------------------------------------------------------------------ use


def test_non_commercial_dataset_blocks_commercial_use() -> None:
    result = review(fine_tune_on("CC-BY-NC-4.0"))
    assert result.verdict is Verdict.INCOMPATIBLE
    assert not result.passed
    (reason,) = [r for r in result.reasons if r.level is Level.INCOMPATIBLE]
    assert reason.node == "dataset:logs"
    assert reason.normalized == "CC-BY-NC-4.0"
    assert "NonCommercial" in reason.clause
    assert reason.message.startswith("logs (dataset, CC-BY-NC-4.0):")


def test_internal_use_counts_as_commercial_under_nc_terms() -> None:
    result = review(fine_tune_on("CC-BY-NC-4.0"), use="internal")
    assert result.verdict is Verdict.INCOMPATIBLE
    assert any("internal business use" in r.message for r in result.reasons)


def test_research_use_of_non_commercial_and_research_only_data_passes() -> None:
    for licence in ("CC-BY-NC-4.0", "research-only", "waymo-open-dataset"):
        assert review(fine_tune_on(licence), use="research").passed, licence


def test_research_only_blocks_commercial_use() -> None:
    result = review(fine_tune_on("nvidia-noncommercial"))
    assert Level.INCOMPATIBLE in levels(result, "logs")


def test_permissive_lineage_for_internal_use_is_compatible() -> None:
    result = review(fine_tune_on("CC-BY-4.0", root_license="MIT"), use="internal")
    assert result.verdict is Verdict.COMPATIBLE
    assert result.passed
    assert result.reasons == ()
    assert result.obligations == ()


def test_conditional_commercial_use_is_an_obligation_citing_the_clause() -> None:
    nodes = lineage(node(ROOT, "llama3.1"))
    result = review(nodes)
    assert result.verdict is Verdict.COMPATIBLE_WITH_OBLIGATIONS
    assert any("700 million monthly active users" in r.clause for r in result.reasons)
    assert any("700 million" in line for line in result.obligations)


# ------------------------------------------------------------------ unknown fails closed


@pytest.mark.parametrize(
    ("licence", "name", "says"),
    [
        (None, None, "licence not declared"),
        ("   ", None, "licence not declared"),
        ("other", None, "'other' without a licence name"),
        ("other", "Acme Secret Model Terms", "not in the licence knowledge base"),
        ("unknown", None, "unknown"),
        ("WTFPL", None, "WTFPL is not in the licence knowledge base"),
        ("Foo-1.0", None, "unknown licence key(s) 'Foo-1.0'"),
        ("MIT OR", None, "malformed"),
        ("openrail", None, "unknown"),
    ],
)
def test_unknown_licence_is_unknown_and_blocks(
    licence: str | None, name: str | None, says: str
) -> None:
    nodes = lineage(node(ROOT, "MIT", "dataset:d"), node("dataset:d", licence, license_name=name))
    for use in ("commercial", "research", "internal"):
        result = review(nodes, use=use)
        assert result.verdict is Verdict.UNKNOWN
        assert not result.passed
        assert any(says in r.message for r in result.reasons if r.label == "d"), use


def test_other_with_a_known_license_name_is_looked_up() -> None:
    nodes = lineage(
        node(ROOT, "other", license_name="NVIDIA Open Model License Agreement"),
    )
    result = review(nodes, distribution="weights")
    assert result.passed
    assert {r.normalized for r in result.reasons} == {"nvidia-open-model-license"}
    assert any("Guardrail" in line for line in result.obligations)


def test_unregistered_base_model_is_unknown() -> None:
    nodes = lineage(
        node(ROOT, "Apache-2.0", "declared-model:acme/base"),
        node("declared-model:acme/base", "Apache-2.0", kind="model", registered=False),
    )
    result = review(nodes, use="research")
    assert result.verdict is Verdict.UNKNOWN
    (reason,) = [r for r in result.reasons if r.level is Level.UNKNOWN]
    assert "not registered in Steward: cannot be traced to approved inputs" in reason.message


def test_input_missing_from_the_graph_is_unknown() -> None:
    result = review(lineage(node(ROOT, "MIT", "model:ghost")), use="research")
    assert result.verdict is Verdict.UNKNOWN
    assert any("'model:ghost' (base-model) is missing" in r.message for r in result.reasons)


def test_unknown_entry_is_unknown_for_every_use_and_distribution() -> None:
    nodes = lineage(node(ROOT, "other", license_name="acme-terms"))
    for use in Use:
        for distribution in Distribution:
            result = review(nodes, use=use.value, distribution=distribution.value)
            assert result.verdict is Verdict.UNKNOWN, (use, distribution)


def test_incompatible_outranks_unknown() -> None:
    nodes = fine_tune_on("CC-BY-NC-4.0")
    nodes["model:base"] = node("model:base", None)
    assert review(nodes).verdict is Verdict.INCOMPATIBLE


# ------------------------------------------------------------------ expressions


def test_or_expression_takes_the_most_permissive_alternative() -> None:
    result = review(fine_tune_on("CC-BY-NC-4.0 OR MIT"))
    assert result.verdict is not Verdict.INCOMPATIBLE
    assert result.notes == ("logs: took MIT of 'CC-BY-NC-4.0 OR MIT' (licensee's choice)",)
    assert review(fine_tune_on("CC-BY-NC-4.0 OR MIT"), use="internal").passed


def test_or_prefers_known_terms_over_unknown_ones() -> None:
    result = review(fine_tune_on("WTFPL OR CC-BY-4.0"), distribution="weights")
    assert result.passed
    logs = [r for r in result.reasons if r.label == "logs"]
    assert logs
    assert all("took CC-BY-4.0" in r.message for r in logs)


def test_and_expression_applies_both() -> None:
    assert review(fine_tune_on("MIT AND CC-BY-NC-4.0")).verdict is Verdict.INCOMPATIBLE


def test_with_exception_is_read_as_the_base_licence() -> None:
    nodes = lineage(node(ROOT, "GPL-2.0-or-later WITH Classpath-exception-2.0"))
    result = review(nodes, distribution="weights")
    assert result.passed
    assert any("Classpath-exception-2.0" in n for n in result.notes)


# ------------------------------------------------------------------ field of use


def test_llama_field_of_use_blocks_transportation() -> None:
    nodes = lineage(node(ROOT, "Apache-2.0", "model:llama"), node("model:llama", "llama3.1"))
    for field in ("transportation", "autonomous-driving", "ADAS"):
        result = review(nodes, field=field)
        assert result.verdict is Verdict.INCOMPATIBLE
        assert result.field == "transportation"
        (reason,) = [r for r in result.reasons if r.level is Level.INCOMPATIBLE]
        assert "transportation technologies" in reason.clause
        assert reason.label == "llama"
        assert "forbids use for transportation" in reason.message


def test_field_restrictions_are_obligations_without_a_matching_field() -> None:
    nodes = lineage(node(ROOT, "llama3.2"))
    for field in (None, "medical-advice"):
        result = review_lineage(ROOT, nodes, use="research", field=field)
        assert result.passed
        assert any("must not be used for: military" in line for line in result.obligations)


def test_openrail_m_field_restriction_blocks_medical_advice() -> None:
    nodes = lineage(node(ROOT, "creativeml-openrail-m"))
    assert review(nodes, field="medical").verdict is Verdict.INCOMPATIBLE


# ------------------------------------------------------------------ distribution


def test_share_alike_conflict_when_distributing() -> None:
    nodes = lineage(
        node(ROOT, "CC-BY-SA-4.0", "dataset:a=run-dataset", "dataset:b=run-dataset"),
        node("dataset:a", "CC-BY-SA-4.0"),
        node("dataset:b", "CC-BY-NC-SA-4.0"),
    )
    result = review(nodes, use="research", distribution="weights")
    assert result.verdict is Verdict.INCOMPATIBLE
    (conflict,) = [r for r in result.reasons if r.level is Level.INCOMPATIBLE]
    assert conflict.node == ROOT
    assert "share-alike conflict" in conflict.message
    assert "CC-BY-SA-4.0 (from" in conflict.message
    assert "CC-BY-NC-SA-4.0 (from b)" in conflict.message
    assert review(nodes, use="research").passed  # nothing distributed, nothing propagates


def test_share_alike_is_an_obligation_when_the_root_complies() -> None:
    result = review(
        fine_tune_on("CC-BY-SA-4.0", root_license="CC-BY-SA-4.0"), distribution="weights"
    )
    assert result.verdict is Verdict.COMPATIBLE_WITH_OBLIGATIONS
    assert any(
        line.startswith("derived weights must be released under CC-BY-SA-4.0")
        for line in result.obligations
    )


def test_share_alike_into_a_differently_licensed_root_is_incompatible() -> None:
    result = review(fine_tune_on("CC-BY-SA-4.0"), distribution="product")
    (reason,) = [r for r in result.reasons if r.level is Level.INCOMPATIBLE]
    assert reason.node == ROOT
    assert "declared Apache-2.0" in reason.message


def test_cc_by_sa_and_gplv3_meet_under_gplv3() -> None:
    nodes = fine_tune_on("CC-BY-SA-4.0", root_license="GPL-3.0-only")
    assert review(nodes, distribution="weights").passed


def test_data_scoped_share_alike_does_not_reach_a_trained_model() -> None:
    result = review(fine_tune_on("ODbL-1.0"), distribution="weights")
    assert result.passed
    assert not any("must be released under ODbL" in line for line in result.obligations)


def test_no_derivatives_ancestor_blocks_distribution() -> None:
    result = review(fine_tune_on("CC-BY-ND-4.0"), distribution="weights")
    assert result.verdict is Verdict.INCOMPATIBLE
    assert any("Share, Adapted Material" in r.clause for r in result.reasons)


def test_no_derivatives_allows_undistributed_internal_adaptation() -> None:
    result = review(fine_tune_on("CC-BY-ND-4.0"), use="internal")
    assert result.verdict is Verdict.COMPATIBLE_WITH_OBLIGATIONS
    assert any("adaptations must stay internal" in r.message for r in result.reasons)


def test_no_derivatives_root_may_be_shared_unmodified_unless_it_is_a_fine_tune() -> None:
    alone = lineage(
        node(ROOT, "CC-BY-ND-4.0", "dataset:d=card-dataset"), node("dataset:d", "CC0-1.0")
    )
    assert review(alone, distribution="weights").passed
    tuned = lineage(node(ROOT, "CC-BY-ND-4.0", "model:base"), node("model:base", "MIT"))
    assert review(tuned, distribution="weights").verdict is Verdict.INCOMPATIBLE


def test_redistribution_prohibited_blocks_a_shipped_model_not_a_training_set() -> None:
    shipped = lineage(node(ROOT, "MIT", "model:base"), node("model:base", "waymo"))
    blocked = review(shipped, use="research", distribution="weights")
    assert any("prohibits redistribution" in r.message for r in blocked.reasons)
    trained = review(fine_tune_on("waymo"), use="research", distribution="weights")
    assert trained.passed
    assert any("do not ship it" in r.message for r in trained.reasons)


def test_unknown_redistribution_terms_block_distribution_only() -> None:
    nodes = lineage(node(ROOT, "nvidia-noncommercial"))
    assert review(nodes, use="research").passed
    assert review(nodes, use="research", distribution="weights").verdict is Verdict.UNKNOWN


def test_attribution_is_an_obligation_only_when_distributing() -> None:
    nodes = fine_tune_on("CC-BY-4.0", root_license="MIT")
    assert review(nodes).verdict is Verdict.COMPATIBLE
    shared = review(nodes, distribution="product")
    assert shared.verdict is Verdict.COMPATIBLE_WITH_OBLIGATIONS
    assert any("§3(a)" in line for line in shared.obligations)


def test_use_restrictions_are_passed_downstream() -> None:
    result = review(lineage(node(ROOT, "gemma")), distribution="weights")
    assert any(
        line.startswith("Gemma Terms of Use: pass on use restrictions")
        for line in result.obligations
    )


def test_obligations_are_deduplicated() -> None:
    nodes = lineage(
        node(ROOT, "llama3.1", "model:a", "model:b"),
        node("model:a", "llama3.1"),
        node("model:b", "llama3.1"),
    )
    result = review(nodes, distribution="weights")
    assert len(result.obligations) == len(set(result.obligations))
    assert len([r for r in result.reasons if "700 million" in r.clause]) == 3


# ------------------------------------------------------------------ graph and digest


def test_cycle_is_reviewed_once() -> None:
    nodes = lineage(
        node(ROOT, "MIT", "model:a"),
        node("model:a", "MIT", "model:b"),
        node("model:b", "CC-BY-NC-4.0", ROOT),
    )
    result = review(nodes)
    assert result.node_count == 3
    assert [r.label for r in result.reasons if r.level is Level.INCOMPATIBLE] == ["b"]


def test_deep_chain_is_walked_without_recursion() -> None:
    depth = 5000
    nodes = {ROOT: node(ROOT, "MIT", "model:1")}
    for i in range(1, depth):
        nodes[f"model:{i}"] = node(f"model:{i}", "Apache-2.0", f"model:{i + 1}")
    nodes[f"model:{depth}"] = node(f"model:{depth}", "CC-BY-NC-4.0")
    result = review(nodes)
    assert result.node_count == depth + 1
    assert result.verdict is Verdict.INCOMPATIBLE


def test_unreachable_nodes_are_ignored() -> None:
    nodes = fine_tune_on("MIT")
    extra = {**nodes, "dataset:elsewhere": node("dataset:elsewhere", "CC-BY-NC-4.0")}
    assert review(extra).verdict is review(nodes).verdict
    assert review(extra).digest == review(nodes).digest


def test_review_digest_is_stable_across_calls_and_node_order() -> None:
    nodes = fine_tune_on("CC-BY-4.0 OR MIT")
    first = review(nodes, distribution="weights", field="transportation")
    again = review(nodes, distribution="weights", field="transportation")
    reordered = dict(reversed(list(nodes.items())))
    root = nodes[ROOT]
    reordered[ROOT] = LineageNode(
        root.id, root.kind, root.label, root.license, inputs=root.inputs[::-1]
    )
    shuffled = review(reordered, distribution="weights", field="transportation")
    assert first.digest == again.digest == shuffled.digest
    assert first.digest.startswith("sha256:")
    assert len(first.digest) == 71


def test_review_digest_changes_when_lineage_changes() -> None:
    nodes = fine_tune_on("CC-BY-4.0")
    base = review(nodes).digest
    relicensed = {**nodes, "dataset:logs": node("dataset:logs", "CC0-1.0")}
    extra_input = {
        **nodes,
        "model:base": node("model:base", "Apache-2.0", "dataset:new=run-dataset"),
        "dataset:new": node("dataset:new", "CC0-1.0"),
    }
    unregistered = {**nodes, "model:base": node("model:base", "Apache-2.0", registered=False)}
    relation = {
        **nodes,
        ROOT: node(ROOT, "Apache-2.0", "model:base=merge", "dataset:logs=run-dataset"),
    }
    changed = [relicensed, extra_input, unregistered, relation]
    digests = {base, *(review(n).digest for n in changed)}
    assert len(digests) == 1 + len(changed)
    for option in ({"use": "research"}, {"distribution": "weights"}, {"field": "transportation"}):
        assert review_lineage(ROOT, nodes, **{"use": "commercial", **option}).digest != base


def test_review_digest_binds_the_knowledge_base() -> None:
    data = (
        resources.files("modelsteward.licensing").joinpath("knowledge/licenses.yaml").read_bytes()
    )
    other = KnowledgeBase.from_bytes(data + b"\n# a comment changes the digest\n")
    nodes = fine_tune_on("CC-BY-4.0")
    assert review_lineage(ROOT, nodes, use="commercial", kb=other).digest != review(nodes).digest


def test_to_dict_is_json_safe_and_complete() -> None:
    result = review(fine_tune_on("CC-BY-NC-4.0"), distribution="weights")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "incompatible"
    assert data["passed"] is False
    assert data["node_count"] == 3
    assert [n["id"] for n in data["nodes"]] == sorted(n["id"] for n in data["nodes"])
    assert data["kb_version"] == KnowledgeBase.default().version
    assert {"node", "label", "kind", "license", "normalized", "level", "clause", "message"} <= set(
        data["reasons"][0]
    )


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"use": "fun"}, "unknown use 'fun'"),
        ({"use": "commercial", "distribution": "torrent"}, "unknown distribution 'torrent'"),
        ({"use": "commercial", "field": "underwater"}, "unknown field of use 'underwater'"),
    ],
)
def test_invalid_options_are_invalid_input(kwargs: dict[str, str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        review_lineage(ROOT, fine_tune_on("MIT"), **kwargs)  # type: ignore[arg-type]


def test_malformed_graphs_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="not among"):
        review_lineage("model:nope", fine_tune_on("MIT"), use="research")
    with pytest.raises(InvalidInput, match="filed under"):
        review_lineage(ROOT, {ROOT: node("model:other", "MIT")}, use="research")
    with pytest.raises(InvalidInput, match="kind 'code'"):
        review_lineage(ROOT, {ROOT: node(ROOT, "MIT", kind="code")}, use="research")


def test_synthetic_lineage_is_deterministic_reachable_and_non_commercial() -> None:
    nodes = synthetic_lineage(300, seed=3)
    assert nodes == synthetic_lineage(300, seed=3)
    result = review_lineage(SYNTHETIC_ROOT, nodes, use="commercial", distribution="weights")
    assert result.node_count == 300
    assert result.verdict is Verdict.INCOMPATIBLE
    assert review_lineage(SYNTHETIC_ROOT, nodes, use="research").passed
