"""Supplier records: one per upstream organisation, built from what its snapshots show, plus
the fields a reviewer fills in (recorded in the ledger).

    >>> import pathlib, tempfile
    >>> from modelsteward.config import Settings
    >>> from modelsteward.bootstrap import init_workspace
    >>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
    >>> app.suppliers.list()
    []
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from modelsteward.errors import InvalidInput, NotFound
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import Supplier, SupplierReview
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.registry_store import SqlRegistry

__all__ = ["SupplierService", "supplier_summary"]

_ACTIVITY = ("active", "occasional", "dormant", "unknown")


def supplier_summary(supplier: Supplier) -> dict[str, Any]:
    """One JSON-safe row: latest observation, review state."""
    latest = supplier.observations[-1] if supplier.observations else {}
    return {
        "id": supplier.id,
        "first_seen": supplier.first_seen,
        "models": [o.get("model") for o in supplier.observations],
        "license_file": latest.get("license_file"),
        "card_completeness": latest.get("card_completeness"),
        "release_notes": latest.get("release_notes"),
        "declared_datasets": sorted(
            {d for o in supplier.observations for d in o.get("declared_datasets", [])}
        ),
        "review": asdict(supplier.review),
        "reviewed": supplier.reviewed,
    }


class SupplierService:
    """Upstream organisations the workspace takes models from."""

    def __init__(self, db: Database, *, actor: str) -> None:
        self.db = db
        self.actor = actor

    def list(self) -> list[Supplier]:
        """Every supplier, by id."""
        with self.db.read() as conn:
            registry = SqlRegistry(conn)
            return [s for s in (registry.supplier(i) for i in registry.supplier_ids()) if s]

    def get(self, supplier_id: str) -> Supplier:
        """One supplier (``NotFound`` lists the known ones)."""
        with self.db.read() as conn:
            registry = SqlRegistry(conn)
            found = registry.supplier(supplier_id.lower())
            known = registry.supplier_ids() if found is None else []
        if found is None:
            raise NotFound(
                f"no supplier {supplier_id!r}",
                hint="known suppliers: " + (", ".join(known) or "none yet (add a model --source)"),
            )
        return found

    def review(
        self,
        supplier_id: str,
        *,
        maintainer_activity: str | None = None,
        advisories: str | None = None,
        notes: str | None = None,
    ) -> Supplier:
        """Record a reviewer's assessment (merged over the previous one); a ledger event."""
        if maintainer_activity is not None and maintainer_activity not in _ACTIVITY:
            raise InvalidInput(
                f"--maintainer-activity {maintainer_activity!r} is not a known value",
                hint="one of: " + ", ".join(_ACTIVITY),
            )
        if maintainer_activity is None and advisories is None and notes is None:
            raise InvalidInput(
                "nothing to review",
                hint="give --maintainer-activity, --advisories and/or --notes",
            )
        current = self.get(supplier_id)
        with self.db.write() as conn:
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "supplier.reviewed",
                        self.actor,
                        f"supplier:{current.id}",
                        {
                            "supplier": current.id,
                            "maintainer_activity": maintainer_activity,
                            "advisories": advisories,
                            "notes": notes,
                        },
                    )
                ],
            )
            old = current.review
            review = SupplierReview(
                maintainer_activity=maintainer_activity or old.maintainer_activity,
                advisories=advisories if advisories is not None else old.advisories,
                notes=notes if notes is not None else old.notes,
                reviewed_by=self.actor,
                reviewed_at=entry.time,
            )
            SqlRegistry(conn).review_supplier(current.id, review)
        return self.get(current.id)
