"""Run the real `steward` command in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

STEWARD = str(Path(sys.executable).with_name("steward"))


def steward(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``steward ARGS`` with STEWARD_HOME=home; never raises on a non-zero exit."""
    full_env = {
        **os.environ,
        "STEWARD_HOME": str(home),
        "STEWARD_ACTOR": "cli-tester",
        **(env or {}),
    }
    return subprocess.run(
        [STEWARD, *args], capture_output=True, text=True, env=full_env, check=False, timeout=120
    )


def ledger_size(home: Path) -> int:
    """Entries in the workspace ledger."""
    done = steward(home, "ledger", "tail", "-n", "1", "--json")
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout)[-1]["seq"]) + 1
