"""`python benchmarks/eval_bench.py`: the scenario-evaluation figures of issue 5, on this machine.

1. Building the reference driving stack (`steward examples driving`): ODD, 24 scenarios, and
   both policies trained locally — teacher demonstrations and DAgger rounds collected on two
   worker processes, networks trained in NumPy, exported to ONNX and checked against NumPy.
   The figure is the wall time of data collection plus training (goal: under two minutes on
   two cores), then the whole build.
2. The whole reference suite — every scenario × repetition, 73 closed-loop highway-env
   episodes — driven by the competent policy's ONNX graph, once in this process (1 worker) and
   once on 2 worker processes; wall times, the speed-up (goal ≥ 1.7×) and simulation steps per
   second. Both runs must produce identical episodes (latencies aside).
3. The narrow policy on the same suite, and pass counts of both against each scenario's
   criteria — what a baseline comparison would see.
4. End to end through Steward, as `steward eval baseline` and `steward eval run --against` do
   it: a fresh workspace, both models registered, the competent one evaluated on the whole
   library (closed loop and logged replay, 2 workers, digest check, report stored) and locked
   as baseline, the narrow one evaluated against it; wall times and critical regressions.

Other processes on the machine skew wall times; the load average is printed next to them.
The last line is one JSON object with every figure. Environment: STEWARD_BENCH_DIR (where the
stack is built; default a temporary folder), STEWARD_BENCH_EPISODES (competent episode budget,
default 140), STEWARD_BENCH_SEED (default 0).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from modelsteward.evaluation.closed_loop import (
    EpisodeJob,
    EpisodeResult,
    criteria_passed,
    evaluate_criteria,
    run_episodes,
)
from modelsteward.evaluation.policies import ModelFolderSpec
from modelsteward.evaluation.reference import (
    DEFAULT_EPISODES,
    ReferenceStack,
    build_reference_stack,
    scenario_jobs,
)

EPISODES = int(os.environ.get("STEWARD_BENCH_EPISODES", str(DEFAULT_EPISODES)))
SEED = int(os.environ.get("STEWARD_BENCH_SEED", "0"))


def load() -> str:
    """The 1-minute load average, to read wall times against."""
    return f"load {os.getloadavg()[0]:.2f}"


def build(root: Path) -> tuple[ReferenceStack, float]:
    started = time.perf_counter()
    stack = build_reference_stack(
        root, seed=SEED, episodes=EPISODES, progress=lambda line: print(f"  {line}", flush=True)
    )
    total = time.perf_counter() - started
    print(
        f"reference stack: {stack.scenario_count} scenarios, {stack.samples} competent samples; "
        f"collection + training {stack.training_seconds:.1f} s (goal < 120 s), whole build "
        f"{total:.1f} s ({load()})"
    )
    print(
        f"  held-out accuracy on teacher labels: competent {stack.competent_accuracy:.3f}, "
        f"narrow {stack.narrow_accuracy:.3f}"
    )
    return stack, total


def timed(jobs: Sequence[EpisodeJob], workers: int) -> tuple[list[EpisodeResult], float]:
    started = time.perf_counter()
    results = run_episodes(jobs, workers)
    return results, time.perf_counter() - started


def passes(
    stack: ReferenceStack, jobs: Sequence[EpisodeJob], results: Sequence[EpisodeResult]
) -> dict[str, tuple[int, int]]:
    criteria = {}
    for path in stack.scenarios.glob("*.yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        criteria[document["id"]] = (document["criteria"], document["hazard"]["severity"])
    table: dict[str, tuple[int, int]] = {}
    for job, result in zip(jobs, results, strict=True):
        scenario = job.label.split("#")[0]
        passed, runs = table.get(scenario, (0, 0))
        ok = criteria_passed(evaluate_criteria(result, criteria[scenario][0]))
        table[scenario] = (passed + ok, runs + 1)
    return table


def suite(stack: ReferenceStack) -> dict[str, object]:
    competent = scenario_jobs(stack.scenarios, ModelFolderSpec(str(stack.competent)))
    one, one_s = timed(competent, 1)
    two, two_s = timed(competent, 2)
    same = [dataclasses.replace(r, latencies_ns=()) for r in one] == [
        dataclasses.replace(r, latencies_ns=()) for r in two
    ]
    steps = sum(r.steps for r in one)
    print(f"reference suite, competent policy: {len(competent)} episodes, {steps} decision steps")
    print(f"  1 worker   {one_s:6.1f} s   {steps / one_s:6.0f} steps/s  ({load()})")
    print(f"  2 workers  {two_s:6.1f} s   {steps / two_s:6.0f} steps/s  ({load()})")
    print(f"  speed-up {one_s / two_s:.2f}x (goal >= 1.7x); identical episodes: {same}")
    narrow_jobs = scenario_jobs(stack.scenarios, ModelFolderSpec(str(stack.narrow)))
    narrow, narrow_s = timed(narrow_jobs, 2)
    good, weak = passes(stack, competent, one), passes(stack, narrow_jobs, narrow)
    print(f"pass counts against each scenario's criteria (narrow run: {narrow_s:.1f} s)")
    for scenario in sorted(good):
        print(f"  {scenario:36s} competent {good[scenario][0]}/{good[scenario][1]}   "
              f"narrow {weak[scenario][0]}/{weak[scenario][1]}")  # fmt: skip
    latencies = sorted(latency for r in one for latency in r.latencies_ns)
    return {
        "episodes": len(competent),
        "steps": steps,
        "suite_1_worker_s": round(one_s, 2),
        "suite_2_workers_s": round(two_s, 2),
        "speedup": round(one_s / two_s, 2),
        "steps_per_s_1_worker": round(steps / one_s, 1),
        "steps_per_s_2_workers": round(steps / two_s, 1),
        "identical_episodes": same,
        "policy_latency_p50_us": round(latencies[len(latencies) // 2] / 1000, 1),
        "policy_latency_p99_us": round(latencies[int(len(latencies) * 0.99)] / 1000, 1),
        "competent_passed": sum(p for p, _ in good.values()),
        "narrow_passed": sum(p for p, _ in weak.values()),
        "competent_collisions": sum(r.collision for r in one),
        "narrow_collisions": sum(r.collision for r in narrow),
    }


def end_to_end(stack: ReferenceStack, home: Path) -> dict[str, object]:
    from modelsteward.bootstrap import init_workspace
    from modelsteward.config import Settings
    from modelsteward.services.intake import IntakeRequest

    app = init_workspace(Settings(home=home))
    try:
        for name, folder in (("competent", stack.competent), ("narrow", stack.narrow)):
            app.models.add(IntakeRequest(path=folder, name=f"reference/{name}-policy"))
        started = time.perf_counter()
        good = app.evaluations.run(
            "reference/competent-policy@1", stack.scenarios, odd=stack.odd, workers=2
        )
        good_s = time.perf_counter() - started
        app.evaluations.lock_baseline(good, "highway-pilot")
        started = time.perf_counter()
        weak = app.evaluations.run(
            "reference/narrow-policy@1",
            stack.scenarios,
            odd=stack.odd,
            workers=2,
            against="highway-pilot",
        )
        weak_s = time.perf_counter() - started
    finally:
        app.close()
    critical = len(weak.regressions.critical) if weak.regressions else 0
    print(
        f"end to end (eval run, {good.report.totals.scenarios} scenarios incl. replay, 2 workers): "
        f"competent {good_s:.1f} s, {good.report.totals.passed} passed; narrow {weak_s:.1f} s, "
        f"{weak.report.totals.passed} passed, {critical} critical regressions ({load()})"
    )
    return {
        "eval_run_competent_s": round(good_s, 2),
        "eval_run_narrow_s": round(weak_s, 2),
        "eval_competent_scenarios_passed": good.report.totals.passed,
        "eval_narrow_scenarios_passed": weak.report.totals.passed,
        "eval_scenarios": good.report.totals.scenarios,
        "critical_regressions": critical,
    }


def main() -> None:
    base = os.environ.get("STEWARD_BENCH_DIR")
    with tempfile.TemporaryDirectory(dir=base) as folder:
        stack, build_s = build(Path(folder) / "driving")
        figures = suite(stack)
        figures.update(end_to_end(stack, Path(folder) / "workspace"))
    print(json.dumps({
        "bench": "eval",
        "training_s": round(stack.training_seconds, 2),
        "build_s": round(build_s, 2),
        "samples": stack.samples,
        "competent_held_out_accuracy": round(stack.competent_accuracy, 4),
        "narrow_held_out_accuracy": round(stack.narrow_accuracy, 4),
        **figures,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
