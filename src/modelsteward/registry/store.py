"""What the registry needs from storage (``modelsteward.storage.registry_store`` implements it).

Declared here so the registry's rules can be tested with any implementation, and so storage
depends on the domain, not the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from modelsteward.registry.records import (
    AliasMove,
    ModelSummary,
    ModelVersion,
    Supplier,
    SupplierReview,
)
from modelsteward.types import Digest

__all__ = ["RegistryStore"]


class RegistryStore(Protocol):
    """Reads and writes of model versions, lineage, aliases, signatures and suppliers."""

    def by_digest(self, digest: Digest) -> ModelVersion | None:
        """The version with this digest."""

    def by_name(self, name: str, version: int | None = None) -> ModelVersion | None:
        """``NAME@VERSION`` or the newest version of ``NAME``."""

    def next_version(self, name: str) -> int:
        """The number the next version of ``name`` gets."""

    def insert_version(self, version: ModelVersion, source_id: str | None) -> None:
        """Store a new version and its declared lineage."""

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
        """Inventory rows matching every filter."""

    def declared_parents(self, child: Digest) -> list[tuple[str, str | None]]:
        """Declared base models of a version."""

    def resolve_declared(self, declared: str) -> ModelVersion | None:
        """The registered version a declared base model names, if any."""

    def alias_target(self, name: str, alias: str) -> Digest | None:
        """Where ``NAME@ALIAS`` points."""

    def move_alias(self, move: AliasMove) -> None:
        """Move an alias and keep the move."""

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        """Alias moves, oldest first."""

    def signatures(self, digest: Digest) -> list[dict[str, Any]]:
        """Signatures recorded for a version."""

    def supplier(self, supplier_id: str) -> Supplier | None:
        """A supplier and its observations."""

    def review_supplier(self, supplier_id: str, review: SupplierReview) -> None:
        """Replace the reviewer's fields."""
