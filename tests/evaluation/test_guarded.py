"""The reference policy with and without the safety gate, in real highway-env.

A tiny python-kind model folder that always asks for FASTER at confidence 0.9 stands in for the
trained policies: in dense traffic the gate must clamp it, and every count the comparison
reports must agree with the decision records it wrote.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from modelsteward.artifacts.manifest import hash_model
from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.cli._common import console
from modelsteward.cli.gate_demo import register
from modelsteward.errors import InvalidInput, NotFound, VerificationFailed
from modelsteward.evaluation._guarded_world import PERCEPTION_RANGE_M
from modelsteward.evaluation._simulator import make_env, reset_env
from modelsteward.evaluation.closed_loop import run_episode
from modelsteward.evaluation.guarded import (
    GateDemoResult,
    SignedGateFactory,
    WorldObserver,
    action_of,
    proposal_of,
    reference_envelope,
    run_guarded_comparison,
    write_reference_envelope,
)
from modelsteward.evaluation.policies import ModelFolderSpec
from modelsteward.evaluation.reference._library import SCENARIOS
from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.signed import sign_envelope
from modelsteward.telemetry.decisions import read_decisions, read_events, verify_batches

LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER = range(5)
DENSE = ("dense-three-lane", "cut-in-aggressive-dense-four-lane")
slow = [pytest.mark.slow, pytest.mark.xdist_group("gate-demo")]


@pytest.fixture
def faster_policy(tmp_path: Path) -> Path:
    """A model folder whose policy always proposes FASTER, confidently."""
    folder = tmp_path / "always-faster"
    folder.mkdir()
    (folder / "driver.py").write_text("def act(observation):\n    return 3, 0.9\n")
    (folder / "steward-adapter.yaml").write_text(
        "kind: python\nmodel: driver:act\nobservation: {type: Kinematics}\n"
        "action: {type: DiscreteMetaAction}\n"
    )
    return folder


def _world_env(lanes: int, seed: int) -> Any:
    config = {
        "lanes_count": lanes,
        "vehicles_count": 12,
        "vehicles_density": 2.0,
        "initial_lane_id": lanes - 1,
        "policy_frequency": 5,
        "simulation_frequency": 5,
    }
    env = make_env("highway-fast-v0", config)
    reset_env(env, seed)
    return env


def test_a_car_in_the_left_lane_ahead_is_left_ahead_and_one_lane_over() -> None:
    env = _world_env(3, seed=4)
    try:
        ego = env.unwrapped.vehicle
        assert ego.lane_index[2] == 2  # the rightmost lane: both other lanes are to its left
        world = WorldObserver(dt=0.2).observe(env.unwrapped, 0.0)
        rows = world.objects.data
        others = [v for v in env.unwrapped.road.vehicles if v is not ego]
        by_s = {round(float(v.position[0] - ego.position[0]), 6): v for v in others}
        left_ahead = [r for r in rows if r[6] == 1 and r[0] > 0]
        assert left_ahead, "the seed must put a car ahead in the next lane to the left"
        for s, d, v_lon, v_lat, length, width, lane, oncoming in rows.tolist():
            vehicle = by_s[round(s, 6)]
            assert lane == ego.lane_index[2] - vehicle.lane_index[2]
            assert d == pytest.approx(4.0 * lane, abs=0.5)  # left of the ego is positive
            assert v_lon == pytest.approx(vehicle.speed, abs=1e-6)
            assert (v_lat, length, width, oncoming) == (0.0, 5.0, 2.0, 0.0)
            assert abs(s) <= PERCEPTION_RANGE_M
        assert list(abs(rows[:, 0])) == sorted(abs(rows[:, 0]))  # nearest first
        assert (world.ego.x, world.ego.y) == (ego.position[0], -ego.position[1])
        assert (world.ego.speed, world.ego.accel, world.poses.shape) == (25.0, 0.0, (1, 3))
        assert (world.context.road_type, world.context.speed_limit) == ("motorway", 30.0)
    finally:
        env.close()


def test_a_lane_change_to_the_left_is_a_positive_heading_and_rising_map_y() -> None:
    env = _world_env(3, seed=4)
    try:
        observer = WorldObserver(dt=0.2)
        before = observer.observe(env.unwrapped, 0.0)
        env.step(LANE_LEFT)
        after = observer.observe(env.unwrapped, 0.2)
        assert after.ego.y > before.ego.y
        assert after.ego.heading > 0
        assert after.poses.tolist()[0] == [0.0, before.ego.x, before.ego.y]
        assert after.ego.accel == pytest.approx((after.ego.speed - 25.0) / 0.2)
        assert not after.poses.flags.writeable
    finally:
        env.close()


def test_policy_output_and_gate_commands_convert_both_ways() -> None:
    proposal = proposal_of(1.4, FASTER, 0.75)
    assert (proposal.t, proposal.action, proposal.confidence, proposal.trajectory) == (
        1.4, FASTER, 0.75, None,
    )  # fmt: skip
    assert [action_of(a) for a in range(5)] == list(range(5))
    assert action_of(None) == SLOWER  # no trustworthy envelope: brake in lane


def test_reference_envelope_validates_and_round_trips_through_yaml(tmp_path: Path) -> None:
    envelope = Envelope.from_dict(reference_envelope())
    path = write_reference_envelope(tmp_path / "highway.yaml")
    assert Envelope.from_dict(yaml.safe_load(path.read_text())).digest == envelope.digest
    assert envelope.actions is not None
    table = envelope.actions.actions
    assert {i: (a.name, a.lane_change, a.speed_delta) for i, a in table.items()} == {
        0: ("LANE_LEFT", 1, 0.0), 1: ("IDLE", 0, 0.0), 2: ("LANE_RIGHT", -1, 0.0),
        3: ("FASTER", 0, 3.0), 4: ("SLOWER", 0, -3.0),
    }  # fmt: skip
    assert envelope.rss.response_time_ego < 1.0  # tuned to highway-env, not ad-rss defaults


@pytest.mark.parametrize("lanes", [2, 3, 4, 5])
def test_reference_geofence_covers_every_lane_of_the_road(lanes: int) -> None:
    fence = Envelope.from_dict(reference_envelope()).odd.geofence
    env = _world_env(lanes, seed=1)
    try:
        for lane in range(lanes):
            for x in (0.0, 5000.0, 10000.0):
                assert fence.margin(x, -4.0 * lane) > 1.0
        world = WorldObserver(dt=0.2).observe(env.unwrapped, 0.0)
        assert fence.margin(world.ego.x, world.ego.y) > 1.0
    finally:
        env.close()


def _compare(policy: Path, tmp_path: Path, **options: Any) -> tuple[GateDemoResult, list[Any]]:
    events: list[Any] = []
    result = run_guarded_comparison(
        policy, episodes=2, seed=7, workers=1, scenarios=DENSE, duration_s=4.0,
        on_event=lambda kind, payload: events.append((kind, dict(payload))), **options,
    )  # fmt: skip
    return result, events


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_gate_counts_agree_with_the_decision_records(faster_policy: Path, tmp_path: Path) -> None:
    log = tmp_path / "log"
    result, events = _compare(faster_policy, tmp_path, log_dir=log)
    gate = result.gate
    assert gate.decisions == result.with_gate.steps == sum(p[1].steps for p in result.pairs)
    records = read_decisions([log / f"episode-{i:03d}" for i in range(2)])
    assert len(records) == gate.decisions
    vetoes = Counter(rule for record in records for rule in record["vetoes"])
    assert dict(vetoes) == dict(gate.veto_counts)
    assert Counter(r["verdict"] for r in records) == Counter(gate.verdicts)
    assert Counter(r["rung"] for r in records if r["rung"]) == Counter(gate.rungs)
    assert Counter(r["mode"] for r in records) == Counter(
        {mode: n for mode, n in gate.mode_cycles.items() if n}
    )
    assert sum(gate.mode_shares.values()) == pytest.approx(1.0)
    assert gate.rungs  # always-FASTER in dense traffic is clamped
    assert gate.interventions > 0
    assert sum(json.loads(r["command"]) != FASTER for r in records) == gate.interventions
    assert gate.dropped_records == 0
    assert gate.latency_p50_us > 0
    persisted = [p for kind, p in events if kind == "gate.batch.persisted"]
    assert [p["episode"] for p in persisted] == [0, 1]
    for payload in persisted:
        folder = log / f"episode-{payload['episode']:03d}"
        assert verify_batches(folder, {payload["file"]: payload["digest"]}) == []
    json.dumps(result.to_dict())


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_ungated_episodes_are_the_plain_closed_loop_episodes(faster_policy: Path) -> None:
    result = run_guarded_comparison(
        faster_policy, episodes=2, seed=7, workers=2, scenarios=DENSE, duration_s=4.0
    )
    spec = ModelFolderSpec(str(faster_policy))
    for off, on in result.pairs:
        scenario = next(s for s in SCENARIOS if s.id == off.scenario)
        config = spec.configure({**scenario.config, "duration": 4.0})
        plain = run_episode(scenario.env_id, config, spec.build(), seed=off.seed)
        assert (off.steps, off.collision, off.mean_speed_mps) == (
            plain.steps, plain.collision, plain.mean_speed_mps,
        )  # fmt: skip
        assert (on.seed, on.scenario, off.decisions) == (off.seed, off.scenario, 0)
        assert on.decisions == on.steps
    assert (result.attestation, result.model_digest) == ("unattested", "unattested")


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_kill_switch_fails_closed_on_the_very_next_cycle(
    faster_policy: Path, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    result, events = _compare(faster_policy, tmp_path, log_dir=log, kill_after=5)
    kill, drive = result.kill, result.kill_episode
    assert kill is not None
    assert drive is not None
    assert (kill.flag_after_cycle, kill.fail_closed_cycle, kill.sent) == (5, 6, "SLOWER")
    assert kill.reason == "kill flag: steward gate demo --kill-after 5"
    assert (drive.index, drive.seed) == (0, 7)
    assert drive.decisions == drive.steps
    assert drive.mode_cycles[3] == drive.steps - 5
    records = read_decisions([log / "episode-000-kill"])
    assert [r["mode"] == "FAIL_CLOSED" for r in records] == [r["cycle"] > 5 for r in records]
    assert all(r["kill_reason"] for r in records[5:])
    assert not any(r["kill_reason"] for r in records[:5])
    engaged = [p for kind, p in events if kind == "gate.kill.engaged"]
    assert [(p["cycle"], p["drive"]) for p in engaged] == [(6, "kill-switch check")]
    assert any(e["kind"] == "gate.kill.engaged" for e in read_events(log / "episode-000-kill"))
    assert result.gate.mode_cycles["FAIL_CLOSED"] == 0  # the check stays out of the comparison


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_signed_envelope_runs_attested_and_a_changed_model_fails_closed(
    faster_policy: Path, tmp_path: Path
) -> None:
    keys = generate_key_pair(tmp_path / "signer.pem")
    signed = tmp_path / "highway.envelope.json"
    signed.write_bytes(
        sign_envelope(
            Envelope.from_dict(reference_envelope()), hash_model(faster_policy),
            keys.private_key, model_ref="always-faster@1",
            signed_at=datetime.datetime.now(datetime.UTC),
        )
    )  # fmt: skip
    factory = SignedGateFactory(str(signed), str(keys.public_key), str(faster_policy))
    options: dict[str, Any] = {"episodes": 1, "scenarios": DENSE[:1], "duration_s": 2.0}
    good = run_guarded_comparison(faster_policy, gate_factory=factory, **options)
    assert (good.attestation, good.failure, good.envelope_name) == (
        "attested", None, "reference-highway-env",
    )  # fmt: skip
    assert good.model_digest == str(hash_model(faster_policy).root_digest)
    (faster_policy / "driver.py").write_text("def act(observation):\n    return 3, 1.0\n")
    bad = run_guarded_comparison(faster_policy, gate_factory=factory, **options)
    assert bad.attestation == "failed"
    assert "attestation failed" in (bad.failure or "")
    assert bad.gate.mode_shares["FAIL_CLOSED"] == 1.0
    assert set(bad.gate.verdicts) == {"fallback"}
    stranger = generate_key_pair(tmp_path / "stranger.pem")
    untrusted = SignedGateFactory(str(signed), str(stranger.public_key), str(faster_policy))
    unsigned = run_guarded_comparison(faster_policy, gate_factory=untrusted, **options)
    assert (unsigned.attestation, unsigned.envelope_name) == ("failed", "(not trusted)")
    assert (unsigned.failure or "").startswith("envelope not trusted")
    assert set(unsigned.gate.rungs) == {"minimal_risk"}  # no limits to trust: brake in lane


def test_bad_arguments_are_invalid_input(faster_policy: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="episodes must be at least 1"):
        run_guarded_comparison(faster_policy, episodes=0)
    with pytest.raises(InvalidInput, match="not a reference highway-v0 scenario"):
        run_guarded_comparison(faster_policy, episodes=1, scenarios=("merge-on-ramp",))
    with pytest.raises(InvalidInput, match="not both"):
        run_guarded_comparison(
            faster_policy,
            envelope=reference_envelope(),
            gate_factory=SignedGateFactory("a", "b", "c"),
        )
    without_actions = {k: v for k, v in reference_envelope().items() if k != "actions"}
    with pytest.raises(InvalidInput, match="actions table"):
        run_guarded_comparison(faster_policy, envelope=without_actions)
    (tmp_path / "log").mkdir()
    (tmp_path / "log" / "old.txt").write_text("x")
    with pytest.raises(InvalidInput, match="not empty"):
        run_guarded_comparison(faster_policy, log_dir=tmp_path / "log")
    with pytest.raises(NotFound):
        run_guarded_comparison(tmp_path / "log")


# -- CLI ------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def gate_app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """``steward gate`` with only ``demo`` registered (the lead wires it into cli/gate.py)."""
    monkeypatch.setattr(console, "_width", 200)
    app = typer.Typer()

    @app.callback()
    def _group() -> None:
        """Gate commands."""

    register(app)
    return app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--episodes", "0"], "--episodes must be at least 1"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--kill-after", "0"], "--kill-after must be at least 1"),
        (["--envelope", "signed.json"], "--envelope and --key go together"),
    ],
)
def test_demo_rejects_bad_input_with_exit_3(
    gate_app: typer.Typer, faster_policy: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(gate_app, ["demo", "--model-dir", str(faster_policy), *args])
    assert isinstance(result.exception, InvalidInput), result.output
    assert result.exception.exit_code == 3
    assert message in result.exception.message


def test_demo_rejects_a_missing_model_folder(gate_app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(gate_app, ["demo", "--model-dir", str(tmp_path / "nowhere")])
    assert isinstance(result.exception, InvalidInput)
    assert "is not a folder" in result.exception.message


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_demo_prints_tables_and_json(gate_app: typer.Typer, faster_policy: Path) -> None:
    args = ["demo", "--model-dir", str(faster_policy), "--episodes", "1", "--workers", "1"]
    shown = runner.invoke(gate_app, [*args, "--kill-after", "3"])
    assert shown.exit_code == 0, shown.output
    assert "the envelope is NOT signed" in shown.output
    for text in ("without gate", "collision rate", "vetoes", "bounded-autonomy modes",
                 "decide latency", "FAIL_CLOSED at cycle 4"):  # fmt: skip
        assert text in shown.output
    as_json = runner.invoke(gate_app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert (data["attestation"], data["kill"]) == ("unattested", None)
    assert data["gate"]["decisions"] == data["with_gate"]["steps"]
    assert [e["with_gate"]["decisions"] for e in data["episodes"]] == [data["gate"]["decisions"]]


@pytest.mark.slow
@pytest.mark.xdist_group("gate-demo")
def test_demo_with_an_untrusted_envelope_runs_fail_closed_and_exits_7(
    gate_app: typer.Typer, faster_policy: Path, tmp_path: Path
) -> None:
    keys = generate_key_pair(tmp_path / "signer.pem")
    forged = tmp_path / "forged.envelope.json"
    forged.write_text('{"payloadType": "application/vnd.in-toto+json", "payload": "", '
                      '"signatures": []}')  # fmt: skip
    args = ["demo", "--model-dir", str(faster_policy), "--episodes", "1", "--workers", "1",
            "--envelope", str(forged), "--key", str(keys.public_key)]  # fmt: skip
    result = runner.invoke(gate_app, args)
    assert isinstance(result.exception, VerificationFailed), result.output
    assert "ATTESTATION FAILED" in result.output
    modes = [line for line in result.output.splitlines() if line.startswith("│ FAIL_CLOSED")]
    assert [line.rstrip(" │")[-6:] for line in modes] == ["100.0%"]  # every cycle fell back
    assert "the envelope is NOT signed" not in result.output
