"""`make bench`: the ledger figures of the foundation issue, on this machine.

1. Durable appends/s with 8 producers through group commit (SQLite, synchronous=FULL), with ack
   latency p50/p99 — `steward ledger bench` does the same on demand.
2. Full offline verification of 1,000,000 entries (target ≤ 10 s).
3. One proof + checkpoint verification (target ≤ 1 ms).

Anchor from the issue (not re-measured here): Tessera's POSIX log, ~10,000 appends/s on NVMe.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from modelsteward.benchmark import run_ledger_bench
from modelsteward.ledger import Checkpoint, CompactRange, EntryDraft, LogVerifier, NoteSigner
from modelsteward.ledger.merkle import leaf_hash

VERIFY_ENTRIES = int(os.environ.get("STEWARD_BENCH_VERIFY_ENTRIES", "1000000"))


def write_export(path: Path, n: int) -> tuple[int, bytes]:
    """An export of n realistic entries, written without a database (faster to produce)."""
    tree = CompactRange()
    with path.open("w", encoding="ascii") as handle:
        for seq in range(n):
            draft = EntryDraft(
                "model.intake",
                "ml-platform@example.com",
                f"model:driving-policy@sha256:{seq:064x}"[:90],
                {"revision": f"r{seq}", "tier": "controlled-pilot", "files": seq % 17},
            )
            body = draft.seal(seq=seq, time="2026-11-22T10:00:00.000000Z").to_bytes()
            tree.extend((leaf_hash(body),))
            handle.write(f'{{"entry":"{base64.b64encode(body).decode()}","seq":{seq}}}\n')
    return tree.size, tree.root()


def main() -> None:
    appends = run_ledger_bench(entries=50_000, producers=8, window=64)
    print("== durable appends (8 producers, group commit, SQLite synchronous=FULL) ==")
    for key in (
        "entries",
        "producers",
        "window",
        "appends_per_s",
        "ack_latency_p50_ms",
        "ack_latency_p99_ms",
        "proof_verify_ms",
    ):
        print(f"{key:>24}: {appends[key]}")
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "entries.jsonl"
        t0 = time.perf_counter()
        size, root = write_export(export, VERIFY_ENTRIES)
        print(f"\n(generated {size:,} entries in {time.perf_counter() - t0:.1f} s)")
        signer = NoteSigner.generate("bench.example/log")
        note = signer.sign(Checkpoint(signer.name, size, root))
        t0 = time.perf_counter()
        report = LogVerifier(signer.verifier(), note).run_export(export)
        elapsed = time.perf_counter() - t0
        assert report.size == size
    print(f"== full offline verification of {size:,} entries ==")
    print(f"{'verify_s':>24}: {elapsed:.2f}  (target <= 10 s)")
    print(f"{'verify_entries_per_s':>24}: {size / elapsed:,.0f}")
    print(f"{'proof_verify_ms':>24}: {appends['proof_verify_ms']}  (target <= 1 ms)")
    print(json.dumps({**appends, "verify_1m_s": round(elapsed, 2)}), file=sys.stderr)


if __name__ == "__main__":
    main()
