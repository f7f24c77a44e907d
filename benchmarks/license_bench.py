"""`python benchmarks/license_bench.py`: the lineage licence review on a synthetic lineage.

What is measured: `review_lineage` alone — the pure engine, no database, no lineage assembly — on
the lineage `synthetic_lineage(n, seed)` builds (a third models on a tree of base models plus a
few merges, the rest datasets; mixed licences including OR expressions, Llama, Gemma, NVIDIA and
OpenRAIL; one CC-BY-NC-4.0 dataset under the deepest model). The review asked is commercial use
with the weights distributed, which exercises every rule and ends `incompatible`.

Two figures:
1. cold: the first review on a freshly loaded knowledge base (YAML parsing excluded; includes
   building the licence-expression parser and parsing every distinct expression once);
2. warm: the median (and p95) of STEWARD_BENCH_RUNS reviews of the same lineage. The parser memo
   is warm, the per-review evaluation memo is rebuilt on every call, as in the service.
Goal: warm <= 50 ms for 1,000 nodes (ceiling 1 s).

The last line is one JSON object with the figures, for tracking over time.

Environment: STEWARD_BENCH_NODES (default 1000), STEWARD_BENCH_RUNS (default 50),
STEWARD_BENCH_SEED (default 0).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from importlib import resources
from typing import Any

from modelsteward.licensing._synthetic import SYNTHETIC_ROOT, synthetic_lineage
from modelsteward.licensing.knowledge import KnowledgeBase
from modelsteward.licensing.review import LineageNode, review_lineage

NODES = int(os.environ.get("STEWARD_BENCH_NODES", "1000"))
RUNS = int(os.environ.get("STEWARD_BENCH_RUNS", "50"))
SEED = int(os.environ.get("STEWARD_BENCH_SEED", "0"))


def fresh_kb() -> KnowledgeBase:
    """The packaged knowledge base, loaded anew (no parser, no memo)."""
    data = resources.files("modelsteward.licensing").joinpath("knowledge/licenses.yaml")
    return KnowledgeBase.from_bytes(data.read_bytes())


def time_review(nodes: dict[str, LineageNode], kb: KnowledgeBase) -> float:
    """Milliseconds for one commercial, weights-distributed review."""
    start = time.perf_counter()
    review_lineage(SYNTHETIC_ROOT, nodes, use="commercial", distribution="weights", kb=kb)
    return (time.perf_counter() - start) * 1000


def review_figures(n: int, runs: int, seed: int) -> dict[str, Any]:
    """Cold and warm timings of the pure review engine on an ``n``-node lineage."""
    nodes = synthetic_lineage(n, seed)
    kb = fresh_kb()
    cold = time_review(nodes, kb)
    warm = sorted(time_review(nodes, kb) for _ in range(runs))
    result = review_lineage(SYNTHETIC_ROOT, nodes, use="commercial", distribution="weights", kb=kb)
    return {
        "benchmark": "license-review",
        "nodes": result.node_count,
        "distinct_licences": len({node.license for node in nodes.values()}),
        "reasons": len(result.reasons),
        "verdict": result.verdict.value,
        "cold_ms": round(cold, 2),
        "warm_median_ms": round(statistics.median(warm), 2),
        "warm_p95_ms": round(warm[min(len(warm) - 1, int(len(warm) * 0.95))], 2),
        "runs": runs,
        "kb_version": kb.version,
    }


def main() -> None:
    figures = review_figures(NODES, RUNS, SEED)
    print(
        f"licence review: {figures['nodes']:,}-node synthetic lineage, "
        f"{figures['distinct_licences']} distinct licences, verdict {figures['verdict']} "
        f"({figures['reasons']:,} reasons), KB {figures['kb_version']}"
    )
    print(f"  cold (fresh KB, parser built)  {figures['cold_ms']:8.2f} ms")
    print(
        f"  warm median of {figures['runs']:<4}          {figures['warm_median_ms']:8.2f} ms  "
        f"p95 {figures['warm_p95_ms']:.2f} ms  (goal <= 50 ms, ceiling 1 s)"
    )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
