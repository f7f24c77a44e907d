"""Decision records: a bounded, non-blocking queue between the control loop and storage.

The control loop calls :meth:`DecisionRecorder.submit` with the :class:`Decision` it just made;
that is one ``deque.append`` — never a wait, never I/O. When the queue is full the decision is
*dropped and counted*, and the count travels with the next persisted batch. Serialising,
hashing and writing happen in :meth:`DecisionRecorder.flush`, called by a background thread
(:meth:`start`) or by the loop in its slack time. Storage is a :class:`DecisionSink`: the
runtime stays free of Parquet and databases; ``modelsteward.telemetry`` provides the Parquet
sink that also writes batch digests and gate events to the ledger.

    >>> sink = MemorySink()
    >>> recorder = DecisionRecorder(sink, capacity=2)
    >>> recorder.event("gate.mode.changed", {"to": "REDUCED"})
    >>> recorder.flush(), sink.events[0][0]
    (0, 'gate.mode.changed')
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from modelsteward.runtime.envelope import RULE_IDS
from modelsteward.runtime.world import Trajectory

if TYPE_CHECKING:
    from modelsteward.runtime.gate import Decision

_log = logging.getLogger(__name__)

__all__ = [
    "RECORD_COLUMNS",
    "BatchReceipt",
    "DecisionRecorder",
    "DecisionSink",
    "MemorySink",
    "command_to_json",
    "decision_record",
]

RECORD_COLUMNS = (
    "cycle",
    "now",
    "input_digest",
    "world",
    "proposal",
    "verdict",
    "enforced",
    "rung",
    "command",
    "vetoes",
    "reason",
    "mode",
    "kill_reason",
    "heartbeat",
    "latency_ns",
    "envelope_digest",
    "model_digest",
    "trace",
    *(f"margin_{rule}" for rule in RULE_IDS),
)
"""The columns of a decision record, in order; ``margin_<rule>`` is null when not evaluated."""


@dataclass(frozen=True, slots=True)
class BatchReceipt:
    """What a sink reports for one persisted batch."""

    digest: str
    records: int
    location: str


class DecisionSink(Protocol):
    """Where records and gate events go. Called from :meth:`DecisionRecorder.flush` only."""

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        """Persist one batch; ``dropped`` decisions were lost to a full queue since the last."""
        ...

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Persist one gate event (mode change, kill switch, attestation failure)."""
        ...


@dataclass
class MemorySink:
    """A sink that keeps everything in lists: for tests and for embedding without storage."""

    batches: list[tuple[list[dict[str, Any]], int]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        """Keep the batch; its digest is the SHA-256 of its canonical JSON."""
        batch = [dict(record) for record in records]
        self.batches.append((batch, dropped))
        data = json.dumps(batch, sort_keys=True, separators=(",", ":")).encode()
        return BatchReceipt(hashlib.sha256(data).hexdigest(), len(batch), "memory")

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Keep the event."""
        self.events.append((kind, dict(payload)))


class DecisionRecorder:
    """Bounded queue + batch writer. ``submit`` and ``event`` never block the caller."""

    def __init__(self, sink: DecisionSink, *, capacity: int = 8192, batch_size: int = 1024) -> None:
        if capacity < 1 or batch_size < 1:
            raise ValueError("capacity and batch_size must be at least 1")
        self.sink = sink
        self.capacity = capacity
        self.batch_size = batch_size
        self._queue: deque[Decision] = deque()
        self._events: deque[tuple[str, dict[str, Any]]] = deque()
        self._lock = threading.Lock()  # serialises flushes, never taken by submit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.submitted = 0
        self.dropped = 0
        self.persisted = 0
        self.receipts: list[BatchReceipt] = []
        self._dropped_reported = 0
        self.digests: tuple[str, str] = ("", "")
        self.sink_errors = 0

    def bind(self, envelope_digest: str, model_digest: str) -> None:
        """The digests stamped on every record (the gate calls this when it attaches)."""
        self.digests = (envelope_digest, model_digest)

    def submit(self, decision: Decision) -> bool:
        """Queue a decision; ``False`` (and counted) when the queue is full."""
        if len(self._queue) >= self.capacity:
            self.dropped += 1
            return False
        self._queue.append(decision)
        self.submitted += 1
        return True

    def event(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue a gate event. Events are rare and never dropped."""
        self._events.append((kind, payload))

    @property
    def pending(self) -> int:
        """Decisions queued but not yet persisted."""
        return len(self._queue)

    def flush(self, limit: int | None = None) -> int:
        """Persist queued events and up to ``limit`` decisions (all by default); returns records."""
        written = 0
        with self._lock:
            while self._events:
                kind, payload = self._events.popleft()
                self.sink.write_event(kind, payload)
            while self._queue and (limit is None or written < limit):
                take = min(self.batch_size, len(self._queue))
                if limit is not None:
                    take = min(take, limit - written)
                decisions = [self._queue.popleft() for _ in range(take)]
                batch = [decision_record(decision, *self.digests) for decision in decisions]
                dropped = self.dropped - self._dropped_reported
                try:
                    receipt = self.sink.write_batch(batch, dropped)
                except BaseException:
                    # Nothing is lost on a failing sink: the batch goes back to the queue (which
                    # then fills and counts drops) and the caller sees the error.
                    self._queue.extendleft(reversed(decisions))
                    self.persisted += written
                    raise
                self._dropped_reported = self.dropped
                self.receipts.append(receipt)
                written += receipt.records
            self.persisted += written
        return written

    def start(self, interval: float = 0.25) -> None:
        """Flush from a daemon thread every ``interval`` seconds until :meth:`close`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval,), name="steward-decision-recorder", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 — keep recording; the next flush retries
                self.sink_errors += 1
                _log.exception("decision sink failed; batch kept in the queue for a retry")

    def close(self) -> None:
        """Stop the thread (if any) and persist everything still queued."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.flush()


def command_to_json(command: object) -> Any:
    """An action index, a trajectory's ``[t, x, y, v]`` rows, or ``None``."""
    if isinstance(command, Trajectory):
        return command.points()
    return command


def decision_record(decision: Decision, envelope_digest: str, model_digest: str) -> dict[str, Any]:
    """One flat record (:data:`RECORD_COLUMNS`); the input digest covers world, proposal, now."""
    world = _to_json(decision.world)
    proposal = _to_json(decision.proposal)
    inputs = json.dumps(
        {"now": decision.now, "proposal": proposal, "world": world},
        sort_keys=True,
        separators=(",", ":"),
    )
    record: dict[str, Any] = {
        "cycle": decision.cycle,
        "now": decision.now,
        "input_digest": "sha256:" + hashlib.sha256(inputs.encode()).hexdigest(),
        "world": None if world is None else json.dumps(world, sort_keys=True),
        "proposal": None if proposal is None else json.dumps(proposal, sort_keys=True),
        "verdict": decision.verdict,
        "enforced": decision.enforced,
        "rung": decision.rung,
        "command": json.dumps(command_to_json(decision.command)),
        "vetoes": list(decision.vetoes),
        "reason": decision.reason,
        "mode": decision.mode.name,
        "kill_reason": decision.kill_reason,
        "heartbeat": decision.heartbeat,
        "latency_ns": decision.latency_ns,
        "envelope_digest": envelope_digest,
        "model_digest": model_digest,
        "trace": _trace(proposal),
    }
    margins = {rule.rule: rule.margin for rule in decision.rules}
    for rule_id in RULE_IDS:
        record[f"margin_{rule_id}"] = margins.get(rule_id)
    return record


def _trace(proposal: object) -> str | None:
    """The model's reasoning, whether the proposal came parsed or as JSON."""
    trace = proposal.get("trace") if isinstance(proposal, dict) else None
    return trace if isinstance(trace, str) else None


def _to_json(value: object) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):  # raw input the gate could not parse: keep it as given
        try:
            return json.loads(json.dumps(value, default=repr))
        except (TypeError, ValueError):
            return {"unserialisable": repr(value)}
    to_dict = getattr(value, "to_dict", None)
    if to_dict is None:
        return {"unserialisable": repr(value)}
    try:
        return to_dict()
    except (TypeError, ValueError, AttributeError):  # malformed arrays: keep what we can show
        return {"unserialisable": repr(value)}
