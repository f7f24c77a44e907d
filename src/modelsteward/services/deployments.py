"""Deployments: where releases run; observing them, rolling back, and the kill switch.

``kill`` writes the flag file the runtime gate's ``KillSwitch`` polls every cycle (JSON with a
``reason``), so the vehicles running the deployment fail closed on their next cycle; ``resume``
removes it. Both, and every other move, are ledger entries.
"""

from __future__ import annotations

import builtins
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelsteward.errors import Conflict, InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.release import DeploymentSpec, Stage, check_deployment_name, require
from modelsteward.services.gate import GateService
from modelsteward.services.models import ModelService
from modelsteward.services.people import PeopleService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.release_store import DeploymentRow, SqlRelease
from modelsteward.types import format_time, utc_now

__all__ = ["Deployment", "DeploymentService"]


@dataclass(frozen=True)
class Deployment:
    """A deployment, what runs there, and its history."""

    spec: DeploymentSpec
    release: str | None
    stage: str | None
    revision: int
    history: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            **self.spec.to_dict(),
            "release": self.release,
            "stage": self.stage,
            "revision": self.revision,
            "killed": Path(self.spec.kill_flag).exists(),
            "history": list(self.history),
        }


class DeploymentService:
    """Add, observe, roll back, kill and resume deployments."""

    def __init__(
        self, models: ModelService, people: PeopleService, gate: GateService, *, actor: str
    ) -> None:
        self.models = models
        self.db = models.db
        self.people = people
        self.gate = gate
        self.actor = actor

    def add(
        self,
        name: str,
        *,
        ring: str,
        canary_share: float,
        rollback_target: str,
        runbook: Path | None,
        kill_flag: Path | None,
    ) -> Deployment:
        """Declare a deployment (operations role)."""
        require("deployment.add", self.actor, self.people.acting())
        name = check_deployment_name(name)
        target = (
            "none"
            if rollback_target.strip().lower() == "none"
            else str(self.models.get(rollback_target).digest)
        )
        runbook_digest = None
        if runbook is not None:
            try:
                text = runbook.read_bytes()
            except OSError as exc:
                raise InvalidInput(f"--runbook {runbook}: {exc.strerror}") from exc
            if not text.strip():
                raise InvalidInput(f"--runbook {runbook} is empty", hint="say how to operate it")
        flag = kill_flag or self.models.workspace.home / "deployments" / f"{name}.kill"
        spec = DeploymentSpec.create(
            name, ring=ring, canary_share=canary_share, rollback_target=target,
            kill_flag=str(Path(flag).expanduser().absolute()),
        )  # fmt: skip
        with self.db.write() as conn:
            store = SqlRelease(conn)
            if store.deployment(name) is not None:
                raise Conflict(f"deployment {name!r} exists", hint="steward deployment show NAME")
            if runbook is not None:
                runbook_digest = str(self.models.workspace.blobs.put(text))
            spec = DeploymentSpec(**{**spec.to_dict(), "runbook": runbook_digest})
            self._append(conn, "deployment.added", name, spec.to_dict())
            store.add_deployment(spec.to_dict())
        return self.get(name)

    def get(self, name: str) -> Deployment:
        """One deployment with its history."""
        with self.db.read() as conn:
            store = SqlRelease(conn)
            row = store.deployment(name)
            if row is None:
                raise NotFound(f"no deployment named {name!r}", hint="steward deployment list")
            return _deployment(row, store.history(name))

    def list(self) -> builtins.list[Deployment]:
        """Every deployment."""
        with self.db.read() as conn:
            return [_deployment(row) for _, row in SqlRelease(conn).deployment_list()]

    def runbook(self, deployment: Deployment) -> str | None:
        """The runbook text, if one was given."""
        from modelsteward.types import Digest

        if deployment.spec.runbook is None:
            return None
        return self.models.workspace.blobs.get(Digest.parse(deployment.spec.runbook)).decode()

    # -- observation ---------------------------------------------------------------------------

    def observe(self, name: str, logs: builtins.list[Path]) -> dict[str, Any]:
        """Summarise the decision logs of the release running in ``name`` (shadow or canary)."""
        from modelsteward.telemetry.decisions import decision_files, read_decisions

        require("deployment.observe", self.actor, self.people.acting())
        current = self.get(name)
        if current.release is None or current.stage not in (Stage.SHADOW, Stage.CANARY):
            raise InvalidInput(
                f"{name} runs no release in shadow or canary (now: {current.stage or 'nothing'})",
                hint="promote a release there first; observations judge shadow and canary",
            )
        files = [f for location in logs for f in decision_files(location)]
        records = [r for r in read_decisions(files) if r["model_digest"] == current.release]
        if not records:
            raise InvalidInput(
                f"the logs hold no decisions of the release running in {name} ({current.release})",
                hint="give the folder the gate's recorder wrote for this release",
            )
        pinned = self.gate.pinned_batches()
        digests = sorted(_file_digest(f) for f in files)
        unpinned = [d for d in digests if d not in pinned]
        dropped = sum(pinned.get(d, 0) for d in digests)  # the ledger pinned each batch's drops
        summary = {
            "model_digest": current.release,
            "stage": current.stage,
            "cycles": len(records),
            "disagreement": round(sum(r["verdict"] != "accept" for r in records) / len(records), 6),
            "fail_closed": sum(r["mode"] == "FAIL_CLOSED" for r in records),
            "dropped": dropped,
            "batches": digests,
            "unpinned_batches": len(unpinned),
            "envelope_digest": sorted({str(r["envelope_digest"]) for r in records}),
        }
        with self.db.write() as conn:
            self._append(conn, "deployment.observed", name, summary)
        return summary

    # -- rollback and the kill switch ----------------------------------------------------------

    def rollback(self, name: str, reason: str) -> dict[str, Any]:
        """Return ``name`` to its previous production release (or its declared target)."""
        require("rollback", self.actor, self.people.acting())
        if not reason.strip():
            raise InvalidInput("--reason is empty", hint="say why you roll back")
        current = self.get(name)
        if current.release is None:
            raise InvalidInput(f"{name} runs nothing; there is nothing to roll back")
        previous = _previous_production(current)
        target = previous or (
            None if current.spec.rollback_target == "none" else current.spec.rollback_target
        )
        payload = {
            "from_release": current.release,
            "from_stage": current.stage,
            "to_release": target,
            "reason": reason.strip(),
        }
        with self.db.write() as conn:
            store = SqlRelease(conn)
            entry = self._append(conn, "deployment.rolled_back", name, payload)
            stage = Stage.PRODUCTION.value if target else None
            moved = store.move_deployment(name, current.revision, target, stage)
            moved = moved and store.move_stage(
                current.release, current.stage, Stage.ROLLED_BACK.value, entry.seq
            )
            if not moved:
                raise Conflict(f"{name} changed during the rollback", hint="look again and retry")
            store.add_history(entry.seq, name, target, stage, "rolled-back", entry.time)
        if target is None:  # nothing to return to: stop the model where it still runs
            _write_flag(Path(current.spec.kill_flag), f"rolled back: {reason.strip()}", name)
        return {**payload, "deployment": name, "kill_flag_raised": target is None}

    def kill(self, name: str, reason: str) -> dict[str, Any]:
        """Raise the deployment's kill flag: every gate watching it fails closed."""
        require("kill", self.actor, self.people.acting())
        if not reason.strip():
            raise InvalidInput("--reason is empty", hint="say why the model must stop")
        current = self.get(name)
        flag = Path(current.spec.kill_flag)
        payload = {"reason": reason.strip(), "flag_file": str(flag), "release": current.release}
        with self.db.write() as conn:
            self._append(conn, "deployment.killed", name, payload)
            _write_flag(flag, reason.strip(), name)  # inside: a failed write records nothing
        return payload

    def resume(self, name: str, reason: str = "") -> dict[str, Any]:
        """Remove the kill flag."""
        require("resume", self.actor, self.people.acting())
        current = self.get(name)
        flag = Path(current.spec.kill_flag)
        if not flag.exists():
            raise Conflict(f"{name} is not killed (no flag at {flag})", hint="nothing to resume")
        payload = {"reason": reason.strip(), "flag_file": str(flag), "release": current.release}
        with self.db.write() as conn:
            self._append(conn, "deployment.resumed", name, payload)
            try:
                flag.unlink()
            except OSError as exc:
                raise InvalidInput(f"cannot remove {flag}: {exc.strerror}") from exc
        return payload

    def _append(self, conn: Any, kind: str, name: str, payload: dict[str, Any]) -> Any:
        (entry,) = append_entries(
            SqlLedgerTxn(conn), [EntryDraft(kind, self.actor, f"deployment:{name}", payload)]
        )
        return entry


def _deployment(row: DeploymentRow, history: list[dict[str, Any]] | None = None) -> Deployment:
    return Deployment(
        DeploymentSpec.from_dict(row.record), row.release, row.stage, row.revision,
        tuple(history or ()),
    )  # fmt: skip


def _previous_production(current: Deployment) -> str | None:
    for move in reversed(current.history):
        if move["stage"] == Stage.PRODUCTION.value and move["release"] != current.release:
            return str(move["release"])
    return None


def _file_digest(path: Path) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _write_flag(flag: Path, reason: str, deployment: str) -> None:
    """Atomically write the kill flag the runtime ``KillSwitch`` reads (JSON ``reason``)."""
    body = json.dumps(
        {"reason": reason, "deployment": deployment, "at": format_time(utc_now())}, sort_keys=True
    )
    try:
        flag.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=flag.parent, prefix=".kill-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body)
        os.replace(tmp, flag)
    except OSError as exc:
        raise InvalidInput(f"cannot write the kill flag {flag}: {exc.strerror}") from exc
