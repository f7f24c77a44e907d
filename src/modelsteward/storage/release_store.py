"""SQL storage of the release workflow: people, sign-offs, gate decisions, stages, deployments.

Every row is written in the same transaction as the ledger entry that records it; ``seq`` columns
name that entry. Deployments carry a ``revision`` so that two concurrent promotions of the same
deployment cannot both win: the second one's compare-and-set finds the revision moved.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from modelsteward.storage.provenance_store import canonical_json
from modelsteward.storage.tables import (
    deployment_history,
    deployments,
    gate_decisions,
    people,
    release_stages,
    signoffs,
)

__all__ = ["DeploymentRow", "SqlRelease"]


class DeploymentRow:
    """A deployment as stored: its declared spec plus what runs there now."""

    __slots__ = ("record", "release", "revision", "stage")

    def __init__(
        self, record: dict[str, Any], release: str | None, stage: str | None, revision: int
    ) -> None:
        self.record = record
        self.release = release
        self.stage = stage
        self.revision = revision


class SqlRelease:
    """Release records in one connection's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- people --------------------------------------------------------------------------------

    def add_person(self, seq: int, record: dict[str, Any]) -> None:
        """Keep a person (``record`` is the ``person.added`` payload)."""
        self.conn.execute(
            insert(people).values(
                name=record["name"], seq=seq, key_id=record["key_id"], record=canonical_json(record)
            )
        )

    def person(self, name: str) -> dict[str, Any] | None:
        """One person's record, or ``None``."""
        row = self.conn.execute(select(people.c.record).where(people.c.name == name)).first()
        return json.loads(row.record) if row else None

    def person_by_key(self, key_id: str) -> dict[str, Any] | None:
        """The person whose public key has this fingerprint, or ``None``."""
        row = self.conn.execute(select(people.c.record).where(people.c.key_id == key_id)).first()
        return json.loads(row.record) if row else None

    def people(self) -> list[dict[str, Any]]:
        """Everyone, by name."""
        rows = self.conn.execute(select(people.c.record).order_by(people.c.name))
        return [json.loads(r.record) for r in rows]

    # -- sign-offs -----------------------------------------------------------------------------

    def add_signoff(self, seq: int, payload: dict[str, Any]) -> None:
        """Keep a sign-off (``payload`` is the ``release.signoff`` payload)."""
        statement = payload["statement"]
        self.conn.execute(
            insert(signoffs).values(
                seq=seq,
                model_digest=statement["model_digest"],
                stage=statement["stage"],
                person=statement["person"],
                record=canonical_json(payload),
            )
        )

    def signoffs(self, model_digest: str, stage: str | None = None) -> list[dict[str, Any]]:
        """Sign-offs recorded for a model (optionally one stage), oldest first, with ``seq``."""
        query = select(signoffs.c.seq, signoffs.c.record).where(
            signoffs.c.model_digest == model_digest
        )
        if stage is not None:
            query = query.where(signoffs.c.stage == stage)
        rows = self.conn.execute(query.order_by(signoffs.c.seq))
        return [{**json.loads(r.record), "seq": r.seq} for r in rows]

    # -- gate decisions ------------------------------------------------------------------------

    def add_decision(self, seq: int, record: dict[str, Any]) -> None:
        """Keep a gate decision (``record`` is the ``gate.decision`` payload)."""
        self.conn.execute(
            insert(gate_decisions).values(
                id=record["decision_id"],
                seq=seq,
                model_digest=record["model_digest"],
                to_stage=record["to"],
                allow=bool(record["allow"]),
                decided_at=record["decided_at"],
                record=canonical_json(record),
            )
        )

    def decisions_like(self, prefix: str) -> list[dict[str, Any]]:
        """Decisions whose id starts with ``prefix`` (``sha256:`` optional), newest first."""
        wanted = prefix if prefix.startswith("sha256:") else f"sha256:{prefix}"
        rows = self.conn.execute(
            select(gate_decisions.c.seq, gate_decisions.c.record)
            .where(gate_decisions.c.id.startswith(wanted, autoescape=True))
            .order_by(gate_decisions.c.seq.desc())
            .limit(2)
        )
        return [{**json.loads(r.record), "seq": r.seq} for r in rows]

    def decisions(self, model_digest: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent decisions (of one model, or all), newest first."""
        query = select(gate_decisions.c.seq, gate_decisions.c.record)
        if model_digest is not None:
            query = query.where(gate_decisions.c.model_digest == model_digest)
        rows = self.conn.execute(query.order_by(gate_decisions.c.seq.desc()).limit(limit))
        return [{**json.loads(r.record), "seq": r.seq} for r in rows]

    # -- stages --------------------------------------------------------------------------------

    def stage(self, model_digest: str) -> str | None:
        """The release's stage, or ``None`` when it never moved (it is ``registered``)."""
        return self.conn.execute(
            select(release_stages.c.stage).where(release_stages.c.model_digest == model_digest)
        ).scalar()

    def move_stage(self, model_digest: str, expected: str | None, stage: str, seq: int) -> bool:
        """Compare-and-set the stage; ``False`` when someone else moved it first."""
        if expected is None:
            if self.stage(model_digest) is not None:
                return False
            self.conn.execute(
                insert(release_stages).values(model_digest=model_digest, stage=stage, seq=seq)
            )
            return True
        done = self.conn.execute(
            update(release_stages)
            .where(release_stages.c.model_digest == model_digest)
            .where(release_stages.c.stage == expected)
            .values(stage=stage, seq=seq)
        )
        return done.rowcount == 1

    # -- deployments ---------------------------------------------------------------------------

    def add_deployment(self, record: dict[str, Any]) -> None:
        """Keep a new deployment (nothing runs there yet)."""
        self.conn.execute(
            insert(deployments).values(
                name=record["name"],
                release=None,
                stage=None,
                revision=0,
                record=canonical_json(record),
            )  # fmt: skip
        )

    def deployment(self, name: str) -> DeploymentRow | None:
        """One deployment, or ``None``."""
        row = self.conn.execute(select(deployments).where(deployments.c.name == name)).first()
        if row is None:
            return None
        return DeploymentRow(json.loads(row.record), row.release, row.stage, row.revision)

    def deployment_list(self) -> list[tuple[str, DeploymentRow]]:
        """Every deployment, by name."""
        rows = self.conn.execute(select(deployments).order_by(deployments.c.name))
        return [
            (r.name, DeploymentRow(json.loads(r.record), r.release, r.stage, r.revision))
            for r in rows
        ]

    def move_deployment(
        self, name: str, revision: int, release: str | None, stage: str | None
    ) -> bool:
        """Compare-and-set what runs in a deployment; ``False`` if its revision moved."""
        done = self.conn.execute(
            update(deployments)
            .where(deployments.c.name == name)
            .where(deployments.c.revision == revision)
            .values(release=release, stage=stage, revision=revision + 1)
        )
        return done.rowcount == 1

    def add_history(
        self, seq: int, name: str, release: str | None, stage: str | None, event: str, at: str
    ) -> None:
        """Remember one move of a deployment."""
        self.conn.execute(
            insert(deployment_history).values(
                seq=seq, deployment=name, release=release, stage=stage, event=event, at=at
            )
        )

    def history(self, name: str) -> list[dict[str, Any]]:
        """A deployment's moves, oldest first."""
        rows = self.conn.execute(
            select(deployment_history)
            .where(deployment_history.c.deployment == name)
            .order_by(deployment_history.c.seq)
        )
        return [dict(r._mapping) for r in rows]
