"""`make bench`: the model-intake figures of issue 3, on this machine.

1. Hashing throughput on a ≥ 1 GiB multi-shard folder, page cache warm, as whole processes:
   `steward hash DIR` against OpenSSF `model_signing`'s hashing of the same folder (both SHA-256,
   file-level serialization, same root digest), alternating runs, median of each.
2. Inventory queries over 10,000 registered versions on SQLite: `model list` filtered by tier
   and licence — the service call in-process (median of 200) and the whole `steward model list
   --json` process (median of 5).
   Anchor (not re-measured here): MLflow users report ~0.85 s for a three-tag search over a few
   hundred models.

Environment: STEWARD_BENCH_DIR (where the 1 GiB folder is kept between runs; default /tmp),
STEWARD_BENCH_GIB (size, default 1.0), STEWARD_BENCH_VERSIONS (default 10000).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from modelsteward.bootstrap import init_workspace
from modelsteward.config import Settings
from modelsteward.registry.records import ModelStatus, ModelVersion, RiskTier
from modelsteward.services.intake import register_version
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.types import Digest, format_time, utc_now

BIN = Path(sys.executable).parent
GIB = float(os.environ.get("STEWARD_BENCH_GIB", "1.0"))
VERSIONS = int(os.environ.get("STEWARD_BENCH_VERSIONS", "10000"))
SHARD = 128 * 1024 * 1024
LICENSES = ["apache-2.0", "mit", "llama3.1", "nvidia-open-model-license", "cc-by-4.0", "gemma"]

REFERENCE = (
    "import sys\n"
    "from model_signing import hashing\n"
    "from model_signing._signing import signing\n"
    "m = hashing.hash(sys.argv[1])\n"
    "print(signing.Payload(m).statement.pb.subject[0].digest['sha256'])\n"
)


def build_folder() -> Path:
    """A multi-shard HF-style folder of at least STEWARD_BENCH_GIB GiB (kept between runs)."""
    root = Path(os.environ.get("STEWARD_BENCH_DIR", tempfile.gettempdir())) / "steward-bench-model"
    total = int(GIB * 1024**3)
    shards = max(2, -(-total // SHARD))
    marker = root / f".complete-{shards}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(1, shards + 1):
        path = root / f"model-{i:05d}-of-{shards:05d}.safetensors"
        with path.open("wb") as handle:
            for _ in range(SHARD // (16 * 1024 * 1024)):
                handle.write(rng.bytes(16 * 1024 * 1024))
    (root / "config.json").write_text('{"model_type": "bench"}\n')
    (root / "tokenizer.json").write_text('{"version": "1.0"}\n')
    marker.write_text("")
    return root


def warm(root: Path) -> int:
    """Read every file once so both tools hash from the page cache; returns total bytes."""
    total = 0
    for path in root.iterdir():
        if path.is_file() and not path.name.startswith("."):
            with path.open("rb") as handle:
                while chunk := handle.read(16 * 1024 * 1024):
                    total += len(chunk)
    return total


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def hashing_figures(root: Path, runs: int = 3) -> None:
    size = warm(root)
    ours_cmd = [str(BIN / "steward"), "hash", str(root), "--json"]
    theirs_cmd = [sys.executable, "-c", REFERENCE, str(root)]
    ours, theirs = [], []
    for _ in range(runs):
        t, out = timed(ours_cmd)
        ours.append(t)
        digest = json.loads(out)["digest"]
        t, out = timed(theirs_cmd)
        theirs.append(t)
        assert digest == "sha256:" + out.strip(), "root digests differ"
    o, r = statistics.median(ours), statistics.median(theirs)
    gib = size / 1024**3
    print(
        f"hashing {gib:.2f} GiB in {sum(1 for _ in root.iterdir()) - 1} files, warm cache, "
        f"{os.cpu_count()} cores, whole processes (median of {runs}):"
    )
    print(f"  steward hash        {o:6.2f} s   {gib / o:5.2f} GiB/s")
    print(f"  model_signing hash  {r:6.2f} s   {gib / r:5.2f} GiB/s")
    print(f"  speed ratio steward/model_signing: {r / o:.2f}x  (goal >= 1.0x); same root digest")


def synthetic(template: ModelVersion, i: int) -> ModelVersion:
    tier = list(RiskTier)[i % 5]
    return replace(
        template,
        name=f"org{i % 97}/model-{i // 97}",
        version=1,
        digest=Digest.of(f"bench-{i}".encode()),
        tier=tier,
        license=LICENSES[i % len(LICENSES)],
        steward=f"owner{i % 13}@example.com",
        status=ModelStatus.BLOCKED if i % 50 == 0 else ModelStatus.REGISTERED,
    )


def inventory_figures() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "ws"
        app = init_workspace(Settings(home=home, actor="bench"))
        folder = Path(tmp) / "tiny"
        folder.mkdir()
        (folder / "config.json").write_text('{"model_type": "tiny"}')
        from modelsteward.services.intake import IntakeRequest

        template = app.models.add(IntakeRequest(path=folder, name="template")).version
        template = replace(template, registered_at=format_time(utc_now()))
        start = time.perf_counter()
        for first in range(0, VERSIONS, 500):
            with app.db.write() as conn:
                registry, ledger = SqlRegistry(conn), SqlLedgerTxn(conn)
                for i in range(first, min(first + 500, VERSIONS)):
                    register_version(registry, ledger, synthetic(template, i), {})
        loaded = time.perf_counter() - start
        query = {"tier": ["controlled-pilot"], "license": ["nvidia-open-model-license"]}
        rows = app.models.list(**query)
        samples = []
        for _ in range(200):
            t = time.perf_counter()
            app.models.list(**query)
            samples.append((time.perf_counter() - t) * 1000)
        app.close()
        env = {**os.environ, "STEWARD_HOME": str(home)}
        cli = [
            str(BIN / "steward"),
            "model",
            "list",
            "--tier",
            "controlled-pilot",
            "--license",
            "nvidia-open-model-license",
            "--json",
        ]
        procs = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(cli, env=env, capture_output=True, check=True)
            procs.append((time.perf_counter() - t) * 1000)
    print(f"inventory: {VERSIONS:,} versions registered (with ledger entries) in {loaded:.1f} s")
    print(
        f"  model list --tier controlled-pilot --license nvidia-open-model-license "
        f"-> {len(rows)} rows"
    )
    print(
        f"  service query median {statistics.median(samples):.2f} ms, "
        f"p95 {sorted(samples)[int(len(samples) * 0.95)]:.2f} ms  (goal <= 50 ms)"
    )
    print(
        f"  whole `steward model list` process median {statistics.median(procs):.0f} ms "
        "(anchor: MLflow ~850 ms for a three-tag search)"
    )


def main() -> None:
    root = build_folder()
    hashing_figures(root)
    inventory_figures()


if __name__ == "__main__":
    main()
