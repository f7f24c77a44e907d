"""Licence review along the whole lineage, and the legal register.

The lineage a review walks: the model's declared base models (recursively, resolved against
registered versions), the base model and every dataset of every run that produced a version, and
the datasets declared on model cards. Anything declared but not registered is a node that cannot
be traced to approved inputs — ``unknown``, which blocks.

An approval in the legal register is bound to the model digest *and* the review digest (a digest
of everything the review looked at), so any change in the lineage voids it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import ModelVersion
from modelsteward.services.models import ModelService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlDatasets, SqlLegalRegister, SqlRuns
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.types import format_time, utc_now

if TYPE_CHECKING:
    from modelsteward.licensing.review import LicenseReview, LineageNode

__all__ = ["LicenseDecision", "LicenseService", "lineage_graph"]


@dataclass(frozen=True)
class LicenseDecision:
    """A review and what the legal register says about it."""

    review: LicenseReview
    approval: dict[str, Any] | None  # the approval that still holds, if any
    voided: tuple[dict[str, Any], ...]  # approvals for this use whose lineage has changed since

    @property
    def allowed(self) -> bool:
        """Compatible (with or without obligations), or approved in the legal register."""
        return self.review.passed or self.approval is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            **self.review.to_dict(),
            "allowed": self.allowed,
            "approval": self.approval,
            "voided_approvals": list(self.voided),
        }


def _model_license(version: ModelVersion) -> tuple[str | None, str | None]:
    return version.license, version.license_name


class _Walker:
    """Breadth-first over the lineage, a few batched queries per level."""

    def __init__(self, conn: Connection) -> None:
        self.registry = SqlRegistry(conn)
        self.runs = SqlRuns(conn)
        self.datasets = SqlDatasets(conn)
        self.nodes: dict[str, LineageNode] = {}

    def walk(self, root: ModelVersion) -> dict[str, LineageNode]:
        frontier = [root]
        seen = {str(root.digest)}
        while frontier:
            next_level: list[ModelVersion] = []
            for version in self._level(frontier):
                if str(version.digest) not in seen:
                    seen.add(str(version.digest))
                    next_level.append(version)
            frontier = next_level
        return self.nodes

    def _level(self, level: Sequence[ModelVersion]) -> list[ModelVersion]:
        from modelsteward.licensing.review import LineageNode

        digests = [str(v.digest) for v in level]
        declared = self.registry.declared_parents_of(digests)
        resolved = self.registry.resolve_many([d for ps in declared.values() for d, _ in ps])
        produced = self.runs.producing(digests)
        run_models = self.registry.by_digests(
            [
                i.digest
                for rs in produced.values()
                for r in rs
                for i in r.inputs
                if i.role == "base-model"
            ]
        )
        found = self.datasets.identities(
            names=[d for v in level for d in v.datasets],
            digests=[i.digest for rs in produced.values() for r in rs for i in r.datasets],
        )
        run_data = {digest: (name, digest, lic) for name, digest, lic in found}
        card_data = {name.lower(): (name, digest, lic) for name, digest, lic in found}
        discovered: list[ModelVersion] = []
        for version in level:
            inputs: list[tuple[str, str]] = []
            for name, relation in declared.get(str(version.digest), []):
                parent = resolved.get(name.lower())
                inputs.append(self._model_input(parent, name, discovered))
                inputs[-1] = (inputs[-1][0], relation or "base-model")
            for run in produced.get(str(version.digest), []):
                for item in run.inputs:
                    if item.role == "base-model":
                        inputs.append(
                            (
                                self._model_input(
                                    run_models.get(item.digest), item.name, discovered
                                )[0],
                                "run-base-model",
                            )
                        )
                    elif item.role == "dataset":
                        inputs.append(
                            (self._dataset(run_data.get(item.digest), item.name), "run-dataset")
                        )
            for name in version.datasets:
                inputs.append((self._dataset(card_data.get(name.lower()), name), "card-dataset"))
            license_id, license_name = _model_license(version)
            self.nodes[f"model:{version.digest}"] = LineageNode(
                id=f"model:{version.digest}",
                kind="model",
                label=version.ref,
                license=license_id,
                license_name=license_name,
                registered=True,
                inputs=tuple(dict.fromkeys(inputs)),
            )
        return discovered

    def _model_input(
        self, version: ModelVersion | None, declared: str, discovered: list[ModelVersion]
    ) -> tuple[str, str]:
        from modelsteward.licensing.review import LineageNode

        if version is None:
            node_id = f"declared-model:{declared.lower()}"
            self.nodes.setdefault(
                node_id,
                LineageNode(node_id, "model", declared, None, registered=False),
            )
            return node_id, "base-model"
        node_id = f"model:{version.digest}"
        if node_id not in self.nodes:
            discovered.append(version)
        return node_id, "base-model"

    def _dataset(self, snapshot: tuple[str, str, str] | None, declared: str) -> str:
        from modelsteward.licensing.review import LineageNode

        if snapshot is None:
            node_id = f"declared-dataset:{declared.lower()}"
            self.nodes.setdefault(
                node_id, LineageNode(node_id, "dataset", declared, None, registered=False)
            )
            return node_id
        name, digest, license_expression = snapshot
        node_id = f"dataset:{digest}"
        self.nodes.setdefault(node_id, LineageNode(node_id, "dataset", name, license_expression))
        return node_id


def lineage_graph(conn: Connection, root: ModelVersion) -> dict[str, LineageNode]:
    """Every node of ``root``'s lineage, as the licence review reads it."""
    return _Walker(conn).walk(root)


class LicenseService:
    """Licence reviews and the legal register of one workspace."""

    def __init__(self, models: ModelService, *, actor: str) -> None:
        self.models = models
        self.db = models.db
        self.actor = actor

    def review(
        self, ref: str, *, use: str, distribution: str = "none", field: str | None = None
    ) -> LicenseDecision:
        """Review ``ref``'s lineage for the intended use and look up the legal register."""
        return self._review(self.models.get(ref), use, distribution, field)

    def _review(
        self, version: ModelVersion, use: str, distribution: str, field: str | None
    ) -> LicenseDecision:
        from modelsteward.licensing.review import review_lineage

        with self.db.read() as conn:
            nodes = lineage_graph(conn, version)
            approvals = SqlLegalRegister(conn).for_model(str(version.digest))
        review = review_lineage(
            f"model:{version.digest}", nodes, use=use, distribution=distribution, field=field
        )
        same_use = [
            a
            for a in approvals
            if a["use"] == review.use.value
            and a["distribution"] == review.distribution.value
            and a.get("field") == review.field
        ]
        holding = next((a for a in same_use if a["review_digest"] == review.digest), None)
        voided = tuple(a for a in same_use if a["review_digest"] != review.digest)
        return LicenseDecision(review, holding, voided)

    def approve(
        self,
        ref: str,
        *,
        use: str,
        by: str,
        note: str,
        distribution: str = "none",
        field: str | None = None,
    ) -> dict[str, Any]:
        """Record a legal decision bound to the model digest and the current review's digest."""
        if not by.strip():
            raise InvalidInput("--by is empty", hint="name the person who decided")
        if not note.strip():
            raise InvalidInput("--note is empty", hint="say what was decided and why")
        version = self.models.get(ref)
        review = self._review(version, use, distribution, field).review
        approval = {
            "model": version.ref,
            "model_digest": str(version.digest),
            "use": review.use.value,
            "distribution": review.distribution.value,
            "field": review.field,
            "review_digest": review.digest,
            "verdict_at_approval": review.verdict.value,
            "reasons_at_approval": [r["message"] for r in review.to_dict()["reasons"]],
            "approved_by": by.strip(),
            "recorded_by": self.actor,
            "note": note.strip(),
            "approved_at": format_time(utc_now()),
        }
        with self.db.write() as conn:
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [EntryDraft("license.approved", self.actor, f"model:{version.digest}", approval)],
            )
            SqlLegalRegister(conn).add(entry.seq, approval)
        return {**approval, "seq": entry.seq}
