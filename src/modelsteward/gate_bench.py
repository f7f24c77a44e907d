"""The runtime-gate benchmark behind ``steward gate bench`` and ``make bench``.

Figures:

1. Per-decision latency of :meth:`SafetyGate.decide` — all nine rules, the fallback ladder when
   a rule vetoes, the record queued — with 1, 10 and 50 surrounding objects, for discrete
   actions and for 15-waypoint trajectories. Scenes are seeded random motorway traffic on three
   lanes, dense enough that RSS, TTC and the speed cap veto some proposals. GC is handled the
   way a control loop handles it: the heap is frozen after set-up, automatic collection is off,
   and the loop collects the young generation and flushes the recorder in its slack time,
   outside the timed region.
2. The peer: ad-rss (``ad-rss`` on PyPI, if installed) computing the same longitudinal and
   lateral safe distances for every object of the same scenes, timed per check and per scene.
   Its object states are built outside the timed region, which favours it.
3. The vectorised longitudinal replay path (:func:`replay_longitudinal`): decisions per second.
4. The full counterfactual replay (:func:`replay`) on recorded decisions: decisions per second.
"""

from __future__ import annotations

import gc
import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from modelsteward.runtime import (
    Context,
    Ego,
    Envelope,
    Objects,
    Proposal,
    SafetyGate,
    Trajectory,
    WorldState,
)
from modelsteward.runtime.envelope import example_envelope
from modelsteward.runtime.records import BatchReceipt, DecisionRecorder, decision_record
from modelsteward.runtime.replay import LongitudinalBatch, replay, replay_longitudinal

__all__ = ["bench_envelope", "run_gate_bench"]

_STEP = 0.1  # seconds between cycles: a 10 Hz planning loop
_SPEED = 25.0


def bench_envelope() -> Envelope:
    """The example envelope with a geofence along the whole drive and a REDUCED cap above the
    benchmark's constant 25 m/s (the scenes are open loop: the ego never slows down)."""
    document = example_envelope()
    document["speed"]["mode_caps_mps"]["reduced"] = 27.0
    document["odd"]["geofence"] = [[[-1e7, -50.0], [1e7, -50.0], [1e7, 50.0], [-1e7, 50.0]]]
    document["watchdog"]["deadline_ms"] = 50.0
    return Envelope.from_dict(document)


class _CountingSink:
    """Builds nothing more than the recorder hands it; counts what would be written."""

    def __init__(self) -> None:
        self.records = 0

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        self.records += len(records)
        return BatchReceipt("", len(records), "memory")

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        return None


def _scene(rng: np.random.Generator, n: int) -> np.ndarray:
    """Motorway traffic on three lanes; in the ego lane mostly beyond the RSS distance."""
    rows = np.zeros((n, 8))
    lanes = rng.integers(-1, 2, n)
    side = rng.choice([-1.0, 1.0], n)
    near = rng.random(n) < 0.1
    ego_lane = np.where(near, rng.uniform(15.0, 100.0, n), rng.uniform(100.0, 150.0, n))
    rows[:, 0] = side * np.where(lanes == 0, ego_lane, rng.uniform(8.0, 120.0, n))
    rows[:, 1] = lanes * 4.0 + rng.normal(0.0, 0.2, n)
    rows[:, 2] = rng.uniform(20.0, 30.0, n)
    rows[:, 3] = rng.normal(0.0, 0.1, n)
    rows[:, 4], rows[:, 5], rows[:, 6] = 5.0, 2.0, lanes
    return rows


def _world(t: float, rows: np.ndarray) -> WorldState:
    x = _SPEED * t
    poses = np.array([[t - _STEP, x - _SPEED * _STEP, 0.0], [t, x, 0.0]])
    return WorldState(
        t, Ego(x, 0.0, 0.0, _SPEED), Objects(rows), Context("motorway", "clear", "day", 30.0), poses
    )


_PATH = Trajectory.from_points([[0.2 * i, _SPEED * 0.2 * i, 0.0, _SPEED] for i in range(1, 16)])


def _proposal(t: float, rng: np.random.Generator, trajectories: bool) -> Proposal:
    if trajectories:
        return Proposal(t, 0.9, trajectory=_PATH)
    return Proposal(t, 0.9, action=int(rng.choice([0, 1, 1, 1, 2, 3, 4])))


def _latency(
    env: Envelope, objects: int, cycles: int, trajectories: bool, seed: int
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    scenes = [_scene(rng, objects) for _ in range(64)]
    recorder = DecisionRecorder(_CountingSink(), capacity=4096, batch_size=512)
    gate = SafetyGate(
        env,
        model_digest="bench",
        envelope_digest=str(env.digest),
        recorder=recorder,
        clock=time.monotonic,
    )
    latencies = np.empty(cycles, dtype=np.int64)
    vetoed = 0
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        for i in range(cycles):
            t = 1.0 + i * _STEP
            world = _world(t, scenes[i % 64].copy())
            proposal = _proposal(t, rng, trajectories)
            start = time.perf_counter_ns()
            decision = gate.decide(world, proposal, now=t)
            latencies[i] = time.perf_counter_ns() - start
            vetoed += decision.verdict != "accept"
            if i % 64 == 63:  # slack time: young-generation GC and the recorder's batch
                gc.collect(0)
                recorder.flush()
    finally:
        gc.enable()
        gc.unfreeze()
    recorder.close()
    micros = latencies[cycles // 10 :] / 1000.0  # the first tenth warms caches up
    p50, p99, p999 = np.percentile(micros, [50, 99, 99.9])
    decisions = max(gate.cycle, 1)
    return {
        "objects": objects,
        "proposal": "trajectory" if trajectories else "action",
        "cycles": cycles,
        "p50_us": round(float(p50), 1),
        "p99_us": round(float(p99), 1),
        "p999_us": round(float(p999), 1),
        "max_us": round(float(micros.max()), 1),
        "vetoed_share": round(vetoed / decisions, 3),
        "dropped": recorder.dropped,
    }


def _ad_rss_peer(env: Envelope, objects: int, scenes: int, seed: int) -> dict[str, Any] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ad_rss  # noqa: PLC0415 — optional peer, test extras only
    except ImportError:
        return None
    from modelsteward._ad_rss_peer import ad_state, lateral_distance, same_direction  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    per_check: list[int] = []
    per_scene: list[int] = []
    p = env.rss
    for _ in range(scenes):
        rows = _scene(rng, objects)
        ego = ad_state(ad_rss, p, v_lon=_SPEED, v_lat=0.0, ego=True)
        others = [
            ad_state(ad_rss, p, v_lon=float(r[2]), v_lat=float(-r[3]), ego=False) for r in rows
        ]
        scene_start = time.perf_counter_ns()
        for row, other in zip(rows, others, strict=True):
            start = time.perf_counter_ns()
            if row[0] > 0:
                same_direction(ad_rss, other, ego)
            else:
                same_direction(ad_rss, ego, other)
            lateral_distance(ad_rss, ego, other)
            per_check.append((time.perf_counter_ns() - start) // 2)
        per_scene.append(time.perf_counter_ns() - scene_start)
    check = np.array(per_check) / 1000.0
    scene = np.array(per_scene) / 1000.0
    return {
        "objects": objects,
        "checks_per_object": 2,
        "check_p50_us": round(float(np.percentile(check, 50)), 2),
        "check_p99_us": round(float(np.percentile(check, 99)), 2),
        "scene_p50_us": round(float(np.percentile(scene, 50)), 1),
        "scene_p99_us": round(float(np.percentile(scene, 99)), 1),
    }


def _vectorised(env: Envelope, size: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    batch = LongitudinalBatch.from_arrays(
        gap=rng.uniform(0.0, 150.0, size),
        v_ego=rng.uniform(0.0, 35.0, size),
        v_lead=rng.uniform(0.0, 35.0, size),
        v_cmd=rng.uniform(0.0, 35.0, size),
        speed_limit=rng.choice([22.0, 30.0, 36.0], size),
        braking=rng.random(size) < 0.1,
        mode=rng.integers(0, 4, size),
    )
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        verdicts = replay_longitudinal(batch, env)
        best = min(best, time.perf_counter() - start)
    return {
        "decisions": size,
        "seconds": round(best, 4),
        "decisions_per_s": round(size / best),
        "vetoed": int(verdicts.vetoed.sum()),
    }


def _full_replay(env: Envelope, cycles: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    gate = SafetyGate(env, model_digest="bench", envelope_digest=str(env.digest))
    records = []
    for i in range(cycles):
        t = 1.0 + i * _STEP
        decision = gate.decide(_world(t, _scene(rng, 10)), _proposal(t, rng, False), now=t)
        records.append(decision_record(decision, str(env.digest), "bench"))
    start = time.perf_counter()
    report = replay(records, env)
    seconds = time.perf_counter() - start
    changed = sum(rule.new + rule.removed for rule in report.rules)
    return {
        "decisions": cycles,
        "seconds": round(seconds, 3),
        "decisions_per_s": round(cycles / seconds),
        "veto_changes_vs_recorded": changed,
    }


def run_gate_bench(
    objects: Sequence[int] = (1, 10, 50),
    cycles: int = 20_000,
    seed: int = 0,
    on_stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every figure above as one JSON-ready dict."""
    logging.getLogger("modelsteward.runtime.gate").setLevel(logging.ERROR)
    env = bench_envelope()
    stage = on_stage or (lambda _name: None)
    result: dict[str, Any] = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "latency": [],
        "ad_rss": [],
    }
    for count in objects:
        for trajectories in (False, True):
            stage(f"gate latency, {count} objects, {'trajectories' if trajectories else 'actions'}")
            result["latency"].append(_latency(env, count, cycles, trajectories, seed))
        stage(f"ad-rss peer, {count} objects")
        peer = _ad_rss_peer(env, count, max(200, cycles // 20), seed)
        if peer is not None:
            result["ad_rss"].append(peer)
    stage("vectorised longitudinal replay")
    result["vectorised_replay"] = _vectorised(env, 2_000_000, seed)
    stage("full counterfactual replay")
    result["full_replay"] = _full_replay(env, min(cycles, 5_000), seed)
    return result
