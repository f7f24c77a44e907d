"""The ledger benchmark behind ``steward ledger bench`` and ``make bench``.

Writes N entries with P concurrent producer threads through the group committer into a scratch
workspace (SQLite, ``synchronous=FULL``), exports and verifies them offline, and times proof
verification. Each producer keeps up to ``window`` appends in flight; an append counts as done
only when its batch's commit has returned.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from modelsteward.bootstrap import init_workspace
from modelsteward.config import Settings
from modelsteward.ledger.checkpoint import NoteVerifier
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import GroupCommitter, Receipt
from modelsteward.ledger.verify import LogVerifier, verify_proof

__all__ = ["run_ledger_bench"]


def _producer(
    committer: GroupCommitter, pid: int, count: int, window: int, latencies: list[float]
) -> None:
    inflight: deque[tuple[float, Receipt]] = deque()
    for i in range(count):
        draft = EntryDraft(
            "bench.event", f"producer-{pid}", f"bench:{pid}", {"i": i, "text": "benchmark entry"}
        )
        inflight.append((time.perf_counter(), committer.submit(draft)))
        if len(inflight) >= window:
            started, future = inflight.popleft()
            future.result()
            latencies.append(time.perf_counter() - started)
    for started, future in inflight:
        future.result()
        latencies.append(time.perf_counter() - started)


def run_ledger_bench(
    entries: int = 20_000, producers: int = 8, window: int = 64, workdir: Path | None = None
) -> dict[str, Any]:
    """Run the benchmark; return its figures."""
    with tempfile.TemporaryDirectory(dir=workdir, prefix="steward-bench-") as tmp:
        steward = init_workspace(Settings(home=Path(tmp) / "ws", actor="bench"))
        ledger = steward.ledger
        per = [
            entries // producers + (1 if p < entries % producers else 0) for p in range(producers)
        ]
        latencies: list[list[float]] = [[] for _ in range(producers)]
        with ledger.group_committer() as committer:
            threads = [
                threading.Thread(
                    target=_producer, args=(committer, p, per[p], window, latencies[p])
                )
                for p in range(producers)
            ]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start
        all_lat = sorted(x for lat in latencies for x in lat)
        checkpoint = ledger.checkpoint()
        export = Path(tmp) / "export.jsonl"
        ledger.export(export)
        verifier = NoteVerifier.from_vkey(ledger.workspace.verifier().to_vkey())
        t0 = time.perf_counter()
        report = LogVerifier(verifier, checkpoint.note).run_export(export)
        verify_s = time.perf_counter() - t0
        proof = json.dumps(ledger.prove(checkpoint.size // 2)).encode()
        rounds = 200
        t0 = time.perf_counter()
        for _ in range(rounds):
            verify_proof(proof, verifier)
        proof_ms = (time.perf_counter() - t0) / rounds * 1000
        steward.close()
    return {
        "entries": entries,
        "producers": producers,
        "window": window,
        "appends_per_s": round(entries / elapsed),
        "ack_latency_p50_ms": round(statistics.quantiles(all_lat, n=100)[49] * 1000, 2),
        "ack_latency_p99_ms": round(statistics.quantiles(all_lat, n=100)[98] * 1000, 2),
        "verify_entries_per_s": round(report.entries_seen / verify_s),
        "verify_s": round(verify_s, 3),
        "proof_verify_ms": round(proof_ms, 3),
    }
