"""The model registry store in SQL (implements `modelsteward.registry.store.RegistryStore`).

Every method runs on a connection the caller owns, so a registration, its lineage, its supplier
observation and its ledger entries commit (or roll back) together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from modelsteward.registry.records import (
    AliasMove,
    ModelSummary,
    ModelVersion,
    Supplier,
    SupplierReview,
)
from modelsteward.registry.store import RegistryStore
from modelsteward.storage.tables import (
    model_alias_moves,
    model_aliases,
    model_lineage,
    model_signatures,
    model_versions,
    supplier_observations,
    suppliers,
)
from modelsteward.types import Digest

__all__ = ["SqlRegistry"]

_SUMMARY_COLUMNS = (
    model_versions.c.name,
    model_versions.c.version,
    model_versions.c.digest,
    model_versions.c.status,
    model_versions.c.tier,
    model_versions.c.license,
    model_versions.c.steward,
    model_versions.c.size,
    model_versions.c.registered_at,
)


class SqlRegistry:
    """Registry reads and writes on one SQLAlchemy connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- versions ------------------------------------------------------------------------------

    def by_digest(self, digest: Digest) -> ModelVersion | None:
        """The version with this digest."""
        row = self.conn.execute(
            select(model_versions.c.record).where(model_versions.c.digest == str(digest))
        ).scalar()
        return ModelVersion.from_dict(json.loads(row)) if row else None

    def by_name(self, name: str, version: int | None = None) -> ModelVersion | None:
        """``NAME@VERSION``, or the newest version of ``NAME``."""
        query = select(model_versions.c.record).where(model_versions.c.name == name)
        query = (
            query.where(model_versions.c.version == version)
            if version is not None
            else query.order_by(model_versions.c.version.desc()).limit(1)
        )
        row = self.conn.execute(query).scalar()
        return ModelVersion.from_dict(json.loads(row)) if row else None

    def next_version(self, name: str) -> int:
        """The number the next version of ``name`` gets."""
        top = self.conn.execute(
            select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
        ).scalar()
        return int(top or 0) + 1

    def names(self) -> list[str]:
        """Every registered model name."""
        return list(self.conn.execute(select(model_versions.c.name).distinct()).scalars())

    def insert_version(self, version: ModelVersion, source_id: str | None) -> None:
        """Store a new version and its declared lineage."""
        record = version.to_dict()
        self.conn.execute(
            insert(model_versions).values(
                digest=str(version.digest),
                name=version.name,
                version=version.version,
                status=version.status.value,
                tier=version.tier.value,
                license=license_key(version),
                steward=version.steward.lower() if version.steward else None,
                supplier=version.supplier,
                source_id=source_id,
                size=version.size,
                file_count=version.file_count,
                registered_at=version.registered_at,
                record=json.dumps(record, sort_keys=True, separators=(",", ":")),
            )
        )
        for declared in dict.fromkeys(version.base_models):
            self.conn.execute(
                insert(model_lineage).values(
                    child=str(version.digest),
                    declared=declared,
                    relation=version.base_model_relation,
                    declared_key=declared.lower(),
                )
            )

    def summaries(
        self,
        *,
        tier: Sequence[str] = (),
        license: Sequence[str] = (),
        steward: str | None = None,
        status: str | None = None,
        name: str | None = None,
        limit: int | None = None,
    ) -> list[ModelSummary]:
        """Inventory rows matching every given filter (each list is an OR)."""
        query = select(*_SUMMARY_COLUMNS)
        if tier:
            query = query.where(model_versions.c.tier.in_(list(tier)))
        if license:
            query = query.where(model_versions.c.license.in_([x.lower() for x in license]))
        if steward:
            query = query.where(model_versions.c.steward == steward.lower())
        if status:
            query = query.where(model_versions.c.status == status)
        if name:
            query = query.where(model_versions.c.name == name)
        query = query.order_by(model_versions.c.name, model_versions.c.version)
        if limit:
            query = query.limit(limit)
        return [ModelSummary(*row) for row in self.conn.execute(query)]

    # -- lineage -------------------------------------------------------------------------------

    def declared_parents(self, child: Digest) -> list[tuple[str, str | None]]:
        """``(declared base model, relation)`` of a version, sorted by name."""
        rows = self.conn.execute(
            select(model_lineage.c.declared, model_lineage.c.relation)
            .where(model_lineage.c.child == str(child))
            .order_by(model_lineage.c.declared)
        )
        return [(r.declared, r.relation) for r in rows]

    def resolve_declared(self, declared: str) -> ModelVersion | None:
        """The newest registered version whose name, or hub source id, is ``declared``."""
        key = declared.lower()
        row = self.conn.execute(
            select(model_versions.c.record)
            .where((func.lower(model_versions.c.name) == key) | (model_versions.c.source_id == key))
            .order_by(model_versions.c.registered_at.desc(), model_versions.c.version.desc())
            .limit(1)
        ).scalar()
        return ModelVersion.from_dict(json.loads(row)) if row else None

    def children_of(self, version: ModelVersion, source_id: str | None) -> list[ModelVersion]:
        """Versions that declare ``version`` (by name or hub id) as a base model."""
        keys = {version.name.lower()} | ({source_id} if source_id else set())
        rows = self.conn.execute(
            select(model_versions.c.record)
            .join(model_lineage, model_lineage.c.child == model_versions.c.digest)
            .where(model_lineage.c.declared_key.in_(sorted(keys)))
            .order_by(model_versions.c.name, model_versions.c.version)
        )
        return [ModelVersion.from_dict(json.loads(r)) for r in rows.scalars()]

    def by_digests(self, digests: Sequence[str]) -> dict[str, ModelVersion]:
        """Versions by digest, for every digest that is registered."""
        if not digests:
            return {}
        rows = self.conn.execute(
            select(model_versions.c.record).where(model_versions.c.digest.in_(list(digests)))
        )
        found = (ModelVersion.from_dict(json.loads(r)) for r in rows.scalars())
        return {str(v.digest): v for v in found}

    def declared_parents_of(
        self, children: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """:meth:`declared_parents` for many versions at once."""
        out: dict[str, list[tuple[str, str | None]]] = {}
        if not children:
            return out
        rows = self.conn.execute(
            select(model_lineage.c.child, model_lineage.c.declared, model_lineage.c.relation)
            .where(model_lineage.c.child.in_(list(children)))
            .order_by(model_lineage.c.declared)
        )
        for r in rows:
            out.setdefault(r.child, []).append((r.declared, r.relation))
        return out

    def resolve_many(self, declared: Sequence[str]) -> dict[str, ModelVersion]:
        """:meth:`resolve_declared` for many names at once (keys are lower-cased)."""
        keys = sorted({d.lower() for d in declared})
        if not keys:
            return {}
        rows = self.conn.execute(
            select(model_versions.c.source_id, model_versions.c.record)
            .where(
                func.lower(model_versions.c.name).in_(keys) | model_versions.c.source_id.in_(keys)
            )
            .order_by(model_versions.c.registered_at, model_versions.c.version)
        )
        out: dict[str, ModelVersion] = {}
        for source_id, record in rows:  # oldest first, so the newest wins
            version = ModelVersion.from_dict(json.loads(record))
            for key in {version.name.lower(), source_id}:
                if key in keys:
                    out[key] = version
        return out

    def source_id(self, digest: Digest) -> str | None:
        """The hub id recorded for a version."""
        return self.conn.execute(
            select(model_versions.c.source_id).where(model_versions.c.digest == str(digest))
        ).scalar()

    # -- aliases -------------------------------------------------------------------------------

    def alias_target(self, name: str, alias: str) -> Digest | None:
        """Where ``NAME@ALIAS`` points now."""
        value = self.conn.execute(
            select(model_aliases.c.digest).where(
                and_(model_aliases.c.name == name, model_aliases.c.alias == alias)
            )
        ).scalar()
        return Digest.parse(value) if value else None

    def move_alias(self, move: AliasMove) -> None:
        """Point the alias at ``move.target`` and keep the move in the history."""
        values = {"digest": str(move.target), "seq": move.seq}
        if move.previous is None:
            self.conn.execute(
                insert(model_aliases).values(name=move.name, alias=move.alias, **values)
            )
        else:
            self.conn.execute(
                update(model_aliases)
                .where(and_(model_aliases.c.name == move.name, model_aliases.c.alias == move.alias))
                .values(**values)
            )
        self.conn.execute(
            insert(model_alias_moves).values(
                seq=move.seq,
                name=move.name,
                alias=move.alias,
                previous=str(move.previous) if move.previous else None,
                target=str(move.target),
                moved_at=move.moved_at,
                moved_by=move.moved_by,
            )
        )

    def aliases_of(self, digest: Digest) -> list[tuple[str, str]]:
        """``(name, alias)`` pairs pointing at a version now."""
        rows = self.conn.execute(
            select(model_aliases.c.name, model_aliases.c.alias)
            .where(model_aliases.c.digest == str(digest))
            .order_by(model_aliases.c.alias)
        )
        return [(r.name, r.alias) for r in rows]

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        query = select(model_alias_moves, model_versions.c.version).join(
            model_versions, model_versions.c.digest == model_alias_moves.c.target
        )
        query = query.where(model_alias_moves.c.name == name)
        if alias:
            query = query.where(model_alias_moves.c.alias == alias)
        rows = self.conn.execute(query.order_by(model_alias_moves.c.seq))
        return [
            AliasMove(
                name=r.name,
                alias=r.alias,
                previous=Digest.parse(r.previous) if r.previous else None,
                target=Digest.parse(r.target),
                target_ref=f"{r.name}@{r.version}",
                moved_at=r.moved_at,
                moved_by=r.moved_by,
                seq=r.seq,
            )
            for r in rows
        ]

    # -- signatures ----------------------------------------------------------------------------

    def add_signature(
        self, seq: int, digest: Digest, fingerprint: str, bundle: Digest, at: str, by: str
    ) -> None:
        """Remember that a version was signed (the bundle is in the blob store)."""
        self.conn.execute(
            insert(model_signatures).values(
                seq=seq,
                digest=str(digest),
                key_fingerprint=fingerprint,
                bundle=str(bundle),
                signed_at=at,
                signed_by=by,
            )
        )

    def signatures(self, digest: Digest) -> list[dict[str, Any]]:
        """Signatures recorded for a version, oldest first."""
        rows = self.conn.execute(
            select(model_signatures)
            .where(model_signatures.c.digest == str(digest))
            .order_by(model_signatures.c.seq)
        )
        return [dict(r._mapping) for r in rows]

    # -- suppliers -----------------------------------------------------------------------------

    def supplier(self, supplier_id: str) -> Supplier | None:
        """A supplier with every observation."""
        row = self.conn.execute(select(suppliers).where(suppliers.c.id == supplier_id)).first()
        if row is None:
            return None
        observations = self.conn.execute(
            select(supplier_observations.c.data)
            .where(supplier_observations.c.supplier == supplier_id)
            .order_by(supplier_observations.c.observed_at)
        ).scalars()
        return Supplier(
            id=row.id,
            first_seen=row.first_seen,
            observations=tuple(json.loads(o) for o in observations),
            review=SupplierReview(**json.loads(row.review)),
        )

    def supplier_ids(self) -> list[str]:
        """Every supplier id, sorted."""
        return list(self.conn.execute(select(suppliers.c.id).order_by(suppliers.c.id)).scalars())

    def add_supplier(self, supplier_id: str, first_seen: str) -> None:
        """A supplier seen for the first time (no review yet)."""
        self.conn.execute(
            insert(suppliers).values(id=supplier_id, first_seen=first_seen, review="{}")
        )

    def observe_supplier(
        self, supplier_id: str, digest: Digest, at: str, data: dict[str, Any]
    ) -> None:
        """What one snapshot showed about its supplier."""
        self.conn.execute(
            insert(supplier_observations).values(
                supplier=supplier_id,
                digest=str(digest),
                observed_at=at,
                data=json.dumps(data, sort_keys=True),
            )
        )

    def review_supplier(self, supplier_id: str, review: SupplierReview) -> None:
        """Replace the reviewer's fields."""
        self.conn.execute(
            update(suppliers)
            .where(suppliers.c.id == supplier_id)
            .values(review=json.dumps(review.__dict__, sort_keys=True))
        )


def license_key(version: ModelVersion) -> str | None:
    """The licence a user filters by: the card's id, or for ``other`` its name."""
    value = version.license
    if value and value.lower() == "other" and version.license_name:
        value = version.license_name
    return value.lower() if value else None


def _conforms(conn: Connection) -> RegistryStore:
    return SqlRegistry(conn)  # mypy checks SqlRegistry against the domain's Protocol
