"""``steward run reproduce``: re-execute a run on the same verified inputs and compare outputs.

The command runs in a fresh temporary output folder with the same run id, seed, config bytes
and input folders (re-hashed first); the code must be at the recorded commit. The outcome —
``bit-exact``, ``within-tolerance`` (files differ, every declared metric within its tolerance),
``mismatch`` or ``failed`` — is recorded in the ledger whatever it is.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from modelsteward.artifacts.manifest import ModelManifest, hash_model
from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.services._run_inputs import (
    ResolvedInputs,
    check_code,
    check_not_expired,
    execute,
    write_inputs_file,
)
from modelsteward.services.intake import IntakeProgress
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlRuns
from modelsteward.training.records import Outcome, Reproduction, TrainingRun, compare_metrics
from modelsteward.types import format_time, utc_now

if TYPE_CHECKING:
    from modelsteward.services.runs import RunService

__all__ = ["reproduce_run"]


def _inputs(
    service: RunService, run: TrainingRun, scratch: Path, on_bytes: IntakeProgress
) -> ResolvedInputs:
    if run.base is None:
        raise InvalidInput(f"run {run.id} recorded no base model")
    base = service.models.get(run.base.digest)
    snapshots = [service.datasets.get(d.digest) for d in run.datasets]
    for snapshot in snapshots:
        check_not_expired(snapshot)
    base_path, datasets = service.verify_folders(base, snapshots, on_bytes.on_bytes)
    config_path, config_digest = service.materialise_config(None, scratch, run.config_blob)
    code = next((i for i in run.inputs if i.role == "code"), None)
    return ResolvedInputs(base, base_path, datasets, config_path, config_digest, code)


def reproduce_run(
    service: RunService,
    ref: str,
    *,
    keep: bool = False,
    progress: IntakeProgress | None = None,
    stdout_to_stderr: bool = False,
) -> tuple[Reproduction, Path | None]:
    """Re-execute the run ``ref`` names, compare, record; returns the outcome and (with
    ``keep``) the folder holding the reproduced output."""
    progress = progress or IntakeProgress()
    run = service.get(ref)
    if not run.command:
        raise InvalidInput(
            f"run {run.id} recorded no command, so it cannot be re-executed",
            hint="record runs with their command: steward run record … -- COMMAND",
        )
    workdir = Path(run.workdir or ".")
    if not workdir.is_dir():
        raise InvalidInput(f"run {run.id} ran in {workdir}, which no longer exists")
    check_code(run, workdir)
    output = Path(tempfile.mkdtemp(prefix="steward-repro-"))
    started = format_time(utc_now())
    try:
        with tempfile.TemporaryDirectory(prefix="steward-run-") as tmp:
            resolved = _inputs(service, run, Path(tmp), progress)
            inputs_file = write_inputs_file(Path(tmp), run.id, run.seed, output, resolved)
            exit_code = execute(
                run.command,
                workdir=workdir,
                run_id=run.id,
                seed=run.seed,
                output=output,
                inputs_file=inputs_file,
                config_path=resolved.config_path,
                stdout_to_stderr=stdout_to_stderr,
            )
        reproduction = _compare(service, run, output, exit_code, started)
        _record(service, reproduction)
    finally:
        if not keep:
            shutil.rmtree(output, ignore_errors=True)
    return reproduction, (output if keep else None)


def _compare(
    service: RunService, run: TrainingRun, output: Path, exit_code: int, started: str
) -> Reproduction:
    finished = format_time(utc_now())
    common = {
        "run_id": run.id,
        "exit_code": exit_code,
        "started_at": started,
        "finished_at": finished,
        "reproduced_by": service.actor,
    }
    if exit_code != 0:
        return Reproduction(outcome=Outcome.FAILED, output_digest=None, **common)  # type: ignore[arg-type]
    if not any(output.iterdir()):
        return Reproduction(outcome=Outcome.FAILED, output_digest=None, **common)  # type: ignore[arg-type]
    version = service.models.get(str(run.output_digest))
    recorded = ModelManifest.from_dict(
        json.loads(service.workspace.blobs.get(version.manifest_blob))
    )
    actual = hash_model(output)
    diff = recorded.diff(actual)
    metrics: dict[str, float] = {}
    problems: list[str] = []
    if run.metrics_file:
        from modelsteward.services.runs import _read_metrics

        try:
            metrics = _read_metrics(output, run.metrics_file)
        except InvalidInput as exc:
            problems.append(exc.message)
        if not problems:
            problems = compare_metrics(run.metrics, metrics, run.tolerances)
    if diff.clean:
        outcome = Outcome.BIT_EXACT
    elif run.tolerances and not problems and not diff.missing and not diff.extra:
        outcome = Outcome.WITHIN_TOLERANCE
    else:
        outcome = Outcome.MISMATCH
    return Reproduction(
        outcome=outcome,
        output_digest=str(actual.root_digest),
        changed=diff.changed,
        missing=diff.missing,
        extra=diff.extra,
        metric_problems=tuple(problems),
        metrics=metrics,
        **common,  # type: ignore[arg-type]
    )


def _record(service: RunService, reproduction: Reproduction) -> None:
    with service.db.write() as conn:
        (entry,) = append_entries(
            SqlLedgerTxn(conn),
            [
                EntryDraft(
                    "run.reproduced",
                    service.actor,
                    f"run:{reproduction.run_id}",
                    reproduction.to_dict(),
                )
            ],
        )
        SqlRuns(conn).add_reproduction(entry.seq, reproduction)
