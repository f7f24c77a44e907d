"""The Parquet decision log: where a gate's :class:`~modelsteward.runtime.records.DecisionRecorder`
persists its batches.

Each batch is one file ``decisions-000001.parquet`` (columns
:data:`~modelsteward.runtime.records.RECORD_COLUMNS`), written to a temporary name and renamed so
a reader never sees half a file. Its SHA-256 is reported through ``on_event`` as
``gate.batch.persisted`` — with the ledger behind that callback, every persisted batch is pinned
— and gate events (mode changes, kill switch, attestation failures) go the same way. A copy of
every event is appended to ``events.jsonl`` beside the batches.

    >>> import pathlib, tempfile
    >>> log = ParquetDecisionLog(pathlib.Path(tempfile.mkdtemp()))
    >>> log.write_event("gate.mode.changed", {"from": "NORMAL", "to": "REDUCED"})
    >>> len(read_events(log.folder))
    1
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from modelsteward.errors import InvalidInput
from modelsteward.runtime.envelope import RULE_IDS
from modelsteward.runtime.records import RECORD_COLUMNS, BatchReceipt

__all__ = [
    "DECISION_SCHEMA",
    "ParquetDecisionLog",
    "decision_files",
    "read_decisions",
    "read_events",
    "verify_batches",
]

EventCallback = Callable[[str, Mapping[str, Any]], None]

DECISION_SCHEMA = pa.schema(
    [
        ("cycle", pa.int64()),
        ("now", pa.float64()),
        ("input_digest", pa.string()),
        ("world", pa.string()),
        ("proposal", pa.string()),
        ("verdict", pa.string()),
        ("enforced", pa.bool_()),
        ("rung", pa.string()),
        ("command", pa.string()),
        ("vetoes", pa.list_(pa.string())),
        ("reason", pa.string()),
        ("mode", pa.string()),
        ("kill_reason", pa.string()),
        ("heartbeat", pa.float64()),
        ("latency_ns", pa.int64()),
        ("envelope_digest", pa.string()),
        ("model_digest", pa.string()),
        ("trace", pa.string()),
        *((f"margin_{rule}", pa.float64()) for rule in RULE_IDS),
    ]
)
assert tuple(DECISION_SCHEMA.names) == RECORD_COLUMNS
_PREFIX = "decisions-"


class ParquetDecisionLog:
    """A :class:`~modelsteward.runtime.records.DecisionSink` writing Parquet batches to a folder."""

    def __init__(self, folder: Path, on_event: EventCallback | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.on_event = on_event
        # Continue after the highest batch number: older batches may have been removed.
        numbers = (path.stem.removeprefix(_PREFIX) for path in folder.glob(f"{_PREFIX}*.parquet"))
        self._sequence = max((int(n) for n in numbers if n.isdigit()), default=0)

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        """Write one batch file and report its digest (``gate.batch.persisted``)."""
        self._sequence += 1
        path = self.folder / f"{_PREFIX}{self._sequence:06d}.parquet"
        table = pa.Table.from_pylist([dict(record) for record in records], schema=DECISION_SCHEMA)
        temporary = path.with_suffix(".parquet.tmp")
        pq.write_table(table, temporary, compression="zstd")
        digest = "sha256:" + hashlib.sha256(temporary.read_bytes()).hexdigest()
        os.replace(temporary, path)
        cycles = [int(record["cycle"]) for record in records]
        self.write_event(
            "gate.batch.persisted",
            {
                "file": path.name,
                "digest": digest,
                "records": len(records),
                "dropped": dropped,
                "first_cycle": min(cycles, default=0),
                "last_cycle": max(cycles, default=0),
                "envelope_digest": records[0]["envelope_digest"] if records else "",
                "model_digest": records[0]["model_digest"] if records else "",
            },
        )
        return BatchReceipt(digest, len(records), str(path))

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Append the event to ``events.jsonl`` and pass it on."""
        line = json.dumps({"kind": kind, **payload}, sort_keys=True, default=str)
        with (self.folder / "events.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        if self.on_event is not None:
            self.on_event(kind, payload)


def decision_files(location: Path) -> list[Path]:
    """The batch files of a log folder in order (or the one file given)."""
    if location.is_file():
        return [location]
    if not location.is_dir():
        raise InvalidInput(
            f"no decision log at {location}",
            hint="give a folder of decisions-*.parquet files or one such file",
        )
    files = sorted(location.rglob(f"{_PREFIX}*.parquet"))  # a folder per episode is fine
    if not files:
        raise InvalidInput(
            f"{location} holds no decisions-*.parquet files",
            hint="point at the folder the gate's recorder wrote",
        )
    return files


def read_decisions(locations: Iterable[Path]) -> list[dict[str, Any]]:
    """Every record of the given folders/files, in cycle order within each log."""
    records: list[dict[str, Any]] = []
    for location in locations:
        for path in decision_files(location):
            try:
                table = pq.read_table(path)
            except (OSError, pa.ArrowInvalid) as exc:
                raise InvalidInput(f"{path} is not a readable Parquet file ({exc})") from None
            missing = [name for name in RECORD_COLUMNS if name not in table.column_names]
            if missing:
                raise InvalidInput(f"{path} is not a decision log: no column {missing[0]!r}")
            records.extend(table.to_pylist())
    return records


def read_events(folder: Path) -> list[dict[str, Any]]:
    """The events a log folder recorded, oldest first."""
    path = folder / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def verify_batches(folder: Path, pinned: Mapping[str, str]) -> list[str]:
    """Names of batch files whose digest differs from ``pinned`` (file name → digest)."""
    bad = []
    for name, digest in pinned.items():
        path = folder / name
        actual = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""
        if actual != digest:
            bad.append(name)
    return bad
