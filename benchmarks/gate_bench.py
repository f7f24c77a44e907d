"""`python benchmarks/gate_bench.py`: the runtime-gate figures of issue 6, on this machine.

Per-decision latency of `SafetyGate.decide` (p50/p99/p99.9) with 1, 10 and 50 surrounding
objects, for discrete actions and for trajectories; ad-rss's per-check latency on the same
scenes as the peer figure (measured in the same run); the vectorised longitudinal replay
throughput (goal ≥ 1,000,000 decisions/s) and the full counterfactual replay throughput. The
same figures as `steward gate bench`; the last line is one JSON object. Other processes skew
latency tails: the load average is printed with them. STEWARD_BENCH_CYCLES sets decisions per
figure (default 20,000).
"""

from __future__ import annotations

import json
import os

from rich.console import Console

from modelsteward.cli.gate_runtime import print_bench
from modelsteward.gate_bench import run_gate_bench


def main() -> None:
    console = Console()
    cycles = int(os.environ.get("STEWARD_BENCH_CYCLES", "20000"))
    result = run_gate_bench(cycles=cycles, on_stage=lambda name: console.print(f"… {name}"))
    print_bench(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
