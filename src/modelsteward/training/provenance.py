"""Run manifests as in-toto Statement v1 with a SLSA Provenance v1 predicate.

The subject is the output model (its OMS root digest); the resolved dependencies are the base
model, the datasets, the code revision and the config; the environment is an internal parameter
and its digest a byproduct. Any in-toto/SLSA tooling can read the statement.

>>> from modelsteward.types import Digest
>>> d = Digest.of(b"weights")
>>> s = provenance_statement(
...     run_id="run-0123456789ab", subject=("drive-ft@1", d), command=["python", "train.py"],
...     seed=7, inputs=[RunInput("base-model", "drive@1", str(d))], environment={},
...     started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:01:00Z")
>>> s["predicateType"], s["subject"][0]["digest"]["sha256"] == d.hex
('https://slsa.dev/provenance/v1', True)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from modelsteward import __version__
from modelsteward.training.records import RunInput
from modelsteward.types import Digest

__all__ = ["BUILD_TYPE", "PREDICATE_TYPE", "STATEMENT_TYPE", "provenance_statement"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://modelsteward.dev/training-run/v1"


def _digest_set(digest: str) -> dict[str, str]:
    algorithm, _, value = digest.partition(":")
    if algorithm == "git":
        return {"gitCommit": value}
    return {algorithm: value}


def _code_uri(item: RunInput) -> str:
    """``git+file:///repo`` for a commit, ``file:///folder`` for a content-addressed folder."""
    if "://" in item.name:
        return item.name
    folder = item.name.rsplit(" (", 1)[-1].rstrip(")") if " (" in item.name else item.name
    scheme = "git+file://" if item.digest.startswith("git:") else "file://"
    return scheme + folder


def _dependency(item: RunInput) -> dict[str, Any]:
    uri = {
        "base-model": f"steward:model/{item.name}",
        "dataset": f"steward:dataset/{item.name}",
        "config": f"steward:blob/{item.digest}",
        "code": _code_uri(item),
    }.get(item.role, item.name)
    dependency: dict[str, Any] = {
        "name": item.name,
        "uri": uri,
        "digest": _digest_set(item.digest),
        "annotations": {"role": item.role},
    }
    if item.license:
        dependency["annotations"]["license"] = item.license
    return dependency


def provenance_statement(
    *,
    run_id: str,
    subject: tuple[str, Digest],
    command: Sequence[str],
    seed: int | None,
    inputs: Sequence[RunInput],
    environment: dict[str, Any],
    started_at: str | None,
    finished_at: str | None,
    kind: str = "exec",
    metrics: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The run manifest (deterministic for its inputs: sorted, no ambient state)."""
    env_digest = hashlib.sha256(
        json.dumps(environment, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    metadata: dict[str, Any] = {"invocationId": run_id}
    if started_at:
        metadata["startedOn"] = started_at
    if finished_at:
        metadata["finishedOn"] = finished_at
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject[0], "digest": {"sha256": subject[1].hex}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"command": list(command), "seed": seed},
                "internalParameters": {"environment": environment, "recorded": kind},
                "resolvedDependencies": [
                    _dependency(i) for i in sorted(inputs, key=lambda i: (i.role, i.name))
                ],
            },
            "runDetails": {
                "builder": {"id": f"https://modelsteward.dev/steward/run-{kind}@{__version__}"},
                "metadata": metadata,
                "byproducts": [
                    {"name": "environment", "digest": {"sha256": env_digest}},
                    {"name": "metrics", "annotations": dict(sorted((metrics or {}).items()))},
                ],
            },
        },
    }
