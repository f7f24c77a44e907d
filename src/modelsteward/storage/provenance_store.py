"""Datasets, training runs, reproductions, artifact locations and the legal register in SQL.

Every method runs on a connection the caller owns, so a record and its ledger entries commit (or
roll back) together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from modelsteward.data.records import DatasetSnapshot
from modelsteward.storage.tables import (
    artifact_locations,
    datasets,
    license_approvals,
    run_inputs,
    run_reproductions,
    training_runs,
)
from modelsteward.training.records import Reproduction, TrainingRun
from modelsteward.types import Digest

__all__ = ["SqlDatasets", "SqlLegalRegister", "SqlLocations", "SqlRuns", "canonical_json"]


def canonical_json(data: Any) -> str:
    """Sorted, compact JSON (what the record columns hold)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class SqlDatasets:
    """Dataset snapshots."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_digest(self, digest: Digest) -> DatasetSnapshot | None:
        """The snapshot with this digest."""
        row = self.conn.execute(
            select(datasets.c.record).where(datasets.c.digest == str(digest))
        ).scalar()
        return DatasetSnapshot.from_dict(json.loads(row)) if row else None

    def identities(
        self, *, names: Iterable[str] = (), digests: Iterable[str] = ()
    ) -> list[tuple[str, str, str]]:
        """``(name, digest, licence)`` of the snapshots with any of these names
        (case-insensitive) or digests — what a lineage walk needs, without the records."""
        keys, wanted = sorted({n.lower() for n in names}), sorted(set(digests))
        if not keys and not wanted:
            return []
        query = select(datasets.c.name, datasets.c.digest, datasets.c.license).where(
            func.lower(datasets.c.name).in_(keys) | datasets.c.digest.in_(wanted)
        )
        return [(r.name, r.digest, r.license) for r in self.conn.execute(query)]

    def by_name(self, name: str) -> DatasetSnapshot | None:
        """The snapshot registered under ``name``."""
        row = self.conn.execute(select(datasets.c.record).where(datasets.c.name == name)).scalar()
        return DatasetSnapshot.from_dict(json.loads(row)) if row else None

    def insert(self, snapshot: DatasetSnapshot) -> None:
        """Store a new snapshot."""
        self.conn.execute(
            insert(datasets).values(
                digest=str(snapshot.digest),
                name=snapshot.name,
                tier=snapshot.tier.value,
                license=snapshot.license,
                expires_on=snapshot.expires_on,
                registered_at=snapshot.registered_at,
                record=canonical_json(snapshot.to_dict()),
            )
        )

    def all(self, *, expiring_before: str | None = None) -> list[DatasetSnapshot]:
        """Every snapshot by name, or those expiring before the given day."""
        query = select(datasets.c.record).order_by(datasets.c.name)
        if expiring_before is not None:
            query = query.where(datasets.c.expires_on <= expiring_before)
        return [DatasetSnapshot.from_dict(json.loads(r)) for (r,) in self.conn.execute(query)]


class SqlLocations:
    """Where an artifact's files were last seen on this machine (runs read inputs there)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def note_location(self, digest: Digest, path: str, kind: str, seen_at: str) -> None:
        """Remember where an artifact's files were (the latest sighting wins)."""
        self.conn.execute(
            delete(artifact_locations).where(
                (artifact_locations.c.digest == str(digest)) & (artifact_locations.c.path == path)
            )
        )
        self.conn.execute(
            insert(artifact_locations).values(
                digest=str(digest), path=path, kind=kind, seen_at=seen_at
            )
        )

    def locations(self, digest: Digest) -> list[str]:
        """Folders an artifact was registered or produced from, newest first."""
        rows = self.conn.execute(
            select(artifact_locations.c.path)
            .where(artifact_locations.c.digest == str(digest))
            .order_by(artifact_locations.c.seen_at.desc())
        )
        return list(rows.scalars())


class SqlRuns:
    """Training runs, their inputs and reproductions."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, run: TrainingRun) -> None:
        """Store a run and index its inputs."""
        self.conn.execute(
            insert(training_runs).values(
                id=run.id,
                output_digest=str(run.output_digest),
                name=run.name,
                kind=run.kind.value,
                recorded_at=run.recorded_at,
                record=canonical_json(run.to_dict()),
            )
        )
        seen: set[tuple[str, str]] = set()
        for item in run.inputs:
            if (item.role, item.digest) in seen:
                continue
            seen.add((item.role, item.digest))
            self.conn.execute(
                insert(run_inputs).values(
                    run_id=run.id, role=item.role, digest=item.digest, name=item.name
                )
            )

    def get(self, run_id: str) -> TrainingRun | None:
        """A run by id."""
        row = self.conn.execute(
            select(training_runs.c.record).where(training_runs.c.id == run_id)
        ).scalar()
        return TrainingRun.from_dict(json.loads(row)) if row else None

    def producing(self, digests: Sequence[str]) -> dict[str, list[TrainingRun]]:
        """Runs whose output is one of ``digests``, oldest first, by output digest."""
        out: dict[str, list[TrainingRun]] = {}
        if not digests:
            return out
        rows = self.conn.execute(
            select(training_runs.c.record)
            .where(training_runs.c.output_digest.in_(list(digests)))
            .order_by(training_runs.c.recorded_at)
        )
        for (record,) in rows:
            run = TrainingRun.from_dict(json.loads(record))
            out.setdefault(str(run.output_digest), []).append(run)
        return out

    def using(self, digest: str) -> list[TrainingRun]:
        """Runs that consumed the artifact with this digest."""
        ids = select(run_inputs.c.run_id).where(run_inputs.c.digest == digest)
        rows = self.conn.execute(
            select(training_runs.c.record)
            .where(training_runs.c.id.in_(ids))
            .order_by(training_runs.c.recorded_at)
        )
        return [TrainingRun.from_dict(json.loads(r)) for (r,) in rows]

    def all(self, *, name: str | None = None) -> list[TrainingRun]:
        """Every run (or those producing ``name``), oldest first."""
        query = select(training_runs.c.record).order_by(training_runs.c.recorded_at)
        if name:
            query = query.where(training_runs.c.name == name)
        return [TrainingRun.from_dict(json.loads(r)) for (r,) in self.conn.execute(query)]

    def add_reproduction(self, seq: int, reproduction: Reproduction) -> None:
        """Keep a reproduction attempt (``seq`` is its ledger entry)."""
        self.conn.execute(
            insert(run_reproductions).values(
                seq=seq,
                run_id=reproduction.run_id,
                outcome=reproduction.outcome.value,
                reproduced_at=reproduction.finished_at,
                record=canonical_json(reproduction.to_dict()),
            )
        )

    def reproductions(self, run_id: str) -> list[Reproduction]:
        """Attempts to reproduce a run, oldest first."""
        rows = self.conn.execute(
            select(run_reproductions.c.record)
            .where(run_reproductions.c.run_id == run_id)
            .order_by(run_reproductions.c.seq)
        )
        return [Reproduction.from_dict(json.loads(r)) for (r,) in rows]


class SqlLegalRegister:
    """Licence approvals, each bound to a model digest and a review digest."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, seq: int, approval: dict[str, Any]) -> None:
        """Keep an approval (``seq`` is its ledger entry)."""
        self.conn.execute(
            insert(license_approvals).values(
                seq=seq,
                model_digest=approval["model_digest"],
                use=approval["use"],
                distribution=approval["distribution"],
                field=approval.get("field") or "",
                review_digest=approval["review_digest"],
                approved_at=approval["approved_at"],
                record=canonical_json(approval),
            )
        )

    def for_model(self, digest: str) -> list[dict[str, Any]]:
        """Every approval recorded for a model version, newest first."""
        rows = self.conn.execute(
            select(license_approvals.c.seq, license_approvals.c.record)
            .where(license_approvals.c.model_digest == digest)
            .order_by(license_approvals.c.seq.desc())
        )
        return [{**json.loads(r.record), "seq": r.seq} for r in rows]
