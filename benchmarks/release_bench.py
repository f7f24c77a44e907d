"""`python benchmarks/release_bench.py`: the release-gate figures of issue 7, on this machine.

A workspace holds one controlled-pilot model with 20 evidence items: a signature verification,
the scan, the licence review, 7 registered training datasets, an evaluation, ODD coverage, a
signed runtime envelope, a deployment with its runbook and a shadow observation, and 4 sign-offs.
The evaluation, coverage, envelope and observation are recorded as ledger entries of the shapes
their commands write (running the simulator is not what is measured here).

Measured, each over STEWARD_BENCH_CHECKS runs (default 60):
- `gate check` end to end through the service (`ReleaseService.check`): assemble the evidence
  from the database and ledger, evaluate the Rego pack in process, and record the decision
  (blobs, ledger entry, row) — median and p90; goal: median ≤ 50 ms;
- the policy evaluation alone (rego-cpp, compiled pack cached);
- `gate replay` of every recorded decision: the result must be identical every time.
The last line is one JSON object.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.bootstrap import Steward, init_workspace, open_workspace
from modelsteward.config import Settings
from modelsteward.policy import GATE_QUERY
from modelsteward.services.datasets import DatasetRequest
from modelsteward.services.intake import IntakeRequest
from modelsteward.testing import write_drive_logs
from modelsteward.types import Digest

PEOPLE = {"sid": "security", "sam": "safety", "lena": "legal", "omar": "operations",
          "priya": "product"}  # fmt: skip
DATASETS = 7
REF = "bench/policy@1"


def _as(settings: Settings, actor: str) -> Steward:
    return open_workspace(settings.model_copy(update={"actor": actor}))


def _setup(root: Path) -> tuple[Settings, dict[str, Path]]:
    settings = Settings(home=root / "ws", actor="dana")
    app = init_workspace(settings)
    keys: dict[str, Path] = {}
    for name, role in PEOPLE.items():
        pair = generate_key_pair(root / f"{name}.pem")
        keys[name] = pair.private_key
        sid = _as(settings, "sid")
        sid.people.add(name, role, pair.public_key)
        sid.close()
    names = [f"bench-data-{i}" for i in range(DATASETS)]
    for i, name in enumerate(names):
        app.datasets.add(
            DatasetRequest(
                path=write_drive_logs(root / name / "logs", rows=40, seed=i).parent, name=name,
                license="CC-BY-4.0", tier="partner", consent="contract",
                collected="2026-01-01..2026-03-31", geography="DE", retention_days=3650,
                source="partner fleet export",
            )
        )  # fmt: skip
    model = root / "model"
    model.mkdir()
    front = "---\nlicense: apache-2.0\ndatasets:\n" + "".join(f"- {n}\n" for n in names)
    (model / "README.md").write_text(front + "---\n# bench policy\n")
    (model / "config.json").write_text('{"model_type": "bench"}')
    version = app.models.add(
        IntakeRequest(
            path=model,
            name="bench/policy",
            tier="controlled-pilot",
            source="https://huggingface.co/acme/bench-policy",
            revision="v1",
        )  # fmt: skip
    ).version
    app.trust.sign(REF, keys["priya"], root / "policy.sig")
    app.trust.verify(REF, model, signature=root / "policy.sig",
                     public_key=Path(f"{keys['priya']}.pub"))  # fmt: skip
    _ledger_evidence(app, str(version.digest))
    app.close()
    return settings, keys


def _ledger_evidence(app: Steward, digest: str) -> None:
    subject, fake = f"model:{digest}", "sha256:" + "ab" * 32
    app.ledger.append("evaluation.completed", subject, {
        "model": REF, "model_digest": digest, "suite_digest": fake, "odd_digest": fake,
        "report": fake, "html": fake, "totals": {}, "baseline": "bench-baseline",
        "regressions": None, "critical_regressions": [],
    })  # fmt: skip
    app.ledger.append("odd.coverage.recorded", subject, {
        "model": REF, "model_digest": digest, "odd": "bench", "odd_digest": fake,
        "suite_digest": fake, "evaluation": fake, "coverage": fake, "gaps": 0, "top": [],
    })  # fmt: skip
    app.ledger.append("envelope.signed", subject, {
        "model": REF, "model_digest": digest, "envelope": "bench", "envelope_digest": fake,
        "statement_digest": fake, "blob": fake, "key_id": "cd" * 32,
        "signed_at": "2026-11-22T00:00:00.000000Z", "predicate_type": "bench",
    })  # fmt: skip


def _deploy_and_sign(settings: Settings, keys: dict[str, Path], root: Path) -> None:
    omar = _as(settings, "omar")
    runbook = root / "runbook.md"
    runbook.write_text("# runbook\n")
    omar.deployments.add("bench-fleet", ring="eu", canary_share=0.05, rollback_target="none",
                         runbook=runbook, kill_flag=root / "bench.kill")  # fmt: skip
    omar.ledger.append("deployment.observed", "deployment:bench-fleet", {
        "model_digest": str(omar.models.get(REF).digest), "stage": "shadow", "cycles": 5000,
        "disagreement": 0.05, "fail_closed": 0, "dropped": 0, "batches": [],
        "envelope_digest": [],
    })  # fmt: skip
    for who in ("sam", "lena", "sid"):
        omar.release.signoff(REF, "offline-validated", role=PEOPLE[who], approve=True,
                             comment="bench", key=keys[who])  # fmt: skip
    omar.release.promote(REF, "offline-validated")
    for who in ("omar", "sam", "priya", "sid"):
        omar.release.signoff(REF, "shadow", role=PEOPLE[who], approve=True, comment="bench",
                             key=keys[who], deployment="bench-fleet")  # fmt: skip
    omar.close()


def main() -> None:
    console = Console()
    checks = int(os.environ.get("STEWARD_BENCH_CHECKS", "60"))
    root = Path(tempfile.mkdtemp(prefix="steward-release-bench-"))
    console.print("… building a workspace with 20 evidence items")
    settings, keys = _setup(root)
    _deploy_and_sign(settings, keys, root)
    app = open_workspace(settings)
    release = app.release
    first = release.check(REF, "shadow", "bench-fleet")
    document = json.loads(app.workspace.blobs.get(Digest.parse(first.record["input_blob"])))
    items = _count_items(document)
    end_to_end, ids = [], []
    for _ in range(checks):
        start = time.perf_counter()
        decision = release.check(REF, "shadow", "bench-fleet")
        end_to_end.append(time.perf_counter() - start)
        ids.append(decision.id)
    bundle = release.bundle()
    engine_only = []
    for _ in range(checks):
        start = time.perf_counter()
        release.engine.evaluate(bundle, GATE_QUERY, document)
        engine_only.append(time.perf_counter() - start)
    identical = sum(release.replay(i).identical for i in ids)
    app.close()
    result = {
        "evidence_items": items,
        "allow": decision.allow,
        "checks": checks,
        "check_median_ms": round(statistics.median(end_to_end) * 1000, 2),
        "check_p90_ms": round(statistics.quantiles(end_to_end, n=10)[-1] * 1000, 2),
        "engine_median_ms": round(statistics.median(engine_only) * 1000, 3),
        "replays_identical": identical,
        "replays": len(ids),
        "goal_median_ms": 50,
    }
    table = Table(title=f"Release gate ({items} evidence items, {checks} checks)")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("gate check end to end, median", f"{result['check_median_ms']} ms (goal ≤ 50)")
    table.add_row("gate check end to end, p90", f"{result['check_p90_ms']} ms")
    table.add_row("policy evaluation alone, median", f"{result['engine_median_ms']} ms")
    table.add_row("replays identical", f"{identical}/{len(ids)}")
    table.add_row("decision", "allow" if decision.allow else "deny")
    console.print(table)
    print(json.dumps(result))


def _count_items(document: dict[str, Any]) -> int:
    """Evidence items a decision rests on: one per dataset and sign-off, one per other fact."""
    evidence = document["evidence"]
    single = [
        evidence["provenance"]["signature"]["verified"],
        evidence["scan"]["status"] == "registered",
        evidence["licence"]["allowed"],
        evidence["evaluation"] is not None,
        evidence["odd"] is not None,
        evidence["envelope"] is not None,
        evidence["deployment"] is not None,
        bool(evidence["deployment"] and evidence["deployment"]["runbook"]),
        evidence["observations"]["shadow"] is not None,
    ]
    return sum(single) + len(evidence["datasets"]) + len(document["signoffs"])


if __name__ == "__main__":
    main()
