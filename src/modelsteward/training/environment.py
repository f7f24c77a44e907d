"""Capture the environment a run executes in: interpreter, installed packages, hardware, code.

When the command is a Python interpreter (``python train.py``), the packages are those of *that*
interpreter, asked in a subprocess; otherwise they are Steward's own interpreter's, and the
capture says so.

>>> env = capture_environment(["true"])
>>> sorted(env)[:3]
['hardware', 'interpreter', 'packages']
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["capture_environment", "code_revision"]

_PROBE = (
    "import json, platform, sys, importlib.metadata as m\n"
    "pkgs = sorted({f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions()"
    " if d.metadata['Name']}, key=str.lower)\n"
    "print(json.dumps({'version': sys.version.split()[0], 'implementation':"
    " platform.python_implementation(), 'executable': sys.executable, 'packages': pkgs}))\n"
)


def _hardware() -> dict[str, Any]:
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not every platform exposes it
        memory = None
    gpus: list[str] = []
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            gpus = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            gpus = []
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "memory_bytes": memory,
        "gpus": gpus,
        "os": platform.platform(),
    }


def _interpreter(command: Sequence[str], env: Mapping[str, str] | None) -> dict[str, Any]:
    first = shutil.which(command[0], path=(env or os.environ).get("PATH")) if command else None
    if first and Path(first).name.startswith("python"):
        try:
            out = subprocess.run(
                [first, "-c", _PROBE],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
                env=dict(env) if env is not None else None,
            )
            found: dict[str, Any] = json.loads(out.stdout)
            found["source"] = "the command's interpreter"
            return found
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    fallback: dict[str, Any] = json.loads(out.stdout)
    fallback["source"] = "steward's interpreter (the command is not a Python interpreter)"
    return fallback


def capture_environment(
    command: Sequence[str], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Interpreter, packages (``name==version``), hardware — JSON-safe and sorted."""
    interpreter = _interpreter(command, env)
    packages = interpreter.pop("packages", [])
    return {"interpreter": interpreter, "packages": packages, "hardware": _hardware()}


def code_revision(workdir: Path) -> tuple[str | None, bool | None, str | None]:
    """``(commit, dirty, repository root)`` when ``workdir`` is in a git work tree."""
    git = shutil.which("git")
    if not git:
        return None, None, None

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                [git, "-C", str(workdir), *args],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if not commit:
        return None, None, None
    status = run("status", "--porcelain", "--untracked-files=no")
    return commit, bool(status), run("rev-parse", "--show-toplevel")
