"""The release-workflow part of `make demo`: people and keys, the policy pack and its tests, a
refused promotion, a refused self-sign-off, the reference policy taken from registered to canary
with sign-offs from five people, a decision replayed, a rollback, and the approval dossier."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel

REF = "reference/competent-policy@1"
PEOPLE = {
    "sid": ("security", "security engineer"),
    "sam": ("safety", "safety lead"),
    "lena": ("legal", "counsel"),
    "omar": ("operations", "fleet operations"),
    "priya": ("product", "product owner"),
    "dana": ("product", "ML platform engineer — she registered the models"),
}

Run = Callable[..., subprocess.CompletedProcess[str]]


def release_workflow(run: Run, console: Console, scratch: Path, out: Path, steward: str) -> None:
    """Everything from people to dossier (``run(*args, expect=, actor=)`` runs one command)."""
    keys = out / "keys" / "people"
    _people(run, console, keys)
    console.print(Panel.fit("The release gate's policy pack: Rego, versioned, with its own tests."))
    run("policy", "show")
    run("policy", "test")
    _refusals(run, console, keys)
    _offline_validated(run, console, keys, out)
    _shadow(run, console, keys, scratch, out)
    _canary(run, console, keys, steward)
    _rollback_and_dossier(run, console, out)


def _people(run: Run, console: Console, keys: Path) -> None:
    console.print(
        Panel.fit(
            "Release workflow. Five people sign off releases, each with their own key; dana, who "
            "registered the models, is the submitter. The first person (security) bootstraps "
            "the register and adds everyone else."
        )
    )
    keys.mkdir(parents=True, exist_ok=True)
    for name in PEOPLE:
        run("keys", "new", "--out", str(keys / f"{name}.pem"), quiet=True)
    for name, (role, _) in PEOPLE.items():
        run("people", "add", name, "--roles", role, "--key", str(keys / f"{name}.pem.pub"),
            actor="sid")  # fmt: skip
    run("people", "list")


def _refusals(run: Run, console: Console, keys: Path) -> None:
    console.print(
        Panel.fit(
            "A refused promotion: the narrow policy has critical regressions against the "
            "baseline. The gate says what is missing and which command produces it."
        )
    )
    run("promote", "reference/narrow-policy@1", "--to", "offline-validated", actor="omar",
        expect=6)  # fmt: skip
    console.print(Panel.fit("A refused self-sign-off: dana submitted the competent policy."))
    run("signoff", REF, "--to", "offline-validated", "--role", "product", "--approve",
        "--comment", "looks good to me", "--key", str(keys / "dana.pem"), expect=6)  # fmt: skip


def _sign(run: Run, keys: Path, who: str, stage: str, comment: str, *extra: str) -> None:
    role = PEOPLE[who][0]
    run("signoff", REF, "--to", stage, "--role", role, "--approve", "--comment", comment,
        "--key", str(keys / f"{who}.pem"), *extra)  # fmt: skip


def _offline_validated(run: Run, console: Console, keys: Path, out: Path) -> None:
    console.print(Panel.fit("The competent policy: what does it still need for offline-validated?"))
    run("gate", "check", REF, "--to", "offline-validated", expect=6)
    console.print(Panel.fit("Sign the weights and verify them; then the sign-offs."))
    sig = out / "competent.sig"
    run("model", "sign", REF, "--key", str(out / "keys" / "release.pem"), "--out", str(sig),
        quiet=True)  # fmt: skip
    competent = out.parent / "driving" / "models" / "competent"
    run("model", "verify", REF, str(competent), "--signature", str(sig), "--public-key",
        str(out / "keys" / "release.pem.pub"), quiet=True)  # fmt: skip
    stage = "offline-validated"
    built = "built in-house by `steward examples driving`; no upstream repository to cite"
    _sign(run, keys, "sid", stage, built, "--accept", "provenance-gaps")
    rain = "rain is in the ODD but untestable in this simulator; accepted for a dry-weather pilot"
    _sign(run, keys, "sam", stage, rain, "--accept", "odd-gaps")
    _sign(run, keys, "lena", stage, "Apache-2.0 model, Apache-2.0 synthetic data")
    run("gate", "check", REF, "--to", stage)
    run("promote", REF, "--to", stage, actor="omar")


def _shadow(run: Run, console: Console, keys: Path, scratch: Path, out: Path) -> None:
    console.print(Panel.fit("Shadow: a deployment with a runbook; the gate runs beside the model."))
    runbook = out / "pilot-fleet-runbook.md"
    runbook.write_text(
        "# pilot-fleet runbook\n\n- On-call: fleet operations (omar), safety (sam).\n"
        "- Stop the model: `steward kill pilot-fleet --reason …` (every gate fails closed).\n"
        "- Roll back: `steward rollback pilot-fleet --reason …`.\n"
    )
    run("deployment", "add", "pilot-fleet", "--ring", "eu-highway-pilot", "--canary-share",
        "0.05", "--runbook", str(runbook), "--rollback-target", "none",
        "--kill-flag", str(scratch / "vehicles" / "pilot-fleet.kill"), actor="omar")  # fmt: skip
    stage, where = "shadow", ("--deployment", "pilot-fleet")
    _sign(run, keys, "omar", stage, "runbook and kill flag in place", *where)
    _sign(run, keys, "sam", stage, "envelope signed; ODD gaps unchanged", *where,
          "--accept", "odd-gaps")  # fmt: skip
    _sign(run, keys, "sid", stage, "provenance unchanged since offline validation", *where,
          "--accept", "provenance-gaps")  # fmt: skip
    run("promote", REF, "--to", stage, *where, actor="omar")
    console.print(
        Panel.fit(
            "In shadow the gate records every decision beside the model; operations turn the "
            "logs into release evidence (cycles, disagreement, fail-closed cycles)."
        )
    )
    logs = out / "shadow-logs"
    competent = out.parent / "driving" / "models" / "competent"
    run("gate", "demo", "--model-dir", str(competent), "--envelope",
        str(out / "competent.envelope.json"), "--key", str(out / "keys" / "release.pem.pub"),
        "--episodes", "6", "--seed", "7", "--log", str(logs), quiet=True)  # fmt: skip
    run("deployment", "observe", "pilot-fleet", "--log", str(logs), actor="omar")


def _canary(run: Run, console: Console, keys: Path, steward: str) -> None:
    console.print(Panel.fit("Canary: four roles sign the evidence as it stands now."))
    stage, where = "canary", ("--deployment", "pilot-fleet")
    _sign(run, keys, "sam", stage, "shadow disagreement within the pilot threshold", *where,
          "--accept", "odd-gaps")  # fmt: skip
    _sign(run, keys, "omar", stage, "5% of the pilot fleet; on-call staffed", *where)
    _sign(run, keys, "priya", stage, "pilot customers informed", *where)
    _sign(run, keys, "sid", stage, "provenance unchanged", *where, "--accept", "provenance-gaps")
    run("gate", "check", REF, "--to", stage, *where)
    run("promote", REF, "--to", stage, *where, actor="omar")
    run("gate", "decisions", "--limit", "8")
    newest = _newest_decision(steward)
    console.print(Panel.fit("An auditor replays the canary decision: same input, same policy."))
    run("gate", "replay", newest[:19])


def _newest_decision(steward: str) -> str:
    done = subprocess.run(
        [steward, "gate", "decisions", "--limit", "1", "--json"],
        capture_output=True, text=True, check=True, env=dict(os.environ),
    )  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return str(rows[0]["decision_id"])


def _rollback_and_dossier(run: Run, console: Console, out: Path) -> None:
    console.print(
        Panel.fit(
            "The canary misbehaves: one command rolls the deployment back. With no earlier "
            "production release here (rollback target 'none'), the kill flag is raised so "
            "every gate running the model fails closed."
        )
    )
    run("rollback", "pilot-fleet", "--reason", "canary drivers report late braking",
        actor="omar")  # fmt: skip
    run("deployment", "show", "pilot-fleet")
    console.print(Panel.fit("The approval dossier, by EU AI Act Annex IV heading."))
    run("dossier", REF, "--out", str(out / "dossier"))
