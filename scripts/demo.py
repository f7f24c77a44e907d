"""`make demo`: the foundation end to end, through the real `steward` command.

A fresh workspace (STEWARD_HOME, or a temporary folder), a few recorded events, a signed
checkpoint, an offline verification of an export — and the same verification failing on a
tampered copy, explained in plain words.
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

from rich.console import Console
from rich.panel import Panel

console = Console(highlight=False)
STEWARD = str(Path(sys.executable).with_name("steward"))


def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    """Show and run one steward command; stop the demo if its exit code is unexpected."""
    console.print(f"\n[bold cyan]$ steward {' '.join(args)}[/]")
    done = subprocess.run([STEWARD, *args], capture_output=True, text=True, check=False)
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    if done.returncode != expect:
        console.print(f"[red]demo stopped: exit code {done.returncode}, expected {expect}[/]")
        sys.exit(1)
    if expect:
        console.print(f"[dim](exit code {done.returncode}, as expected)[/]")
    return done


def tamper(src: Path, dst: Path) -> str:
    """Copy an export, changing the text of the note at seq 2 as an insider would."""
    lines = src.read_text().splitlines()
    record = json.loads(lines[2])
    entry = json.loads(base64.b64decode(record["entry"]))
    before = entry["payload"]["text"]
    entry["payload"]["text"] = "approved by safety (no findings)"
    body = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    record["entry"] = base64.b64encode(body.encode()).decode()
    lines[2] = json.dumps(record, sort_keys=True, separators=(",", ":"))
    dst.write_text("\n".join(lines) + "\n")
    return before


def main() -> None:
    home = os.environ.get("STEWARD_HOME")
    scratch = Path(tempfile.mkdtemp(prefix="steward-demo-"))
    if not home:
        home = str(scratch / "workspace")
        os.environ["STEWARD_HOME"] = home
    os.environ.setdefault("STEWARD_ACTOR", "demo-auditor")
    out = scratch / "audit"
    out.mkdir()
    console.print(Panel.fit(f"Steward demo — workspace {home}", style="bold"))

    run("init")
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

    before = tamper(out / "entries.jsonl", out / "entries-tampered.jsonl")
    console.print(
        Panel.fit(
            "Someone edits seq 2 in a copy of the export:\n"
            f"  was: {before!r}\n  now: 'approved by safety (no findings)'"
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
