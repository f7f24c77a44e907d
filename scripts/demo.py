"""`make demo`: Steward end to end, through the real `steward` command.

A fresh workspace (STEWARD_HOME, or a temporary folder). Model intake: a realistic Hugging Face
style snapshot is scanned, registered with its inventory record, lineage and supplier, aliased,
signed, verified, caught when tampered with, and described in a CycloneDX AI-BOM; a snapshot
carrying a malicious pickle is blocked without the pickle ever running. Then the ledger under all
of it: a signed checkpoint, an offline verification of an export, and the same verification
failing on a tampered copy, explained in plain words. Between them, data provenance: a partner
dataset with PII findings, a fine-tune run through `steward run exec`, its reproduction, and a
commercial licence review blocked by the non-commercial dataset, with the reason spelled out.
Then scenario evaluation: a reference driving stack is trained locally in highway-env, both
policies are registered and evaluated, the competent one is locked as baseline, the narrow one's
critical regressions stop `eval run` (exit 6), and the ODD gap register is printed. Then the
runtime safety gate: an envelope signed for the competent policy, the deployment attested (and a
swapped weights file caught), the closed-loop comparison with and without the gate, a kill-switch
activation, and a counterfactual replay of the recorded decisions against a tighter envelope.
Then the release workflow (scripts/demo_release.py): people and roles, the policy pack and its
tests, a refused promotion and a refused self-sign-off, the competent policy taken from registered
to canary with sign-offs from five people, a decision replayed, a rollback, and the dossier.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from demo_release import release_workflow
from rich.console import Console
from rich.panel import Panel

from modelsteward.evaluation.guarded import reference_envelope, write_reference_envelope
from modelsteward.testing import (
    make_hf_snapshot,
    write_drive_logs,
    write_finetune_script,
    write_malicious_pickle,
)

console = Console(highlight=False)
STEWARD = str(Path(sys.executable).with_name("steward"))


def run(
    *args: str, expect: int = 0, actor: str | None = None, quiet: bool = False
) -> subprocess.CompletedProcess[str]:
    """Show and run one steward command (as ``actor``, if given); stop the demo if its exit
    code is unexpected. ``quiet`` shows only the command line and errors."""
    who = f"STEWARD_ACTOR={actor} " if actor else ""
    console.print(f"\n[bold cyan]$ {who}steward {' '.join(args)}[/]")
    env = {**os.environ, "STEWARD_ACTOR": actor} if actor else None
    done = subprocess.run([STEWARD, *args], capture_output=True, text=True, check=False, env=env)
    if not quiet or done.returncode != expect:
        sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    if done.returncode != expect:
        console.print(f"[red]demo stopped: exit code {done.returncode}, expected {expect}[/]")
        sys.exit(1)
    if expect:
        console.print(f"[dim](exit code {done.returncode}, as expected)[/]")
    return done


def tamper(src: Path, dst: Path) -> tuple[int, str, str]:
    """Copy an export, changing the licence recorded at the first model registration, as an
    insider hiding a licence problem would."""
    lines = src.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    entries = [json.loads(base64.b64decode(r["entry"])) for r in records]
    index = next(i for i, e in enumerate(entries) if e["kind"] == "model.registered")
    record, entry = records[index], entries[index]
    before = entry["payload"]["license_name"]
    entry["payload"]["license_name"] = "apache-2.0"
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    record["entry"] = base64.b64encode(body.encode()).decode()
    lines[index] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    dst.write_text("\n".join(lines) + "\n")
    return entry["seq"], before, "apache-2.0"


MODEL = "nvidia/alpamayo-mini"
REVISION = "3f1c9a7e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f01"
BASE_CARD = """---
license: apache-2.0
pipeline_tag: image-text-to-text
library_name: transformers
---
# Cosmos-Reason1-7B (demo stand-in)
"""


def model_intake(scratch: Path, out: Path) -> None:
    """Register, inspect, sign, verify, tamper, block, and describe a model."""
    console.print(Panel.fit("Model intake: a community snapshot becomes an auditable record."))
    snap = make_hf_snapshot(scratch / "Alpamayo-Mini", hidden=512)
    run("scan", str(snap))
    run(
        "model", "add", str(snap), "--name", MODEL,
        "--source", "https://huggingface.co/nvidia/Alpamayo-Mini", "--revision", REVISION,
        "--steward", "safety-lead@example.com", "--tier", "controlled-pilot",
        "--prohibited-use", "public roads without a safety driver",
    )  # fmt: skip
    run("model", "lineage", MODEL)
    console.print(
        "[dim]The base model is not registered yet: an unresolved ancestor. "
        "Register it and the edge resolves.[/]"
    )
    base = make_hf_snapshot(scratch / "Cosmos-Reason1-7B", card=BASE_CARD, seed=1)
    run(
        "model", "add", str(base), "--name", "nvidia/cosmos-reason1",
        "--source", "https://huggingface.co/nvidia/Cosmos-Reason1-7B", "--revision", "v1.0",
        "--steward", "platform@example.com",
    )  # fmt: skip
    run("model", "lineage", MODEL)
    run("model", "alias", f"{MODEL}@candidate", f"{MODEL}@1")
    run("model", "show", f"{MODEL}@candidate")

    key = out / "keys" / "release.pem"
    run("keys", "new", "--out", str(key))
    sig = out / "alpamayo-mini.sig"
    run("model", "sign", f"{MODEL}@candidate", "--key", str(key), "--out", str(sig))
    run("model", "verify", MODEL, str(snap), "--signature", str(sig), "--public-key", f"{key}.pub")
    reference_verify(snap, sig, Path(f"{key}.pub"))

    tampered = scratch / "Alpamayo-Mini-tampered"
    shutil.copytree(snap, tampered)
    shard = tampered / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte deep inside the weights
    shard.write_bytes(bytes(data))
    (tampered / "tokenizer_config.json").unlink()
    console.print(Panel.fit("A copy with one flipped byte in a shard and a missing file:"))
    run("model", "verify", MODEL, str(tampered), expect=7)

    evil = scratch / "Alpamayo-Mini-repack"
    shutil.copytree(snap, evil)
    marker = scratch / "PWNED"
    write_malicious_pickle(evil / "training_args.bin", marker)
    console.print(Panel.fit("A 'repack' carrying a pickle whose __reduce__ calls os.system:"))
    run("scan", str(evil), expect=6)
    run("model", "add", str(evil), "--name", "community/alpamayo-repack", expect=6)
    console.print(
        f"[bold]The pickle never ran:[/] {marker.name} exists? {marker.exists()}. The repack is "
        "registered as BLOCKED: it can be inspected, never aliased, signed or promoted."
    )
    run("model", "list")
    run("supplier", "list")
    bom = out / "alpamayo-mini.cdx.json"
    run("bom", MODEL, "--format", "cyclonedx", "--out", str(bom))
    document = json.loads(bom.read_text())
    model = document["metadata"]["component"]
    console.print(
        f"AI-BOM: CycloneDX {document['specVersion']} {model['type']} "
        f"{model['name']} with {len(model.get('components', []))} pinned files, "
        f"{len(model['pedigree']['ancestors'])} ancestor(s), "
        f"{sum(c['type'] == 'data' for c in document.get('components', []))} dataset(s); "
        "validated against the official schema."
    )


CURATION = """inclusion:
  - rule: fleet in (partner-a, partner-b) and road in (motorway, urban, rural)
    reason: only vehicles under the data-sharing contract
exclusion:
  - rule: speed_mps > 60 or gap_m < 0
    reason: sensor glitches (physically impossible values)
    removed: 37
  - rule: frames within 200 m of a depot
    reason: depot yards are private property, outside the ODD
    removed: 1204
"""
ODD_TAGS = """scenery.road_type: [motorway, urban, rural]
environment.weather: [clear, rain]
dynamic.lead_vehicle: [present, absent]
"""


def data_provenance(scratch: Path, out: Path) -> None:
    """A partner dataset with PII, a fine-tune through `run exec`, its reproduction, and the
    licence review that a non-commercial dataset blocks."""
    console.print(Panel.fit("Data provenance: what shaped the model, under which terms."))
    logs = write_drive_logs(scratch / "partner-drive-logs").parent
    (scratch / "curation.yaml").write_text(CURATION)
    (scratch / "odd.yaml").write_text(ODD_TAGS)
    run(
        "dataset", "add", str(logs), "--name", "partner-drive-logs",
        "--license", "CC-BY-NC-4.0", "--tier", "partner", "--consent", "contract",
        "--collected", "2026-06-01..2026-08-31", "--geography", "DE,AT",
        "--retention-days", "730", "--source", "Partner fleet export 2026-Q3 (contract FL-118)",
        "--exclusions", str(scratch / "curation.yaml"), "--odd-tags", str(scratch / "odd.yaml"),
        "--source-column", "fleet",
    )  # fmt: skip
    run("dataset", "list")
    run("dataset", "card", "partner-drive-logs", "--out", str(out / "dataset-card"))

    code = scratch / "brake-head-code"
    script = write_finetune_script(code / "train.py")
    config = code / "config.json"
    config.write_text(json.dumps({"epochs": 300, "learning_rate": 0.2}))
    console.print(Panel.fit("A fine-tune of the registered base model, run by Steward:"))
    run(
        "run", "exec", "--name", "acme/brake-head", "--base", "nvidia/cosmos-reason1",
        "--data", "partner-drive-logs", "--config", str(config), "--seed", "7",
        "--workdir", str(code), "--metrics", "metrics.json", "--tolerance", "accuracy=0.005",
        "--output", str(scratch / "brake-head"), "--", sys.executable, str(script),
    )  # fmt: skip
    run("model", "show", "acme/brake-head")
    run("run", "reproduce", "acme/brake-head")
    console.print(Panel.fit("Licence review along the lineage, for research and for a product:"))
    run("license", "review", "acme/brake-head", "--use", "research")
    run("license", "review", "acme/brake-head", "--use", "commercial",
        "--distribution", "product", expect=6)  # fmt: skip
    console.print(
        "[bold]Blocked:[/] the partner logs are CC-BY-NC-4.0, and the fine-tune inherits the "
        "non-commercial clause through its training run. Legal can record a decision (say, a "
        "commercial licence bought from the partner) with `steward license approve`; it binds "
        "to this exact lineage and is void if the lineage changes."
    )


DIMENSIONS = (
    "dynamic_elements.traffic_density,dynamic_elements.lead_vehicle,"
    "dynamic_elements.cut_in,environment.weather"
)


def evaluation(scratch: Path, out: Path) -> None:
    """Reference driving stack: train two policies, evaluate, lock a baseline, find
    regressions, and show the ODD gap register."""
    console.print(
        Panel.fit(
            "Scenario evaluation: two driving policies trained here in highway-env — a competent "
            "one and a narrow one that only saw light four-lane traffic."
        )
    )
    stack = scratch / "driving"
    run("examples", "driving", "--out", str(stack))
    odd, suite = str(stack / "odd.yaml"), str(stack / "scenarios")
    run("scenarios", "check", suite, "--odd", odd)
    for name in ("competent", "narrow"):
        run(
            "model", "add", str(stack / "models" / name), "--name", f"reference/{name}-policy",
            "--steward", "safety-lead@example.com", "--tier", "controlled-pilot",
        )  # fmt: skip
    data = stack / "datasets"
    run(
        "dataset", "add", str(data / "steward-highway-demonstrations"),
        "--name", "steward-highway-demonstrations", "--license", "Apache-2.0",
        "--tier", "synthetic", "--consent", "not-personal-data", "--collected", "2026-11-22",
        "--geography", "GLOBAL", "--retention-days", "3650",
        "--source", "steward examples driving (highway-env teacher demonstrations)",
        "--odd-tags", str(data / "steward-highway-demonstrations.odd-tags.yaml"),
    )  # fmt: skip
    run(
        "eval", "baseline", "reference/competent-policy@1", "--suite", suite, "--odd", odd,
        "--name", "highway-pilot",
    )  # fmt: skip
    console.print(
        "[dim]The competent policy's behaviour is now the baseline. The narrow one is "
        "evaluated against it: every S2/S3 scenario that passed before and fails now is a "
        "critical regression.[/]"
    )
    run(
        "eval", "run", "reference/narrow-policy@1", "--suite", suite, "--odd", odd,
        "--against", "highway-pilot", "--out", str(out / "eval-narrow"), expect=6,
    )  # fmt: skip
    run("eval", "list")
    console.print(Panel.fit("ODD coverage of the competent policy: where is the evidence thin?"))
    run(
        "odd", "coverage", "--odd", odd, "--suite", suite,
        "--model", "reference/competent-policy@1", "--dataset", "steward-highway-demonstrations",
        "--dimensions", DIMENSIONS, "--top", "10", "--out", str(out / "coverage"),
    )  # fmt: skip
    console.print(
        "[bold]Reading the register:[/] rain is in the ODD but neither the simulator nor the "
        "training data covers it, so every rain cell is a gap, ranked by the severity × exposure "
        "of its nearest scenarios. HTML reports: "
        f"{out / 'eval-narrow' / 'report.html'} and {out / 'coverage' / 'coverage.html'}."
    )


def runtime_gate(scratch: Path, out: Path) -> None:
    """Sign an envelope for the reference policy, attest the deployment, drive with and without
    the gate, pull the kill switch, and replay the decisions against a tighter candidate."""
    console.print(
        Panel.fit(
            "Runtime safety gate: the model proposes, the gate disposes. A signed envelope binds "
            "the limits to the policy's digest; the gate checks every proposal against it."
        )
    )
    stack, key = scratch / "driving", out / "keys" / "release.pem"
    envelope = out / "highway-envelope.yaml"
    write_reference_envelope(envelope)
    document = reference_envelope()
    signed, public = str(out / "competent.envelope.json"), f"{key}.pub"
    run("envelope", "sign", str(envelope), "--key", str(key),
        "--model", "reference/competent-policy@1", "--out", signed)  # fmt: skip
    run("envelope", "show", signed, "--key", public)
    competent = stack / "models" / "competent"
    run("gate", "attest", "--envelope", signed, "--model-dir", str(competent), "--key", public)
    swapped = scratch / "competent-swapped"
    shutil.copytree(competent, swapped)
    shutil.copy(stack / "models" / "narrow" / "policy.onnx", swapped / "policy.onnx")
    console.print(Panel.fit("Someone deploys the narrow policy's weights in the competent folder:"))
    run("gate", "attest", "--envelope", signed, "--model-dir", str(swapped), "--key", public,
        expect=7)  # fmt: skip
    console.print(
        Panel.fit(
            "Closed loop, same seeded episodes with and without the gate; the kill switch "
            "is pulled 40 cycles into the first gated episode."
        )
    )
    logs = out / "gate-logs"
    run("gate", "demo", "--model-dir", str(competent), "--envelope", signed, "--key", public,
        "--episodes", "8", "--log", str(logs), "--kill-after", "40")  # fmt: skip
    run("gate", "demo", "--model-dir", str(stack / "models" / "narrow"), "--episodes", "8")
    candidate = out / "highway-envelope-candidate.yaml"
    document["ttc"]["min_s"] = float(document["ttc"]["min_s"]) + 1.0
    document["confidence"]["min"] = min(0.95, float(document["confidence"]["min"]) + 0.2)
    candidate.write_text(yaml.safe_dump(document, sort_keys=False))
    console.print(
        Panel.fit(
            "Before tightening the envelope (TTC floor +1 s, confidence +0.2), replay the "
            "recorded decisions against the candidate: which vetoes would it add?"
        )
    )
    run("gate", "replay", str(logs), "--envelope", str(candidate))


def reference_verify(snap: Path, sig: Path, public_key: Path) -> None:
    """The OpenSSF reference verifier checks Steward's signature (when it is installed)."""
    try:
        import model_signing  # noqa: F401
    except ImportError:
        console.print(
            "[dim](model_signing not installed: `make test` installs it and the test "
            "suite checks that it verifies Steward's signatures)[/]"
        )
        return
    cmd = [sys.executable, "-m", "model_signing", "verify", "key", "--signature", str(sig),
           "--public_key", str(public_key), str(snap)]  # fmt: skip
    console.print(
        f"\n[bold cyan]$ model_signing verify key --signature … --public_key … {snap.name}[/]"
    )
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout + done.stderr)
    if done.returncode != 0:
        console.print("[red]demo stopped: the reference verifier rejected the signature[/]")
        sys.exit(1)


def main() -> None:
    home = os.environ.get("STEWARD_HOME")
    scratch = Path(tempfile.mkdtemp(prefix="steward-demo-"))
    if not home:
        home = str(scratch / "workspace")
        os.environ["STEWARD_HOME"] = home
    os.environ.setdefault("STEWARD_ACTOR", "dana")  # the ML platform engineer
    os.environ.setdefault("COLUMNS", "132")  # tables are readable when piped (make demo | less)
    out = scratch / "audit"
    out.mkdir()
    console.print(Panel.fit(f"Steward demo — workspace {home}", style="bold"))

    run("init")
    model_intake(scratch, out)
    data_provenance(scratch, out)
    evaluation(scratch, out)
    runtime_gate(scratch, out)
    release_workflow(run, console, scratch, out, STEWARD)
    run("ledger", "note", "Intake queue reviewed: 3 community models awaiting scan")
    run("ledger", "note", "Safety review of alpamayo-r1 found 2 open hazards")
    run("ledger", "note", "Legal flagged dataset licence CC-BY-NC-4.0 for commercial use")
    run("ledger", "tail", "-n", "5")
    run("ledger", "checkpoint", "--out", str(out / "checkpoint.txt"))
    run("ledger", "public-key", "--out", str(out / "ledger.vkey"))
    run("ledger", "export", "--out", str(out / "entries.jsonl"))

    console.print(Panel.fit("The auditor verifies offline: no database, only the public key."))
    offline = ["--checkpoint", str(out / "checkpoint.txt"), "--key", str(out / "ledger.vkey")]
    run("ledger", "verify", "--entries", str(out / "entries.jsonl"), *offline)
    run("ledger", "prove", "2", "--out", str(out / "proof-2.json"))
    run("ledger", "verify-proof", str(out / "proof-2.json"), "--key", str(out / "ledger.vkey"))

    seq, before, after = tamper(out / "entries.jsonl", out / "entries-tampered.jsonl")
    console.print(
        Panel.fit(
            f"Someone edits the model registration at seq {seq} in a copy of the export:\n"
            f"  licence was: {before!r}\n  now:         {after!r}"
        )
    )
    run("ledger", "verify", "--entries", str(out / "entries-tampered.jsonl"), *offline, expect=11)
    console.print(
        "\n[bold]What this means:[/] the edited entry no longer hashes to the Merkle root that "
        "the workspace key signed in the checkpoint, so the export cannot be the ledger Steward "
        "recorded. Exit code 11 (root-mismatch) says exactly that; the untouched export still "
        "verifies."
    )
    run("ledger", "verify")
    console.print(f"\nAudit files are in {out}")
    if not os.environ.get("STEWARD_DEMO_KEEP"):
        shutil.rmtree(scratch / "workspace", ignore_errors=True)


if __name__ == "__main__":
    main()
