"""A real workspace with everything a dossier reports: lineage, a recorded run, datasets,
evaluations with a baseline and a critical regression, a signed envelope, people, sign-offs (one
genuine, one forged), a gate decision, a deployment with a runbook, observations and a kill."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from evaluation_factories import report, scenario
from modelsteward.artifacts.signing import KeyPairPaths, generate_key_pair, load_private_key, pae
from modelsteward.bootstrap import Steward
from modelsteward.evaluation.baseline import Baseline, compare
from modelsteward.evaluation.html import render_report_html
from modelsteward.ledger.entry import canonical_json
from modelsteward.runtime.envelope import example_envelope
from modelsteward.services.datasets import DatasetRequest
from modelsteward.services.dossier import DossierService
from modelsteward.services.intake import IntakeRequest
from modelsteward.services.runs import RunRequest
from modelsteward.testing import write_drive_logs, write_safetensors

BASE_CARD = "---\nlicense: apache-2.0\n---\n# Drive base\n"
FT_CARD = """---
license: apache-2.0
base_model: drive-base
base_model_relation: finetune
datasets:
- fleet-logs
- acme/unregistered-scenes
---
# Drive FT

A highway lane-keeping policy.
"""
RUNBOOK = (
    "# Pilot fleet runbook\n\n1. Kill: touch /var/run/steward/kill\n2. Page the safety lead.\n"
)
POLICY_DATA = {
    "observations": {"shadow": {"max_disagreement": 0.1, "max_fail_closed": 0, "max_dropped": 0}}
}


@dataclass(frozen=True)
class World:
    """What the tests look at."""

    app: Steward
    service: DossierService
    ref: str
    digest: str
    envelope_blob: str
    runbook_blob: str
    report_digest: str


def dossier_service(app: Steward) -> DossierService:
    """The service as the composition root will build it."""
    return DossierService(
        app.models,
        app.runs,
        app.datasets,
        app.licenses,
        app.evaluations,
        app.envelopes,
        app.ledger,
        app.workspace,
    )


def _folder(path: Path, card: str, seed: float) -> Path:
    path.mkdir(parents=True)
    (path / "config.json").write_text('{"model_type": "tiny"}')
    (path / "README.md").write_text(card)
    write_safetensors(path / "model.safetensors", {"w": np.full((2, 2), seed, np.float32)})
    return path


def _provenance(app: Steward, root: Path) -> str:
    """Base model, dataset, and a recorded fine-tune run producing drive-ft@1."""
    base = _folder(root / "base", BASE_CARD, 1.0)
    app.models.add(IntakeRequest(path=base, name="drive-base", steward="ada@example.com"))
    logs = write_drive_logs(root / "logs", rows=60).parent
    app.datasets.add(
        DatasetRequest(
            path=logs,
            name="fleet-logs",
            license="CC-BY-4.0",
            tier="partner",
            consent="contract",
            collected="2026-01-01..2026-03-31",
            geography="DE,FR",
            retention_days=3650,
            source="partner fleet export",
        )
    )
    (root / "code").mkdir()
    (root / "code" / "train.py").write_text("print('trained')\n")
    output = _folder(root / "ft", FT_CARD, 2.0)
    result = app.runs.record(
        RunRequest(
            name="drive-ft",
            base="drive-base",
            output=output,
            datasets=("fleet-logs",),
            command=("python", "train.py"),
            seed=7,
            workdir=root / "code",
            tier="controlled-pilot",
            steward="ada@example.com",
            started_at="2026-11-01T10:00:00Z",
            finished_at="2026-11-01T11:00:00Z",
        )
    )
    return str(result.version.digest)


def _evaluations(app: Steward, ref: str, digest: str) -> str:
    """A passing evaluation locked as baseline, then one with a critical regression."""
    version = app.models.get(ref)
    good = report(
        [scenario("cut-in", [{"min_ttc_s": 0.5}]), scenario("merge", [{"min_ttc_s": 0.4}])],
        model_ref=ref,
        model_digest=digest,
    )
    first = app.evaluations._store(version, good, render_report_html(good), None, None)
    app.evaluations.lock_baseline(first, "highway")
    worse = report(
        [
            scenario("cut-in", [{"min_ttc_s": -0.3}], severity="S3", exposure="E4"),
            scenario("merge", [{"min_ttc_s": 0.4}], severity="S1"),
        ],
        model_ref=ref,
        model_digest=digest,
    )
    regressions = compare(Baseline.from_report(good), worse)
    second = app.evaluations._store(
        version, worse, render_report_html(worse, regressions), regressions, "highway"
    )
    return second.report_digest


def _person(app: Steward, keys: KeyPairPaths, name: str, role: str) -> None:
    app.ledger.append(
        "person.added",
        f"person:{name}",
        {
            "name": name,
            "roles": [role],
            "key_id": keys.fingerprint,
            "public_key": keys.public_key.read_text(),
            "added_by": "sec-lead",
        },
    )


def signoff_payload(statement: dict[str, Any], signing_key: Path, key_id: str) -> dict[str, Any]:
    """A ``release.signoff`` payload signed with ``signing_key`` (claiming ``key_id``)."""
    key = load_private_key(signing_key)
    # the format written out independently of modelsteward.release (docs/release.md)
    message = pae(canonical_json(statement), "application/vnd.steward.signoff+json")
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return {
        "statement": statement,
        "signature": base64.b64encode(signature).decode(),
        "key_id": key_id,
    }


def _statement(ref: str, digest: str, person: str, role: str, policy: str) -> dict[str, Any]:
    return {
        "schema": "steward.signoff/v1",
        "model": ref,
        "model_digest": digest,
        "stage": "offline-validated",
        "role": role,
        "person": person,
        "verdict": "approve",
        "comment": f"{role} review done",
        "accepts": {},
        "evidence_digest": "sha256:" + "e" * 64,
        "policy_digest": policy,
        "signed_at": "2026-11-20T09:00:00.000000Z",
    }


def _release(app: Steward, root: Path, ref: str, digest: str) -> dict[str, str]:
    """People, sign-offs (sam genuine, lena forged), gate decision, deployment and monitoring."""
    blobs = app.workspace.blobs
    sam = generate_key_pair(root / "sam.pem")
    lena = generate_key_pair(root / "lena.pem")
    forger = generate_key_pair(root / "forger.pem")
    _person(app, sam, "sam", "safety")
    _person(app, lena, "lena", "legal")
    policy = str(blobs.put(canonical_json(POLICY_DATA)))
    subject = f"model:{digest}"
    statement = _statement(ref, digest, "sam", "safety", policy)
    app.ledger.append(
        "release.signoff", subject, signoff_payload(statement, sam.private_key, sam.fingerprint)
    )
    forged = _statement(ref, digest, "lena", "legal", policy)
    app.ledger.append(
        "release.signoff", subject, signoff_payload(forged, forger.private_key, lena.fingerprint)
    )
    decision = {
        "decision_id": "dec-1",
        "purpose": "promote",
        "model": ref,
        "model_digest": digest,
        "from": "offline-validated",
        "to": "shadow",
        "deployment": "pilot-fleet",
        "allow": True,
        "unmet": [],
        "required": ["signoffs"],
        "rubric": {},
        "signoffs": {"counted": [{"person": "sam", "role": "safety"}], "void": []},
        "evidence_digest": "sha256:" + "e" * 64,
        "input_digest": "sha256:" + "f" * 64,
        "input_blob": str(blobs.put(b'{"schema":"steward.gate-input/v1"}')),
        "policy_digest": policy,
        "policy_blob": policy,
        "policy_pack": {"name": "steward-default", "version": "1"},
        "engine": {"name": "regorus", "version": "0"},
        "decided_at": "2026-11-21T09:00:00.000000Z",
    }
    app.ledger.append("gate.decision", subject, decision)
    runbook = str(blobs.put(RUNBOOK.encode()))
    app.ledger.append(
        "deployment.added",
        "deployment:pilot-fleet",
        {
            "name": "pilot-fleet",
            "ring": "eu-pilot",
            "canary_share": 0.05,
            "runbook": runbook,
            "rollback_target": "none",
            "kill_flag": "/var/run/steward/kill",
        },
    )
    app.ledger.append(
        "release.promoted",
        subject,
        {"model": ref, "model_digest": digest, "from": "offline-validated", "to": "shadow",
         "deployment": "pilot-fleet", "decision_id": "dec-1"},
    )  # fmt: skip
    for model_digest, disagreement in ((digest, 0.04), ("sha256:" + "9" * 64, 0.5)):
        app.ledger.append(
            "deployment.observed",
            "deployment:pilot-fleet",
            {"model_digest": model_digest, "stage": "shadow", "cycles": 1200,
             "disagreement": disagreement, "fail_closed": 0, "dropped": 0, "batches": [],
             "envelope_digest": None},
        )  # fmt: skip
    app.ledger.append(
        "deployment.killed",
        "deployment:pilot-fleet",
        {"reason": "drill", "flag_file": "/var/run/steward/kill", "release": digest},
    )
    app.ledger.append(
        "odd.coverage.recorded",
        subject,
        {"model": ref, "model_digest": digest, "odd_digest": "sha256:" + "c" * 64,
         "suite_digest": "sha256:" + "b" * 64, "coverage": "sha256:" + "d" * 64, "gaps": 3,
         "top": ["environment.weather=snow"]},
    )  # fmt: skip
    return {"runbook": runbook}


def build_world(app: Steward, root: Path) -> World:
    """Everything above, in a fresh workspace."""
    digest = _provenance(app, root)
    ref = "drive-ft@1"
    report_digest = _evaluations(app, ref, digest)
    (root / "envelope.json").write_text(json.dumps(example_envelope()))
    signer = generate_key_pair(root / "envelope.pem")
    record = app.envelopes.sign(root / "envelope.json", signer.private_key, ref, root / "env.sig")
    blobs = _release(app, root, ref, digest)
    return World(
        app,
        dossier_service(app),
        ref,
        digest,
        str(record.blob),
        blobs["runbook"],
        report_digest,
    )
