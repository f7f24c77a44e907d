"""Runtime-gate use cases: gate events into the ledger, counterfactual replay of decision logs.

A gate running under a workspace (``steward gate demo``, or an embedding that opens one) hands
:meth:`GateService.ledger_events` to its Parquet decision log: mode changes, kill-switch
activations, attestation failures and every persisted batch's digest become ledger entries
(docs/ledger.md). :meth:`GateService.replay` re-decides logged decisions under a candidate
envelope and checks each batch file against the digest the ledger pinned for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import Entry
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.replay import ReplayReport, replay
from modelsteward.runtime.signed import load_signed_envelope, read_signed_envelope_unverified
from modelsteward.services.ledger import LedgerService
from modelsteward.storage.db import Database
from modelsteward.storage.tables import ledger_entries
from modelsteward.telemetry.decisions import decision_files, read_decisions
from modelsteward.yamlfile import read_yaml

__all__ = ["GATE_EVENT_KINDS", "GateReplay", "GateService", "load_candidate"]

GATE_EVENT_KINDS = (
    "gate.mode.changed",
    "gate.kill.engaged",
    "gate.kill.released",
    "gate.attestation.failed",
    "gate.batch.persisted",
)


@dataclass(frozen=True, slots=True)
class GateReplay:
    """A replay report plus what the ledger says about the batches replayed."""

    report: ReplayReport
    batches: int
    pinned: int | None
    unpinned: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON shape for ``--json``."""
        return {
            **self.report.to_dict(),
            "batches": self.batches,
            "batches_pinned_in_ledger": self.pinned,
            "batches_not_pinned": list(self.unpinned),
        }


def load_candidate(path: Path, public_key: Path | None) -> Envelope:
    """A candidate envelope: a signed envelope file, or a draft YAML/JSON document.

    A signed file is verified when ``public_key`` is given; a draft is what one replays
    *before* signing, so it needs no key.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the candidate envelope {path}: {exc.strerror}") from None
    if _looks_signed(data):
        signed = (
            load_signed_envelope(data, public_key)
            if public_key is not None
            else read_signed_envelope_unverified(data)
        )
        return signed.envelope
    if public_key is not None:
        raise InvalidInput(
            f"{path} is a draft envelope, not a signed one; --key applies to signed files",
            hint="drop --key to replay a draft, or sign it first with `steward envelope sign`",
        )
    return Envelope.from_dict(read_yaml(path, "candidate envelope"))


def _looks_signed(data: bytes) -> bool:
    try:
        document = json.loads(data)
    except ValueError:
        return False
    return isinstance(document, dict) and "payloadType" in document and "signatures" in document


class GateService:
    """Gate events and decision logs of one workspace."""

    def __init__(self, db: Database, ledger: LedgerService) -> None:
        self.db = db
        self.ledger = ledger

    def ledger_events(self, subject: str) -> Callable[[str, Mapping[str, Any]], None]:
        """A callback for :class:`~modelsteward.telemetry.decisions.ParquetDecisionLog`."""

        def _append(kind: str, payload: Mapping[str, Any]) -> None:
            if kind in GATE_EVENT_KINDS:
                self.ledger.append(kind, subject, json.loads(json.dumps(payload, default=str)))

        return _append

    def pinned_digests(self) -> set[str]:
        """Digests of every decision batch the ledger has pinned."""
        return set(self.pinned_batches())

    def pinned_batches(self) -> dict[str, int]:
        """Every decision batch the ledger pinned: digest → records dropped before it."""
        query = select(ledger_entries.c.body).where(ledger_entries.c.kind == "gate.batch.persisted")
        with self.db.read() as conn:
            bodies = [bytes(body) for body in conn.execute(query).scalars()]
        payloads = [Entry.from_bytes(body).payload for body in bodies]
        return {str(p.get("digest")): int(p.get("dropped") or 0) for p in payloads}

    def replay(
        self, logs: Sequence[Path], candidate: Path, public_key: Path | None = None
    ) -> GateReplay:
        """Replay ``logs`` against ``candidate`` and check their batches against the ledger."""
        envelope = load_candidate(candidate, public_key)
        files = [path for location in logs for path in decision_files(location)]
        pinned = self.pinned_digests()
        unpinned = tuple(str(path) for path in files if _file_digest(path) not in pinned)
        report = replay(read_decisions(files), envelope)
        return GateReplay(report, len(files), len(files) - len(unpinned), unpinned)


def replay_without_workspace(
    logs: Sequence[Path], candidate: Path, public_key: Path | None = None
) -> GateReplay:
    """The same replay where no workspace exists: batches cannot be checked against a ledger."""
    envelope = load_candidate(candidate, public_key)
    files = [path for location in logs for path in decision_files(location)]
    return GateReplay(replay(read_decisions(files), envelope), len(files), None, ())


def _file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
