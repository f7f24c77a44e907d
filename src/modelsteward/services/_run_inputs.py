"""Resolving, verifying and materialising a run's inputs, and executing its command.

Private to the runs service: both ``run exec`` and ``run reproduce`` go through here, so a
reproduction sees exactly the same set-up as the original run (same files, re-hashed; the same
config bytes, from the blob store; the same seed and environment variables).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from modelsteward.artifacts.manifest import hash_model
from modelsteward.data.records import DatasetSnapshot
from modelsteward.errors import InvalidInput, NotFound, PolicyDenied
from modelsteward.registry.records import ModelStatus, ModelVersion
from modelsteward.training.environment import code_revision
from modelsteward.training.records import RunInput, TrainingRun
from modelsteward.types import Digest

__all__ = [
    "OnBytes",
    "ResolvedInputs",
    "check_code",
    "code_input",
    "check_not_expired",
    "execute",
    "locate_verified",
    "write_inputs_file",
]

OnBytes = Callable[[int], None] | None


@dataclass(frozen=True)
class ResolvedInputs:
    """Verified inputs of a run, with the folders that hold them."""

    base: ModelVersion
    base_path: Path
    datasets: tuple[tuple[DatasetSnapshot, Path], ...]
    config_path: Path | None
    config_digest: str | None
    code: RunInput | None

    def as_run_inputs(self) -> tuple[RunInput, ...]:
        """The inputs as the run record and provenance statement list them."""
        items = [
            RunInput("base-model", self.base.ref, str(self.base.digest), _model_license(self.base))
        ]
        items += [RunInput("dataset", d.name, str(d.digest), d.license) for d, _ in self.datasets]
        if self.config_path is not None and self.config_digest:
            items.append(RunInput("config", self.config_path.name, self.config_digest))
        if self.code is not None:
            items.append(self.code)
        return tuple(items)


def _model_license(version: ModelVersion) -> str | None:
    return version.license_name if version.license == "other" else version.license


def check_base(version: ModelVersion) -> None:
    """A blocked model (unsafe or unaccepted files) is never trained on."""
    if version.status == ModelStatus.BLOCKED:
        raise PolicyDenied(
            f"base model {version.ref} is blocked: "
            f"{', '.join(version.scan.get('blocking', []))} failed scanning",
            hint="a blocked version can be inspected but never used",
        )


def check_not_expired(snapshot: DatasetSnapshot, today: date | None = None) -> None:
    """An expired dataset cannot be used in a run."""
    if snapshot.expired(today):
        raise PolicyDenied(
            f"dataset {snapshot.name!r} expired on {snapshot.expires_on} "
            f"(collected until {snapshot.collected_to}, retention {snapshot.retention_days} days)",
            hint="expired data may not be used in new runs; register a fresh snapshot",
        )


def locate_verified(
    what: str, digest: Digest, candidates: Sequence[Path], on_bytes: OnBytes = None
) -> Path:
    """The first folder among ``candidates`` whose files hash to ``digest`` (fail closed)."""
    tried, gone = [], []
    for path in candidates:
        if not path.exists():
            gone.append(str(path))
            continue
        actual = hash_model(path, on_bytes=on_bytes).root_digest
        if actual == digest:
            return path
        tried.append(f"{path} (now {actual})")
    if not tried:
        where = f" (gone: {', '.join(gone)})" if gone else ""
        raise NotFound(
            f"no copy of {what} is known on this machine{where}",
            hint="give the folder that holds it (run exec/record: --base-path, --data-path "
            "NAME=DIR), or add the copy again (`steward model add` / `steward dataset add` on "
            "it) so Steward knows where it is",
        )
    raise PolicyDenied(
        f"the files of {what} no longer match {digest}: " + "; ".join(tried),
        hint="restore the registered files or register the changed content as a new version",
    )


def write_inputs_file(
    folder: Path, run_id: str, seed: int | None, output: Path, inputs: ResolvedInputs
) -> Path:
    """``STEWARD_INPUTS``: the resolved inputs as JSON, for the command to read."""
    data: dict[str, Any] = {
        "run_id": run_id,
        "seed": seed,
        "output_dir": str(output),
        "base_model": {
            "ref": inputs.base.ref,
            "digest": str(inputs.base.digest),
            "path": str(inputs.base_path),
            "license": _model_license(inputs.base),
        },
        "datasets": [
            {
                "name": d.name,
                "digest": str(d.digest),
                "path": str(path),
                "license": d.license,
                "tier": d.tier.value,
            }
            for d, path in inputs.datasets
        ],
        "config": (
            {"path": str(inputs.config_path), "digest": inputs.config_digest}
            if inputs.config_path
            else None
        ),
        "code": {"repository": inputs.code.name, "revision": inputs.code.digest}
        if inputs.code
        else None,
    }
    target = folder / "steward-inputs.json"
    target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def execute(
    command: Sequence[str],
    *,
    workdir: Path,
    run_id: str,
    seed: int | None,
    output: Path,
    inputs_file: Path,
    config_path: Path | None,
    stdout_to_stderr: bool = False,
) -> int:
    """Run the command with the Steward variables set; its output goes to the terminal (to
    stderr when Steward's own stdout carries JSON)."""
    env = dict(os.environ)
    env.update(
        STEWARD_RUN_ID=run_id,
        STEWARD_OUTPUT_DIR=str(output),
        STEWARD_INPUTS=str(inputs_file),
    )
    if seed is not None:
        env["STEWARD_SEED"] = str(seed)
        env["PYTHONHASHSEED"] = str(seed)
    if config_path is not None:
        env["STEWARD_CONFIG"] = str(config_path)
    try:
        done = subprocess.run(
            list(command),
            cwd=workdir,
            env=env,
            check=False,
            stdout=sys.stderr if stdout_to_stderr else None,
        )
    except FileNotFoundError as exc:
        raise InvalidInput(
            f"cannot run {command[0]!r}: {exc.strerror}",
            hint="give the command after --, e.g. -- python train.py",
        ) from exc
    except PermissionError as exc:
        raise InvalidInput(f"cannot run {command[0]!r}: permission denied") from exc
    return done.returncode


def _code_digest(workdir: Path, output: Path | None) -> str:
    """Content digest of the working folder (no git): its files, minus the run's output and
    Python byte-code caches."""
    ignore = [p.relative_to(workdir).as_posix() for p in workdir.rglob("__pycache__")]
    if output is not None and output.is_relative_to(workdir) and output != workdir:
        ignore.append(output.relative_to(workdir).as_posix())
    return str(hash_model(workdir, ignore=ignore).root_digest)


def code_input(
    declared: str | None, workdir: Path, output: Path | None
) -> tuple[RunInput, list[str]]:
    """The code a run executes: the git commit of the working folder, or (outside git) the
    content digest of the folder, labelled with the declared revision."""
    commit, dirty, repository = code_revision(workdir)
    if commit:
        if declared and not commit.startswith(declared):
            raise InvalidInput(
                f"--code-rev {declared} but {workdir} is at git commit {commit}",
                hint="check out the revision you mean, or leave --code-rev out",
            )
        gaps = ["code: the work tree had uncommitted changes"] if dirty else []
        return RunInput("code", repository or str(workdir), f"git:{commit}"), gaps
    label = f"{declared} ({workdir})" if declared else str(workdir)
    return RunInput("code", label, _code_digest(workdir, output)), []


def check_code(run: TrainingRun, workdir: Path) -> None:
    """Reproduction runs the same code: the same commit, or the same folder content."""
    recorded = next((i for i in run.inputs if i.role == "code"), None)
    if recorded is None:
        return
    if recorded.digest.startswith("git:"):
        commit, _, _ = code_revision(workdir)
        wanted = recorded.digest.removeprefix("git:")
        if commit != wanted:
            raise PolicyDenied(
                f"the code in {workdir} is at {commit or 'no git commit'}, "
                f"but run {run.id} used {wanted}",
                hint=f"check out {wanted} in {workdir} before reproducing",
            )
        return
    actual = _code_digest(workdir, Path(run.output_dir) if run.output_dir else None)
    if actual != recorded.digest:
        raise PolicyDenied(
            f"the code in {workdir} changed since run {run.id} ({recorded.digest} → {actual})",
            hint="restore the code the run used before reproducing",
        )
