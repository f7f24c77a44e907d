"""Model registry use cases: intake, look-up, inventory queries, lineage and aliases.

>>> import pathlib, tempfile
>>> from modelsteward.config import Settings
>>> from modelsteward.bootstrap import init_workspace
>>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp())))
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "config.json").write_text('{"model_type": "tiny"}')
>>> app.models.add(IntakeRequest(path=folder, name="tiny")).version.ref
'tiny@1'
>>> [row.name for row in app.models.list(tier=["exploratory"])]
['tiny']
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelsteward.artifacts.manifest import ModelManifest
from modelsteward.errors import InvalidInput, NotFound, PolicyDenied
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import append_entries
from modelsteward.registry.records import (
    AliasMove,
    ModelRef,
    ModelStatus,
    ModelSummary,
    ModelVersion,
    RiskTier,
    check_alias,
    check_name,
)
from modelsteward.services.intake import (
    IntakeProgress,
    IntakeRequest,
    IntakeResult,
    build_record,
    check_acceptances,
    conflict_for_other_name,
    existing_differences,
    observation_for,
    register_version,
    scan_and_hash,
)
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.provenance_store import SqlLocations, SqlRuns
from modelsteward.storage.registry_store import SqlRegistry
from modelsteward.storage.workspace import Workspace
from modelsteward.types import format_time, utc_now

if TYPE_CHECKING:
    from modelsteward.artifacts.scanning import ScanReport

__all__ = ["IntakeProgress", "IntakeRequest", "IntakeResult", "Lineage", "ModelService"]


@dataclass(frozen=True)
class Ancestry:
    """One declared base model of a version, resolved or not, with its own ancestry."""

    declared: str
    relation: str | None
    version: ModelVersion | None
    parents: tuple[Ancestry, ...] = ()
    cycle: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe tree."""
        return {
            "declared": self.declared,
            "relation": self.relation,
            "resolved": self.version is not None,
            "ref": self.version.ref if self.version else None,
            "digest": str(self.version.digest) if self.version else None,
            "cycle": self.cycle,
            "ancestors": [p.to_dict() for p in self.parents],
        }


@dataclass(frozen=True)
class Lineage:
    """Where a version comes from and what was built on it."""

    version: ModelVersion
    ancestors: tuple[Ancestry, ...]
    descendants: tuple[ModelVersion, ...] = field(default=())
    #: recorded runs that produced this version: the exact base model and datasets they used
    runs: tuple[dict[str, Any], ...] = field(default=())

    def unresolved(self) -> list[str]:
        """Declared ancestors (at any depth) not registered here."""
        out: list[str] = []
        stack = list(self.ancestors)
        while stack:
            node = stack.pop()
            if node.version is None:
                out.append(node.declared)
            stack.extend(node.parents)
        return sorted(set(out))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "model": self.version.ref,
            "digest": str(self.version.digest),
            "ancestors": [a.to_dict() for a in self.ancestors],
            "unresolved": self.unresolved(),
            "descendants": [{"ref": d.ref, "digest": str(d.digest)} for d in self.descendants],
            "runs": list(self.runs),
        }

    def to_dot(self) -> str:
        """Graphviz DOT: solid edges to registered versions, dashed to unresolved ancestors."""
        lines = ["digraph lineage {", "  rankdir=BT;", "  node [shape=box];"]
        seen: set[tuple[str, str]] = set()

        def node_id(v: ModelVersion | None, declared: str) -> str:
            return json.dumps(v.ref if v else f"{declared} (unresolved)")

        def walk(child: str, nodes: Sequence[Ancestry]) -> None:
            for a in nodes:
                parent = node_id(a.version, a.declared)
                if (child, parent) in seen:
                    continue
                seen.add((child, parent))
                style = "" if a.version else ", style=dashed"
                label = json.dumps(a.relation or "base")
                lines.append(f"  {child} -> {parent} [label={label}{style}];")
                if a.version is None:
                    lines.append(f"  {parent} [style=dashed];")
                walk(parent, a.parents)

        me = json.dumps(self.version.ref)
        lines.append(f"  {me} [style=bold];")
        walk(me, self.ancestors)
        for d in self.descendants:
            lines.append(f'  {json.dumps(d.ref)} -> {me} [label="derived"];')
        for run in self.runs:
            for item in run["inputs"]:
                shape = "box" if item["role"] == "base-model" else "cylinder"
                target = json.dumps(item["name"])
                lines.append(f"  {target} [shape={shape}];")
                lines.append(f"  {me} -> {target} [label={json.dumps(run['run'])}, color=blue];")
        lines.append("}")
        return "\n".join(lines) + "\n"


class ModelService:
    """The model registry of one workspace."""

    def __init__(self, db: Database, workspace: Workspace, *, actor: str) -> None:
        self.db = db
        self.workspace = workspace
        self.actor = actor

    # -- intake --------------------------------------------------------------------------------

    def add(self, request: IntakeRequest, progress: IntakeProgress | None = None) -> IntakeResult:
        """Register the model at ``request.path`` (idempotent for identical content).

        Raises:
            InvalidInput: a bad option or an unacceptable folder; nothing is recorded.
            Conflict: the same content is registered under another name.
        """
        request = request.checked()
        request = replace(request, path=request.path.expanduser())
        manifest, report = scan_and_hash(request, progress or IntakeProgress())
        check_acceptances(request, report)
        with self.db.read() as conn:
            existing = SqlRegistry(conn).by_digest(manifest.root_digest)
        if existing is not None:
            if existing.name != request.name:
                raise conflict_for_other_name(existing, request.name)
            self._seen_at(existing, request.path)
            return IntakeResult(
                existing, False, manifest, report, existing_differences(existing, request)
            )
        blobs = self.workspace.blobs
        manifest_blob = blobs.put(_canonical(manifest.to_dict()))
        scan_blob = blobs.put(_canonical(report.to_dict()))
        with self.db.write() as conn:
            registry = SqlRegistry(conn)
            raced = registry.by_digest(manifest.root_digest)  # another process was quicker
            if raced is not None:
                if raced.name != request.name:
                    raise conflict_for_other_name(raced, request.name)
                return IntakeResult(raced, False, manifest, report)
            record = build_record(
                request,
                manifest,
                report,
                version=registry.next_version(request.name),
                actor=self.actor,
                blobs=(manifest_blob, scan_blob),
            )
            observation = observation_for(manifest, record)
            register_version(registry, SqlLedgerTxn(conn), record, observation)
            SqlLocations(conn).note_location(
                record.digest, str(request.path.resolve()), "model", record.registered_at
            )
        return IntakeResult(record, True, manifest, report)

    def _seen_at(self, version: ModelVersion, path: Path) -> None:
        """Remember a new folder holding a registered version (not a ledger event)."""
        with self.db.write() as conn:
            SqlLocations(conn).note_location(
                version.digest, str(path.resolve()), "model", format_time(utc_now())
            )

    # -- look-up -------------------------------------------------------------------------------

    def get(self, ref: str | ModelRef) -> ModelVersion:
        """Resolve ``NAME``, ``NAME@ALIAS``, ``NAME@VERSION`` or a digest (``NotFound``)."""
        parsed = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
        with self.db.read() as conn:
            found = _resolve(SqlRegistry(conn), parsed)
        if found is None:
            raise NotFound(
                f"no model version {parsed}", hint="run `steward model list` to see what exists"
            )
        return found

    def manifest(self, version: ModelVersion) -> ModelManifest:
        """The registered manifest (read back from the blob store, re-hashed)."""
        data = json.loads(self.workspace.blobs.get(version.manifest_blob))
        return ModelManifest.from_dict(data)

    def scan_report(self, version: ModelVersion) -> ScanReport:
        """The scan report recorded at intake."""
        from modelsteward.artifacts.scanning import ScanReport

        return ScanReport.from_dict(json.loads(self.workspace.blobs.get(version.scan_blob)))

    def list(
        self,
        *,
        tier: Sequence[str] = (),
        license: Sequence[str] = (),
        steward: str | None = None,
        status: str | None = None,
        name: str | None = None,
    ) -> list[ModelSummary]:
        """The inventory, filtered (values within one filter are alternatives)."""
        tiers = [RiskTier.parse(t).value for t in tier]
        if status is not None and status not in {s.value for s in ModelStatus}:
            raise InvalidInput(
                f"unknown status {status!r}",
                hint="--status is one of: " + ", ".join(s.value for s in ModelStatus),
            )
        with self.db.read() as conn:
            return SqlRegistry(conn).summaries(
                tier=tiers, license=license, steward=steward, status=status, name=name
            )

    def details(self, version: ModelVersion) -> dict[str, Any]:
        """Everything ``model show`` prints: record, aliases, lineage, signatures, supplier."""
        lineage = self.lineage(version)
        with self.db.read() as conn:
            registry = SqlRegistry(conn)
            aliases = [alias for _, alias in registry.aliases_of(version.digest)]
            signatures = registry.signatures(version.digest)
        return {
            "record": version.to_dict(),
            "ref": version.ref,
            "aliases": aliases,
            "lineage": lineage.to_dict(),
            "signatures": signatures,
        }

    # -- lineage -------------------------------------------------------------------------------

    def lineage(self, version: ModelVersion, *, depth: int = 16) -> Lineage:
        """Ancestors (resolved against registered versions now) and descendants."""
        with self.db.read() as conn:
            registry = SqlRegistry(conn)

            def ancestry(
                child: ModelVersion, path: frozenset[str], left: int
            ) -> tuple[Ancestry, ...]:
                out = []
                for declared, relation in registry.declared_parents(child.digest):
                    parent = registry.resolve_declared(declared)
                    if parent is not None and str(parent.digest) in path:
                        out.append(Ancestry(declared, relation, parent, cycle=True))
                        continue
                    parents = (
                        ancestry(parent, path | {str(parent.digest)}, left - 1)
                        if parent is not None and left > 0
                        else ()
                    )
                    out.append(Ancestry(declared, relation, parent, parents))
                return tuple(out)

            tree = ancestry(version, frozenset({str(version.digest)}), depth)
            children = registry.children_of(version, registry.source_id(version.digest))
            produced = SqlRuns(conn).producing([str(version.digest)]).get(str(version.digest), [])
        runs = tuple(
            {
                "run": run.id,
                "inputs": [
                    {"role": i.role, "name": i.name, "digest": i.digest}
                    for i in run.inputs
                    if i.role in ("base-model", "dataset")
                ],
            }
            for run in produced
        )
        return Lineage(
            version, tree, tuple(c for c in children if c.digest != version.digest), runs
        )

    # -- aliases -------------------------------------------------------------------------------

    def move_alias(self, target: str, ref: str) -> AliasMove:
        """Point ``NAME@ALIAS`` at the version ``ref`` names; recorded in the ledger.

        Raises:
            InvalidInput: malformed alias or a version of another model.
            PolicyDenied: the version is blocked (an unsafe or unaccepted unscanned file).
        """
        name, at, alias = target.partition("@")
        if not at:
            raise InvalidInput(f"{target!r} is not NAME@ALIAS", hint="e.g. drive-vla@prod")
        check_name(name)
        check_alias(alias)
        version = self.get(ref)
        if version.name != name:
            raise InvalidInput(
                f"{ref} is a version of {version.name}, not {name}",
                hint=f"aliases of {name} point at versions of {name}",
            )
        if version.status == ModelStatus.BLOCKED:
            raise PolicyDenied(
                f"{version.ref} is blocked: {', '.join(version.scan['blocking'])} failed scanning",
                hint="a blocked version can be inspected but never promoted",
            )
        with self.db.write() as conn:
            registry = SqlRegistry(conn)
            previous = registry.alias_target(name, alias)
            if previous == version.digest:
                moves = registry.alias_history(name, alias)
                return moves[-1]
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [
                    EntryDraft(
                        "model.alias.moved",
                        self.actor,
                        f"model:{name}@{alias}",
                        {
                            "name": name,
                            "alias": alias,
                            "previous": str(previous) if previous else None,
                            "target": str(version.digest),
                            "target_ref": version.ref,
                        },
                    )
                ],
            )
            move = AliasMove(
                name,
                alias,
                previous,
                version.digest,
                version.ref,
                entry.time,
                self.actor,
                entry.seq,
            )
            registry.move_alias(move)
        return move

    def alias_history(self, name: str, alias: str | None = None) -> builtins.list[AliasMove]:
        """Every move of ``name``'s aliases (or one alias), oldest first."""
        check_name(name)
        if alias is not None:
            check_alias(alias)
        with self.db.read() as conn:
            return SqlRegistry(conn).alias_history(name, alias)


def _resolve(registry: SqlRegistry, ref: ModelRef) -> ModelVersion | None:
    if ref.digest is not None:
        return registry.by_digest(ref.digest)
    assert ref.name is not None
    if ref.alias is not None:
        digest = registry.alias_target(ref.name, ref.alias)
        return registry.by_digest(digest) if digest else None
    return registry.by_name(ref.name, ref.version)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
