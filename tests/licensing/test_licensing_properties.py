"""Properties of the lineage review (Hypothesis): fail closed, monotone, order-independent.

Graphs are random: every node hangs under an earlier one (so all are reachable), extra edges
may point anywhere (cycles included), and licences come from a pool that mixes permissive,
conditional, share-alike, no-derivatives, non-commercial, unknown and undeclared.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from modelsteward.licensing.review import LineageNode, Verdict, review_lineage

ROOT = "model:0"
LICENCES = [
    None,
    "MIT",
    "Apache-2.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-4.0",
    "GPL-3.0-only",
    "llama3.1",
    "gemma",
    "nvidia-open-model-license",
    "waymo",
    "other",
    "MIT OR CC-BY-NC-4.0",
    "WTFPL",
]
RANK = {
    Verdict.COMPATIBLE: 0,
    Verdict.COMPATIBLE_WITH_OBLIGATIONS: 1,
    Verdict.UNKNOWN: 2,
    Verdict.INCOMPATIBLE: 3,
}
uses = st.sampled_from(["commercial", "research", "internal"])
distributions = st.sampled_from(["none", "weights", "product"])
fields = st.sampled_from([None, "transportation", "medical-advice"])


@st.composite
def lineages(draw: st.DrawFn) -> dict[str, LineageNode]:
    size = draw(st.integers(1, 10))
    kinds = ["model"] + [draw(st.sampled_from(["model", "dataset"])) for _ in range(size - 1)]
    ids = [f"{kind}:{i}" for i, kind in enumerate(kinds)]
    edges: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    for i in range(1, size):
        edges[ids[draw(st.integers(0, i - 1))]].append((ids[i], "base-model"))
    for _ in range(draw(st.integers(0, 4))):
        edges[draw(st.sampled_from(ids))].append((draw(st.sampled_from(ids)), "merge"))
    return {
        i: LineageNode(
            i,
            i.split(":")[0],
            f"n{i.split(':')[1]}",
            draw(st.sampled_from(LICENCES)),
            registered=draw(st.booleans()) or i == ROOT,
            inputs=tuple(edges[i]),
        )
        for i in ids
    }


def _attach(nodes: dict[str, LineageNode], parent: str, new: LineageNode) -> dict[str, LineageNode]:
    grown = dict(nodes)
    grown[parent] = replace(nodes[parent], inputs=(*nodes[parent].inputs, (new.id, "run-dataset")))
    grown[new.id] = new
    return grown


@settings(max_examples=150, deadline=None)
@given(lineages(), st.data(), distributions, fields)
def test_an_nc_dataset_anywhere_makes_commercial_use_incompatible(
    nodes: dict[str, LineageNode], data: st.DataObject, distribution: str, field: str | None
) -> None:
    parent = data.draw(st.sampled_from(sorted(nodes)))
    grown = _attach(nodes, parent, LineageNode("dataset:nc", "dataset", "nc", "CC-BY-NC-4.0"))
    for use in ("commercial", "internal"):
        result = review_lineage(ROOT, grown, use=use, distribution=distribution, field=field)
        assert result.verdict is Verdict.INCOMPATIBLE


@settings(max_examples=150, deadline=None)
@given(lineages(), st.data(), uses, distributions, fields)
def test_adding_a_node_never_improves_the_verdict(
    nodes: dict[str, LineageNode],
    data: st.DataObject,
    use: str,
    distribution: str,
    field: str | None,
) -> None:
    before = review_lineage(ROOT, nodes, use=use, distribution=distribution, field=field)
    parent = data.draw(st.sampled_from(sorted(nodes)))
    kind = data.draw(st.sampled_from(["model", "dataset"]))
    new = LineageNode(f"{kind}:new", kind, "new", data.draw(st.sampled_from(LICENCES)))
    after = review_lineage(
        ROOT, _attach(nodes, parent, new), use=use, distribution=distribution, field=field
    )
    assert RANK[after.verdict] >= RANK[before.verdict]
    assert after.digest != before.digest


@settings(max_examples=100, deadline=None)
@given(lineages(), uses, distributions, fields, st.randoms(use_true_random=False))
def test_the_review_does_not_depend_on_node_or_edge_order(
    nodes: dict[str, LineageNode], use: str, distribution: str, field: str | None, rnd: object
) -> None:
    import random

    assert isinstance(rnd, random.Random)
    items = list(nodes.values())
    rnd.shuffle(items)
    shuffled = {n.id: replace(n, inputs=tuple(rnd.sample(n.inputs, len(n.inputs)))) for n in items}
    first = review_lineage(ROOT, nodes, use=use, distribution=distribution, field=field)
    second = review_lineage(ROOT, shuffled, use=use, distribution=distribution, field=field)
    assert first.digest == second.digest
    assert first.verdict is second.verdict
    assert set(first.reasons) == set(second.reasons)
    assert set(first.obligations) == set(second.obligations)


@settings(max_examples=100, deadline=None)
@given(lineages(), uses, distributions)
def test_a_passing_review_has_no_blocking_reason(
    nodes: dict[str, LineageNode], use: str, distribution: str
) -> None:
    result = review_lineage(ROOT, nodes, use=use, distribution=distribution)
    blocking = [r for r in result.reasons if r.level.value in ("incompatible", "unknown")]
    assert result.passed is (not blocking)
    assert result.node_count == len(nodes)
