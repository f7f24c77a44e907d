"""Training-run use cases: execute or record a run, register its output, reproduce it.

A run's output folder becomes a model version (through the same intake as ``model add``); the run
record, the version and the ledger entries commit in one transaction. The run manifest is an
in-toto Statement with a SLSA Provenance v1 predicate, kept in the blob store.
"""

from __future__ import annotations

import builtins
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from modelsteward.data.records import DatasetSnapshot
from modelsteward.errors import CommandFailed, InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import ModelVersion, check_name
from modelsteward.services._run_inputs import (
    OnBytes,
    ResolvedInputs,
    check_base,
    check_not_expired,
    code_input,
    execute,
    locate_verified,
    write_inputs_file,
)
from modelsteward.services.datasets import DatasetService
from modelsteward.services.intake import (
    IntakeProgress,
    IntakeRequest,
    build_record,
    conflict_for_other_name,
    observation_for,
    register_version,
    scan_and_hash,
)
from modelsteward.services.models import ModelService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlDatasets, SqlLocations, SqlRuns, canonical_json
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.training.environment import capture_environment
from modelsteward.training.provenance import provenance_statement
from modelsteward.training.records import (
    Reproduction,
    RunKind,
    TrainingRun,
    is_run_id,
    new_run_id,
)
from modelsteward.types import Digest, format_time, utc_now

__all__ = ["RunRequest", "RunResult", "RunService"]


@dataclass(frozen=True)
class RunRequest:
    """``steward run exec`` / ``run record``: what went in and where the output is."""

    name: str
    base: str
    output: Path
    datasets: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    config: Path | None = None
    seed: int | None = None
    code_rev: str | None = None
    workdir: Path | None = None
    tier: str | None = None
    steward: str | None = None
    metrics_file: str | None = None  # JSON {name: number}, relative to the output folder
    tolerances: dict[str, float] = field(default_factory=dict)
    base_path: Path | None = None
    data_paths: dict[str, Path] = field(default_factory=dict)
    environment: dict[str, Any] | None = None  # run record: captured elsewhere
    started_at: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True)
class RunResult:
    """A recorded run and the version it produced."""

    run: TrainingRun
    version: ModelVersion
    created_version: bool


def _check(request: RunRequest, *, executing: bool) -> None:
    check_name(request.name)
    if executing and not request.command:
        raise InvalidInput("no command given", hint="put it after --, e.g. -- python train.py")
    if request.seed is not None and request.seed < 0:
        raise InvalidInput(f"--seed {request.seed} must be zero or more")
    if request.tolerances and not request.metrics_file:
        raise InvalidInput(
            "--tolerance needs --metrics FILE",
            hint="name the JSON file (inside the output folder) that holds the metrics",
        )
    if request.config is not None and not request.config.expanduser().is_file():
        raise InvalidInput(f"--config {request.config}: no such file")
    if request.workdir is not None and not request.workdir.is_dir():
        raise InvalidInput(f"working folder {request.workdir} does not exist")
    output = request.output.expanduser()
    if executing and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InvalidInput(
            f"--output {output} already exists and is not empty",
            hint="a run writes into a fresh folder, so nothing stale is registered",
        )
    for option, value in (("--started", request.started_at), ("--finished", request.finished_at)):
        if value is not None:
            _moment(option, value)
    if not executing and not output.is_dir():
        raise InvalidInput(f"--output {output}: no such folder", hint="the run's output folder")


def _moment(option: str, text: str) -> str:
    """An RFC 3339 timestamp with a zone → Steward's UTC form."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(
            f"{option} {text!r} is not an RFC 3339 time with a zone",
            hint="e.g. 2026-11-02T14:05:00Z",
        )
    return format_time(moment)


def _read_metrics(output: Path, metrics_file: str | None) -> dict[str, float]:
    if not metrics_file:
        return {}
    path = output / metrics_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"--metrics {metrics_file}: cannot read JSON from {path} ({exc})"
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()
    ):
        raise InvalidInput(f"--metrics {metrics_file}: expected an object of numbers")
    return {str(k): float(v) for k, v in sorted(data.items())}


class RunService:
    """Training and fine-tune runs of one workspace."""

    def __init__(self, models: ModelService, datasets: DatasetService, *, actor: str) -> None:
        self.models = models
        self.datasets = datasets
        self.db = models.db
        self.workspace = models.workspace
        self.actor = actor

    # -- inputs --------------------------------------------------------------------------------

    def _resolve(
        self, request: RunRequest, progress: IntakeProgress, scratch: Path
    ) -> ResolvedInputs:
        base = self.models.get(request.base)
        check_base(base)
        by_digest: dict[str, DatasetSnapshot] = {}
        for name in request.datasets:  # a name and a digest of one snapshot are one input
            snapshot = self.datasets.get(name)
            by_digest.setdefault(str(snapshot.digest), snapshot)
        snapshots = list(by_digest.values())
        for snapshot in snapshots:
            check_not_expired(snapshot)
        unknown = set(request.data_paths) - {s.name for s in snapshots}
        if unknown:
            raise InvalidInput(f"--data-path for {sorted(unknown)}: not an input of this run")
        base_path, verified = self.verify_folders(
            base,
            snapshots,
            progress.on_bytes,
            base_path=request.base_path,
            data_paths=request.data_paths,
        )
        config_path, config_digest = self.materialise_config(request.config, scratch)
        return ResolvedInputs(base, base_path, verified, config_path, config_digest, None)

    def verify_folders(
        self,
        base: ModelVersion,
        snapshots: Sequence[DatasetSnapshot],
        on_bytes: OnBytes,
        *,
        base_path: Path | None = None,
        data_paths: Mapping[str, Path] | None = None,
    ) -> tuple[Path, tuple[tuple[DatasetSnapshot, Path], ...]]:
        """Find and re-hash the base model's and every dataset's folder (fail closed).

        A folder given in ``base_path`` / ``data_paths`` (by dataset name) is the only
        candidate; otherwise every place the digest was registered, produced or verified.
        """
        with self.db.read() as conn:
            locations = SqlLocations(conn)
            base_candidates = [Path(p) for p in locations.locations(base.digest)]
            data_candidates = {
                s.name: [Path(p) for p in locations.locations(s.digest)] for s in snapshots
            }
        if base_path is not None:
            base_candidates = [base_path.expanduser().resolve()]
        found = locate_verified(f"base model {base.ref}", base.digest, base_candidates, on_bytes)
        verified = []
        for snapshot in snapshots:
            given = (data_paths or {}).get(snapshot.name)
            candidates = [given.expanduser().resolve()] if given else data_candidates[snapshot.name]
            verified.append(
                (
                    snapshot,
                    locate_verified(
                        f"dataset {snapshot.name}", snapshot.digest, candidates, on_bytes
                    ),
                )
            )
        return found, tuple(verified)

    def materialise_config(
        self, config: Path | None, scratch: Path, digest: str | None = None
    ) -> tuple[Path | None, str | None]:
        """Copy the config into the blob store and hand the command the stored bytes."""
        if config is None and digest is None:
            return None, None
        blobs = self.workspace.blobs
        if config is not None:
            stored = blobs.put(config.expanduser().read_bytes())
            name = config.name
        else:
            assert digest is not None
            stored = Digest.parse(digest)
            name = "config"
        target = scratch / "config" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blobs.get(stored))
        return target, str(stored)

    # -- exec and record -----------------------------------------------------------------------

    def exec(
        self,
        request: RunRequest,
        progress: IntakeProgress | None = None,
        *,
        stdout_to_stderr: bool = False,
    ) -> RunResult:
        """Run the command on verified inputs and register its output as model ``name``.

        Raises:
            InvalidInput: a bad option; nothing is recorded.
            PolicyDenied: an expired dataset, a blocked base model, or inputs whose files changed.
            CommandFailed: the command exited non-zero (recorded as ``run.failed``).
        """
        _check(request, executing=True)
        progress = progress or IntakeProgress()
        workdir = (request.workdir or Path.cwd()).resolve()
        output = request.output.expanduser().resolve()
        run_id = new_run_id()
        with tempfile.TemporaryDirectory(prefix="steward-run-") as tmp:
            scratch = Path(tmp)
            resolved = self._resolve(request, progress, scratch)
            code, gaps = code_input(request.code_rev, workdir, output)
            resolved = replace(resolved, code=code)
            inputs_file = write_inputs_file(scratch, run_id, request.seed, output, resolved)
            environment = capture_environment(request.command)
            output.mkdir(parents=True, exist_ok=True)
            started = format_time(utc_now())
            code_exit = execute(
                request.command,
                workdir=workdir,
                run_id=run_id,
                seed=request.seed,
                output=output,
                inputs_file=inputs_file,
                config_path=resolved.config_path,
                stdout_to_stderr=stdout_to_stderr,
            )
            finished = format_time(utc_now())
        if code_exit != 0:
            self._record_failure(run_id, request, resolved, code_exit, started)
            raise CommandFailed(
                f"run {run_id}: {' '.join(request.command)} exited with {code_exit}",
                hint="nothing was registered; the failure is in the ledger (run.failed)",
            )
        if not output.is_dir() or not any(output.iterdir()):
            self._record_failure(run_id, request, resolved, code_exit, started)
            raise CommandFailed(
                f"run {run_id}: the command wrote nothing to {output}",
                hint="write the model into $STEWARD_OUTPUT_DIR",
            )
        facts = _RunFacts(
            run_id, RunKind.EXEC, workdir, environment, started, finished, code_exit, tuple(gaps)
        )
        return self._register(request, resolved, facts, progress)

    def record(self, request: RunRequest, progress: IntakeProgress | None = None) -> RunResult:
        """Record a run executed elsewhere: same metadata, an existing output folder."""
        _check(request, executing=False)
        progress = progress or IntakeProgress()
        workdir = (request.workdir or Path.cwd()).resolve()
        with tempfile.TemporaryDirectory(prefix="steward-run-") as tmp:
            resolved = self._resolve(request, progress, Path(tmp))
            code, gaps = code_input(request.code_rev, workdir, request.output.resolve())
            resolved = replace(resolved, code=code)
        if request.environment is None:
            gaps.append("environment: not captured (give --environment FILE.json)")
        if not request.command:
            gaps.append("command: not recorded, so the run cannot be reproduced")
        facts = _RunFacts(
            new_run_id(),
            RunKind.RECORD,
            workdir,
            request.environment or {},
            _moment("--started", request.started_at) if request.started_at else None,
            _moment("--finished", request.finished_at) if request.finished_at else None,
            None,
            tuple(gaps),
        )
        return self._register(request, resolved, facts, progress)

    def _record_failure(
        self, run_id: str, request: RunRequest, resolved: ResolvedInputs, code: int, started: str
    ) -> None:
        payload = {
            "run": run_id,
            "name": request.name,
            "command": list(request.command),
            "exit_code": code,
            "started_at": started,
            "inputs": [i.__dict__ for i in resolved.as_run_inputs()],
        }
        with self.db.write() as conn:
            append_entries(
                SqlLedgerTxn(conn), [EntryDraft("run.failed", self.actor, f"run:{run_id}", payload)]
            )

    def _register(
        self,
        request: RunRequest,
        resolved: ResolvedInputs,
        facts: _RunFacts,
        progress: IntakeProgress,
    ) -> RunResult:
        output = request.output.expanduser().resolve()
        intake = IntakeRequest(
            path=output,
            name=request.name,
            tier=request.tier or resolved.base.tier.value,
            steward=request.steward,
        ).checked()
        manifest, report = scan_and_hash(intake, progress)
        metrics = _read_metrics(output, request.metrics_file)
        blobs = self.workspace.blobs
        manifest_blob = blobs.put(canonical_json(manifest.to_dict()).encode())
        scan_blob = blobs.put(canonical_json(report.to_dict()).encode())
        config_blob = resolved.config_digest
        with self.db.write() as conn:
            registry = SqlRegistry(conn)
            version = registry.by_digest(manifest.root_digest)
            created = version is None
            if version is not None and version.name != request.name:
                raise conflict_for_other_name(version, request.name)
            if version is None:
                version = build_record(
                    intake,
                    manifest,
                    report,
                    version=registry.next_version(request.name),
                    actor=self.actor,
                    blobs=(manifest_blob, scan_blob),
                )
                register_version(
                    registry, SqlLedgerTxn(conn), version, observation_for(manifest, version)
                )
            statement = provenance_statement(
                run_id=facts.run_id,
                subject=(version.ref, version.digest),
                command=request.command,
                seed=request.seed,
                inputs=resolved.as_run_inputs(),
                environment=facts.environment,
                started_at=facts.started,
                finished_at=facts.finished,
                kind=facts.kind.value,
                metrics=metrics,
            )
            run = TrainingRun(
                id=facts.run_id,
                kind=facts.kind,
                name=request.name,
                output=version.ref,
                output_digest=version.digest,
                inputs=resolved.as_run_inputs(),
                command=tuple(request.command),
                workdir=str(facts.workdir),
                seed=request.seed,
                code_rev=resolved.code.digest if resolved.code else None,
                environment=facts.environment,
                metrics=metrics,
                metrics_file=request.metrics_file,
                tolerances=dict(request.tolerances),
                started_at=facts.started,
                finished_at=facts.finished,
                exit_code=facts.exit_code,
                provenance_blob=str(blobs.put(canonical_json(statement).encode())),
                config_blob=config_blob,
                recorded_at=format_time(utc_now()),
                recorded_by=self.actor,
                gaps=facts.gaps,
                output_dir=str(output),
            )
            SqlRuns(conn).insert(run)
            locations = SqlLocations(conn)
            locations.note_location(
                resolved.base.digest, str(resolved.base_path), "model", run.recorded_at
            )
            for snapshot, folder in resolved.datasets:
                locations.note_location(snapshot.digest, str(folder), "dataset", run.recorded_at)
            locations.note_location(version.digest, str(output), "model", run.recorded_at)
            append_entries(
                SqlLedgerTxn(conn),
                [EntryDraft("run.recorded", self.actor, f"run:{run.id}", run.to_dict())],
            )
        return RunResult(run, version, created)

    # -- look-up -------------------------------------------------------------------------------

    def get(self, ref: str) -> TrainingRun:
        """A run by id, or the newest run that produced the model ``ref`` names."""
        if is_run_id(ref):
            with self.db.read() as conn:
                found = SqlRuns(conn).get(ref)
            if found is None:
                raise NotFound(f"no run {ref}", hint="run `steward run list`")
            return found
        version = self.models.get(ref)
        with self.db.read() as conn:
            runs = SqlRuns(conn).producing([str(version.digest)]).get(str(version.digest), [])
        if not runs:
            raise NotFound(
                f"no recorded run produced {version.ref}",
                hint="record it with `steward run record` (until then it is an untracked "
                "derivation if it claims a base model)",
            )
        return runs[-1]

    def list(self, *, name: str | None = None) -> builtins.list[TrainingRun]:
        """Every run, oldest first."""
        with self.db.read() as conn:
            return SqlRuns(conn).all(name=name)

    def reproductions(self, run_id: str) -> builtins.list[Reproduction]:
        """Attempts to reproduce a run."""
        with self.db.read() as conn:
            return SqlRuns(conn).reproductions(run_id)

    def reproduce(
        self,
        ref: str,
        *,
        keep: bool = False,
        progress: IntakeProgress | None = None,
        stdout_to_stderr: bool = False,
    ) -> tuple[Reproduction, Path | None]:
        """Re-execute a run and compare its output (see :mod:`.reproduction`)."""
        from modelsteward.services.reproduction import reproduce_run

        return reproduce_run(
            self, ref, keep=keep, progress=progress, stdout_to_stderr=stdout_to_stderr
        )

    def flags(self, version: ModelVersion) -> builtins.list[str]:
        """Provenance problems of a version: untracked derivation, expired training data."""
        with self.db.read() as conn:
            runs = SqlRuns(conn).producing([str(version.digest)]).get(str(version.digest), [])
            datasets = SqlDatasets(conn)
            expired = {
                d.name: snap.expires_on
                for run in runs
                for d in run.datasets
                if (snap := datasets.by_digest(Digest.parse(d.digest))) and snap.expired()
            }
        flags = []
        if version.base_models and not runs:
            flags.append(
                "untracked derivation: claims base model "
                + ", ".join(version.base_models)
                + " but no run that produced it is recorded"
            )
        flags += [
            f"trained on dataset {name!r}, which expired on {day}"
            for name, day in sorted(expired.items())
        ]
        return flags

    def provenance(self, run: TrainingRun) -> dict[str, Any]:
        """The run's in-toto statement."""
        data: dict[str, Any] = json.loads(
            self.workspace.blobs.get(Digest.parse(run.provenance_blob))
        )
        return data


@dataclass(frozen=True)
class _RunFacts:
    run_id: str
    kind: RunKind
    workdir: Path
    environment: dict[str, Any]
    started: str | None
    finished: str | None
    exit_code: int | None
    gaps: tuple[str, ...]
