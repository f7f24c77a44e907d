"""Release gates, sign-offs and promotions.

``check`` assembles the evidence, asks the policy pack, and records the decision; ``promote`` does
the same and, when allowed, moves the release (and its deployment) with a compare-and-set so that
of two concurrent promotions exactly one wins; ``signoff`` records a digest-bound signature after
the policy's separation-of-duties rules accept it; ``replay`` re-evaluates a stored decision.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from modelsteward.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from modelsteward.ledger.entry import EntryDraft, canonical_json
from modelsteward.ledger.log import append_entries
from modelsteward.policy import PolicyBundle, PolicyEngine, RegoCppEngine
from modelsteward.registry.records import ModelVersion
from modelsteward.release import (
    DEPLOYABLE,
    SignedSignOff,
    SignOffStatement,
    Stage,
    Verdict,
    check_transition,
    parse_stage,
    require,
)
from modelsteward.services._decision import (
    OUTCOME_FIELDS,
    MalformedOutput,
    engine_failure,
    gate_input,
    normalise_output,
    seal,
)
from modelsteward.services._signoffs import accepted, check_refusals, signer, signoff_inputs
from modelsteward.services.evidence import EvidenceCollector
from modelsteward.services.models import ModelService
from modelsteward.services.people import PeopleService
from modelsteward.storage.ledger_store import SqlLedgerTxn
from modelsteward.storage.release_store import DeploymentRow, SqlRelease
from modelsteward.types import Digest, format_time, utc_now

__all__ = ["GateDecision", "PromotionRefused", "ReleaseService", "Replay"]


@dataclass(frozen=True)
class GateDecision:
    """A recorded decision (the ``gate.decision`` payload) and its ledger entry."""

    record: Mapping[str, Any]
    seq: int

    @property
    def allow(self) -> bool:
        """Whether the policy allowed the move."""
        return bool(self.record["allow"])

    @property
    def id(self) -> str:
        """The decision's digest."""
        return str(self.record["decision_id"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {**self.record, "seq": self.seq}


class PromotionRefused(PolicyDenied):
    """The gate denied a promotion; :attr:`decision` is the recorded decision."""

    def __init__(self, decision: GateDecision) -> None:
        record = decision.record
        titles = ", ".join(str(u["title"]) for u in record["unmet"])
        super().__init__(
            f"promotion of {record['model']} to {record['to']} refused: {titles}",
            hint=f"decision {decision.id}; `steward gate check` explains each requirement",
        )
        self.decision = decision


@dataclass(frozen=True)
class Replay:
    """A stored decision evaluated again."""

    decision: Mapping[str, Any]
    outcome: Mapping[str, Any]
    engine: Mapping[str, str]

    @property
    def identical(self) -> bool:
        """Every field of the policy's answer is the same."""
        return all(self.decision[k] == self.outcome[k] for k in OUTCOME_FIELDS)

    def differences(self) -> list[str]:
        """The fields that changed."""
        return [k for k in OUTCOME_FIELDS if self.decision[k] != self.outcome[k]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "decision_id": self.decision["decision_id"],
            "identical": self.identical,
            "differences": self.differences(),
            "recorded": {k: self.decision[k] for k in OUTCOME_FIELDS},
            "replayed": dict(self.outcome),
            "engine_then": self.decision["engine"],
            "engine_now": dict(self.engine),
        }


class ReleaseService:
    """Gate checks, sign-offs, promotions and decision replay for one workspace."""

    def __init__(
        self,
        models: ModelService,
        evidence: EvidenceCollector,
        people: PeopleService,
        *,
        actor: str,
        policy_dir: Path | None = None,
        engine: PolicyEngine | None = None,
    ) -> None:
        self.models = models
        self.db = models.db
        self.blobs = models.workspace.blobs
        self.evidence = evidence
        self.people = people
        self.actor = actor
        self.policy_dir = policy_dir
        self._engine = engine
        self._bundle: PolicyBundle | None = None

    @property
    def engine(self) -> PolicyEngine:
        """The policy engine (rego-cpp unless another was plugged in)."""
        if self._engine is None:
            self._engine = RegoCppEngine()
        return self._engine

    def bundle(self) -> PolicyBundle:
        """The policy pack in force: ``STEWARD_POLICY_DIR`` or the shipped default."""
        if self._bundle is None:
            self._bundle = (
                PolicyBundle.from_dir(self.policy_dir)
                if self.policy_dir
                else PolicyBundle.default()
            )
        return self._bundle

    # -- checks --------------------------------------------------------------------------------

    def check(
        self, ref: str, to: str, deployment: str | None = None, *, purpose: str = "check"
    ) -> GateDecision:
        """Evaluate the gate for moving ``ref`` to stage ``to`` and record the decision."""
        version, target, current, dep = self._resolve(ref, to, deployment)
        record = self._evaluate(version, current, target, dep, purpose)
        with self.db.write() as conn:
            return self._store(conn, record)

    def _resolve(
        self, ref: str, to: str, deployment: str | None
    ) -> tuple[ModelVersion, Stage, Stage, tuple[str, DeploymentRow] | None]:
        target = parse_stage(to)
        version = self.models.get(ref)
        with self.db.read() as conn:
            store = SqlRelease(conn)
            current = Stage(store.stage(str(version.digest)) or Stage.REGISTERED)
            row = None
            if deployment is not None:
                row = store.deployment(deployment)
                if row is None:
                    raise NotFound(
                        f"no deployment named {deployment!r}",
                        hint="steward deployment add NAME … (steward deployment list)",
                    )
        found = (deployment, row) if deployment is not None and row is not None else None
        return version, target, current, found

    def _evaluate(
        self,
        version: ModelVersion,
        current: Stage,
        target: Stage,
        dep: tuple[str, DeploymentRow] | None,
        purpose: str,
    ) -> dict[str, Any]:
        bundle = self.bundle()
        snapshot = self.evidence.collect(version, dep)
        request = {
            "from": current.value,
            "to": target.value,
            "date": date.today().isoformat(),
            "deployment": dep[0] if dep else None,
        }
        signoffs = signoff_inputs(self.db, str(version.digest), target.value)
        document = gate_input(request, snapshot, bundle.digest, signoffs)
        outcome = self._decide(bundle, document, version.ref)  # a pack that fails to compile
        input_blob = self.blobs.put(canonical_json(document))  # raises before anything is stored
        policy_blob = self.blobs.put(bundle.to_bytes())
        return seal(
            {
                "purpose": purpose,
                "model": version.ref,
                "model_digest": str(version.digest),
                "from": current.value,
                "to": target.value,
                "deployment": request["deployment"],
                **outcome,
                "evidence_digest": snapshot.digest,
                "input_digest": str(input_blob),
                "input_blob": str(input_blob),
                "policy_digest": bundle.digest,
                "policy_blob": str(policy_blob),
                "policy_pack": {"name": bundle.name, "version": bundle.version},
                "engine": {"name": self.engine.name, "version": self.engine.version},
                "decided_at": format_time(utc_now()),
                "decided_by": self.actor,
            }
        )

    def _decide(
        self, bundle: PolicyBundle, document: Mapping[str, Any], ref: str
    ) -> dict[str, Any]:
        try:
            raw = self.engine.evaluate(bundle, "data.steward.gate.decision", document)
        except PolicyDenied as exc:  # the engine failed: deny, saying why
            return engine_failure("policy-error", exc.message)
        try:
            return normalise_output(raw, ref)
        except MalformedOutput as exc:
            return engine_failure("policy-output", f"the policy's decision is malformed: {exc}")

    def _store(self, conn: Any, record: dict[str, Any]) -> GateDecision:
        (entry,) = append_entries(
            SqlLedgerTxn(conn),
            [EntryDraft("gate.decision", self.actor, f"model:{record['model_digest']}", record)],
        )
        SqlRelease(conn).add_decision(entry.seq, record)
        return GateDecision(record, entry.seq)

    # -- sign-offs -----------------------------------------------------------------------------

    def signoff(
        self,
        ref: str,
        to: str,
        *,
        role: str,
        approve: bool,
        comment: str,
        key: Path,
        accepts: tuple[str, ...] = (),
        deployment: str | None = None,
    ) -> dict[str, Any]:
        """Sign the current evidence for moving ``ref`` to ``to``; the policy may refuse it."""
        if not comment.strip():
            raise InvalidInput("--comment is empty", hint="say what you checked and why")
        version, target, current, dep = self._resolve(ref, to, deployment)
        check_transition(current, target)
        if target in DEPLOYABLE and dep is None:
            raise InvalidInput(
                f"--deployment is required to sign off {target.value}",
                hint="name the deployment the release will run in (steward deployment list)",
            )
        person = signer(self.db, key, role)
        snapshot = self.evidence.collect(version, dep)
        bundle = self.bundle()
        statement = SignOffStatement(
            model=version.ref,
            model_digest=str(version.digest),
            stage=target.value,
            role=role,
            person=person.name,
            verdict=Verdict.APPROVE if approve else Verdict.REJECT,
            comment=comment.strip(),
            accepts=accepted(accepts, snapshot),
            evidence_digest=snapshot.digest,
            policy_digest=bundle.digest,
            signed_at=format_time(utc_now()),
        )
        signed = SignedSignOff.sign(statement, key)
        existing = [
            i
            for i in signoff_inputs(self.db, signed.statement.model_digest, target.value)
            if i["evidence_digest"] == snapshot.digest and i["policy_digest"] == bundle.digest
        ]
        check_refusals(self.engine, bundle, version, signed, person, existing)
        payload = signed.to_dict()
        with self.db.write() as conn:
            (entry,) = append_entries(
                SqlLedgerTxn(conn),
                [EntryDraft("release.signoff", self.actor, f"model:{version.digest}", payload)],
            )
            SqlRelease(conn).add_signoff(entry.seq, payload)
        return {**payload, "seq": entry.seq}

    def signoffs(self, ref: str) -> list[dict[str, Any]]:
        """Every sign-off of a version with its signature check, oldest first."""
        version = self.models.get(ref)
        return signoff_inputs(self.db, str(version.digest), None, with_seq=True)

    # -- promotion -----------------------------------------------------------------------------

    def promote(self, ref: str, to: str, deployment: str | None = None) -> GateDecision:
        """Evaluate the gate and, if it allows, move the release (exactly one concurrent winner)."""
        target = parse_stage(to)
        require(
            "retire" if target is Stage.RETIRED else "promote", self.actor, self.people.acting()
        )
        version, target, current, dep = self._resolve(ref, to, deployment)
        check_transition(current, target)  # whatever the policy says, stages are never skipped
        if target in DEPLOYABLE and dep is None:
            raise InvalidInput(
                f"--deployment is required to promote to {target.value}",
                hint="name where the release will run (steward deployment list)",
            )
        record = self._evaluate(version, current, target, dep, "promote")
        if not record["allow"]:
            with self.db.write() as conn:
                decision = self._store(conn, record)
            raise PromotionRefused(decision)
        with self.db.write() as conn:
            decision = self._store(conn, record)
            self._move(conn, version, current, target, dep, decision)
        return decision

    def _move(
        self,
        conn: Any,
        version: ModelVersion,
        current: Stage,
        target: Stage,
        dep: tuple[str, DeploymentRow] | None,
        decision: GateDecision,
    ) -> None:
        digest = str(version.digest)
        payload = {
            "model": version.ref,
            "model_digest": digest,
            "from": current.value,
            "to": target.value,
            "deployment": dep[0] if dep else None,
            "decision_id": decision.id,
        }
        (entry,) = append_entries(
            SqlLedgerTxn(conn),
            [EntryDraft("release.promoted", self.actor, f"model:{digest}", payload)],
        )
        store = SqlRelease(conn)
        expected = None if current is Stage.REGISTERED else current.value  # no row until it moves
        moved = store.move_stage(digest, expected, target.value, entry.seq)
        if dep is not None:
            moved = moved and store.move_deployment(dep[0], dep[1].revision, digest, target.value)
            store.add_history(entry.seq, dep[0], digest, target.value, "promoted", entry.time)
        if not moved:  # raising rolls the whole transaction back: nothing was promoted
            raise Conflict(
                f"{version.ref} or its deployment changed while this promotion was evaluated",
                hint="another promotion won; check again with steward gate check",
            )

    # -- decisions -----------------------------------------------------------------------------

    def decision(self, prefix: str) -> dict[str, Any]:
        """One stored decision by its id or a unique prefix of it."""
        text = prefix.strip().lower()
        hexpart = text.removeprefix("sha256:")
        if len(hexpart) < 6 or any(c not in "0123456789abcdef" for c in hexpart):
            raise InvalidInput(
                f"{prefix!r} is not a decision id", hint="give at least 6 hex digits of it"
            )
        with self.db.read() as conn:
            found = SqlRelease(conn).decisions_like(hexpart)
        if not found:
            raise NotFound(f"no gate decision {prefix}", hint="steward gate decisions lists them")
        if len(found) > 1:
            raise InvalidInput(f"{prefix} matches several decisions", hint="give more digits")
        return found[0]

    def decisions(self, ref: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent decisions, newest first."""
        digest = str(self.models.get(ref).digest) if ref else None
        with self.db.read() as conn:
            return SqlRelease(conn).decisions(digest, limit)

    def replay(self, prefix: str) -> Replay:
        """Evaluate a stored decision again with its stored input and policy bundle."""
        record = self.decision(prefix)
        document = json.loads(self.blobs.get(Digest.parse(record["input_blob"])))
        bundle = PolicyBundle.from_bytes(self.blobs.get(Digest.parse(record["policy_blob"])))
        outcome = self._decide(bundle, document, record["model"])
        return Replay(record, outcome, {"name": self.engine.name, "version": self.engine.version})
