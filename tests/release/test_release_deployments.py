"""Deployments with a user policy folder that allows every move, so these tests judge the
mechanics alone: one concurrent promotion wins, rollback, the kill flag, observations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelsteward.bootstrap import Steward, init_workspace
from modelsteward.config import Settings
from modelsteward.errors import Conflict, InvalidInput, NotFound, PolicyDenied, StewardError
from modelsteward.runtime.envelope import Envelope, example_envelope
from modelsteward.runtime.gate import SafetyGate
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.records import DecisionRecorder
from modelsteward.telemetry.decisions import ParquetDecisionLog
from release_factories import add_model, add_people, as_actor, permissive_pack
from runtime_factories import Drive, steady

pytestmark = pytest.mark.storage


@pytest.fixture
def open_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"policy_dir": permissive_pack(tmp_path / "pack")})


@pytest.fixture
def ops(open_settings: Settings, tmp_path: Path) -> Iterator[Steward]:
    """The workspace as omar (operations), with the permissive pack and the five people."""
    owner = init_workspace(open_settings)
    add_people(owner, open_settings, tmp_path / "keys")
    app = as_actor(open_settings, "omar")
    yield app
    app.close()
    owner.close()


def _to(app: Steward, ref: str, stage: str, deployment: str | None = None) -> None:
    app.release.promote(ref, stage, deployment)


def _deploy(app: Steward, tmp_path: Path, name: str = "fleet", target: str = "none") -> Path:
    runbook = tmp_path / f"{name}-runbook.md"
    runbook.write_text("# Runbook\nPage the on-call safety engineer.\n")
    flag = tmp_path / "flags" / f"{name}.kill"
    app.deployments.add(
        name, ring="eu", canary_share=0.1, rollback_target=target, runbook=runbook, kill_flag=flag
    )
    return flag


def test_concurrent_promotions_of_one_deployment_exactly_one_wins(
    ops: Steward, open_settings: Settings, tmp_path: Path
) -> None:
    refs = [add_model(ops, tmp_path, f"acme/m{i}") for i in range(2)]
    _deploy(ops, tmp_path)
    for ref in refs:
        _to(ops, ref, "offline-validated")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def promote(ref: str) -> None:
        app = as_actor(open_settings, "omar")
        try:
            barrier.wait()
            app.release.promote(ref, "shadow", "fleet")
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            app.close()

    threads = [threading.Thread(target=promote, args=(ref,)) for ref in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    history = ops.deployments.get("fleet").history
    assert len(history) == 1
    assert history[0]["event"] == "promoted"


def test_rollback_returns_to_the_previous_production_release(ops: Steward, tmp_path: Path) -> None:
    old, new = add_model(ops, tmp_path, "acme/old"), add_model(ops, tmp_path, "acme/new")
    flag = _deploy(ops, tmp_path)
    for ref in (old, new):
        _to(ops, ref, "offline-validated")
        for stage in ("shadow", "canary", "production"):
            if ref == new and stage == "production":
                break
            _to(ops, ref, stage, "fleet")
    assert ops.deployments.get("fleet").stage == "canary"
    result = ops.deployments.rollback("fleet", "canary disagreement too high")
    after = ops.deployments.get("fleet")
    assert after.release == result["to_release"] == str(ops.models.get(old).digest)
    assert after.stage == "production"
    assert not flag.exists()
    assert ops.release.check(new, "production", "fleet").record["from"] == "rolled-back"
    with pytest.raises(PolicyDenied):  # rolled-back is final
        ops.release.promote(new, "production", "fleet")


def test_rollback_without_an_earlier_release_stops_the_model(ops: Steward, tmp_path: Path) -> None:
    ref = add_model(ops, tmp_path, "acme/only")
    flag = _deploy(ops, tmp_path, target="none")
    _to(ops, ref, "offline-validated")
    _to(ops, ref, "shadow", "fleet")
    result = ops.deployments.rollback("fleet", "bad shadow results")
    assert result["to_release"] is None
    assert result["kill_flag_raised"]
    assert KillSwitch(flag).poll() == "kill flag: rolled back: bad shadow results"
    assert ops.deployments.get("fleet").release is None


def test_kill_writes_the_flag_the_runtime_gate_honours_and_resume_removes_it(
    ops: Steward, tmp_path: Path
) -> None:
    flag = _deploy(ops, tmp_path)
    switch = KillSwitch(flag)
    assert switch.poll() is None
    ops.deployments.kill("fleet", "brake complaints")
    assert switch.poll() == "kill flag: brake complaints"
    with pytest.raises(NotFound):
        ops.deployments.kill("nope", "x")
    ops.deployments.resume("fleet", "fixed")
    assert switch.poll() is None
    assert not flag.exists()
    with pytest.raises(Conflict, match="not killed"):
        ops.deployments.resume("fleet")


def test_release_commands_need_the_operations_role(
    ops: Steward, open_settings: Settings, tmp_path: Path
) -> None:
    _deploy(ops, tmp_path)
    lena = as_actor(open_settings, "lena")
    try:
        for action in (
            lambda: lena.deployments.kill("fleet", "x"),
            lambda: lena.deployments.rollback("fleet", "x"),
            lambda: lena.deployments.add(
                "other", ring="r", canary_share=0.1, rollback_target="none", runbook=None,
                kill_flag=None,
            ),
        ):  # fmt: skip
            with pytest.raises(PolicyDenied, match="may not run"):
                action()
    finally:
        lena.close()


def test_bad_deployment_input_changes_nothing(ops: Steward, tmp_path: Path) -> None:
    _deploy(ops, tmp_path)
    size = ops.ledger.size()
    empty = tmp_path / "empty.md"
    empty.write_text(" ")
    bad: list[dict[str, object]] = [
        {"name": "fleet"},
        {"name": "Bad Name"},
        {"canary_share": 1.5},
        {"runbook": empty},
        {"runbook": tmp_path / "missing.md"},
        {"rollback_target": "acme/nothing"},
    ]
    for changes in bad:
        args: dict[str, object] = {
            "name": "fleet-2", "ring": "eu", "canary_share": 0.1, "rollback_target": "none",
            "runbook": None, "kill_flag": None, **changes,
        }  # fmt: skip
        name = args.pop("name")
        with pytest.raises(StewardError):
            ops.deployments.add(name, **args)  # type: ignore[arg-type]
    assert ops.ledger.size() == size
    assert [d.spec.name for d in ops.deployments.list()] == ["fleet"]


def test_observation_summarises_the_gate_logs_of_the_running_release(
    ops: Steward, tmp_path: Path
) -> None:
    ref = add_model(ops, tmp_path, "acme/obs")
    _deploy(ops, tmp_path)
    with pytest.raises(InvalidInput, match="runs no release"):
        ops.deployments.observe("fleet", [tmp_path])
    _to(ops, ref, "offline-validated")
    _to(ops, ref, "shadow", "fleet")
    logs = tmp_path / "logs"
    digest = str(ops.models.get(ref).digest)
    envelope = Envelope.from_dict(example_envelope())
    log = ParquetDecisionLog(logs, on_event=ops.gate.ledger_events(f"model:{digest}"))
    recorder = DecisionRecorder(log, capacity=30)  # 10 of the 40 decisions are dropped
    gate = SafetyGate.unsafe_unattested(envelope, recorder=recorder, enforce_deadline=False)
    gate.model_digest = digest
    recorder.bind(gate.envelope_digest, digest)
    drive = Drive(20.0)
    for _ in range(40):
        gate.decide(drive.world(), steady(20.0, t=drive.t), now=drive.t)
        drive.step()
    recorder.flush()
    summary = ops.deployments.observe("fleet", [logs])
    assert summary["dropped"] == 10  # read back from the batch the ledger pinned
    assert summary["unpinned_batches"] == 0
    assert summary["cycles"] == 30
    assert summary["stage"] == "shadow"
    assert 0.0 <= summary["disagreement"] <= 1.0
    assert summary["fail_closed"] == 0
    evidence = ops.release.check(ref, "canary", "fleet").record
    assert evidence["allow"]  # the permissive pack; the observation is in the evidence:
    assert (
        ops.release.evidence.collect(ops.models.get(ref), ("fleet", _row(ops))).evidence[
            "observations"
        ]["shadow"]["cycles"]
        == 30
    )


def _row(app: Steward) -> object:
    from modelsteward.storage.release_store import SqlRelease

    with app.db.read() as conn:
        return SqlRelease(conn).deployment("fleet")


def test_bad_rollback_kill_and_observe_input_changes_nothing(ops: Steward, tmp_path: Path) -> None:
    flag = _deploy(ops, tmp_path)
    size = ops.ledger.size()
    with pytest.raises(InvalidInput, match="--reason is empty"):
        ops.deployments.kill("fleet", "  ")
    with pytest.raises(InvalidInput, match="--reason is empty"):
        ops.deployments.rollback("fleet", "")
    with pytest.raises(InvalidInput, match="runs nothing"):
        ops.deployments.rollback("fleet", "nothing to roll back")
    with pytest.raises(NotFound):
        ops.deployments.get("nowhere")
    ref = add_model(ops, tmp_path, "acme/obs2")
    _to(ops, ref, "offline-validated")
    _to(ops, ref, "shadow", "fleet")
    size = ops.ledger.size()
    with pytest.raises(InvalidInput, match="no decision log"):
        ops.deployments.observe("fleet", [tmp_path / "missing"])
    (tmp_path / "empty-logs").mkdir()
    with pytest.raises(InvalidInput, match="holds no decisions"):
        ops.deployments.observe("fleet", [tmp_path / "empty-logs"])
    assert ops.ledger.size() == size
    assert not flag.exists()
