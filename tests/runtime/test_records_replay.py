"""Decision records: a bounded queue that drops and counts, never blocks; Parquet round trips;
counterfactual replay is deterministic and finds what a candidate envelope changes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelsteward.runtime.envelope import RULE_IDS, Envelope
from modelsteward.runtime.gate import Decision
from modelsteward.runtime.killswitch import KillSwitch
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.records import (
    RECORD_COLUMNS,
    BatchReceipt,
    DecisionRecorder,
    MemorySink,
    decision_record,
)
from modelsteward.runtime.replay import LongitudinalBatch, replay, replay_longitudinal
from modelsteward.runtime.rules import (
    CycleState,
    check_rss,
    check_speed_cap,
    check_ttc,
    intent_of,
)
from modelsteward.runtime.world import Proposal, example_proposal, example_world
from modelsteward.telemetry.decisions import (
    ParquetDecisionLog,
    read_decisions,
    read_events,
    verify_batches,
)
from runtime_factories import (
    FASTER,
    IDLE,
    SLOWER,
    Drive,
    action,
    envelope,
    gate,
    obj,
    steady,
    world,
)

NOW = 10.0


def decisions(count: int) -> list[Decision]:
    g, drive = gate(), Drive()
    made = []
    for _ in range(count):
        made.append(g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t))
        drive.step()
    return made


# --- the bounded queue -----------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_and_the_count_travels_with_the_next_batch() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink, capacity=3)
    accepted = [recorder.submit(decision) for decision in decisions(5)]
    assert accepted == [True, True, True, False, False]
    assert (recorder.submitted, recorder.dropped, recorder.pending) == (3, 2, 3)
    assert recorder.flush() == 3
    records, dropped = sink.batches[0]
    assert [record["cycle"] for record in records] == [1, 2, 3]
    assert dropped == 2
    for decision in decisions(2):
        recorder.submit(decision)
    recorder.flush()
    assert sink.batches[1][1] == 0  # each drop is reported once
    assert (recorder.submitted, recorder.dropped, recorder.persisted) == (5, 2, 5)


def test_drops_after_a_flush_are_reported_with_the_batch_that_follows_them() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink, capacity=1, batch_size=1)
    made = decisions(4)
    recorder.submit(made[0])
    recorder.submit(made[1])  # dropped
    recorder.flush()
    recorder.submit(made[2])
    recorder.submit(made[3])  # dropped
    recorder.submit(made[3])  # dropped
    recorder.flush()
    assert [dropped for _, dropped in sink.batches] == [1, 2]
    assert sum(dropped for _, dropped in sink.batches) == recorder.dropped


def test_the_gate_never_waits_for_a_full_queue() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink, capacity=2)
    g, drive = gate(recorder=recorder), Drive()
    for _ in range(10):
        assert g.decide(drive.world(), action(IDLE, t=drive.t), now=drive.t).verdict == "accept"
        drive.step()
    assert (recorder.pending, recorder.dropped) == (2, 8)


def test_flush_writes_batches_of_at_most_batch_size_and_honours_a_limit() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink, batch_size=2)
    for decision in decisions(5):
        recorder.submit(decision)
    assert recorder.flush(limit=1) == 1
    assert recorder.flush() == 4
    assert [len(records) for records, _ in sink.batches] == [1, 2, 2]
    assert [receipt.records for receipt in recorder.receipts] == [1, 2, 2]
    assert recorder.pending == 0


def test_events_are_never_dropped_and_are_written_before_the_batches() -> None:
    order: list[str] = []

    class Ordered(MemorySink):
        def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
            order.append("batch")
            return super().write_batch(records, dropped)

        def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
            order.append(kind)
            super().write_event(kind, payload)

    recorder = DecisionRecorder(Ordered(), capacity=1)
    for decision in decisions(2):
        recorder.submit(decision)
    for index in range(100):
        recorder.event("gate.mode.changed", {"index": index})
    recorder.flush()
    assert order == ["gate.mode.changed"] * 100 + ["batch"]


def test_a_background_thread_persists_everything_by_close() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink, batch_size=4)
    recorder.start(interval=0.001)
    recorder.start(interval=0.001)  # a second start is harmless
    for decision in decisions(25):
        recorder.submit(decision)
    recorder.close()
    assert recorder.persisted == 25
    assert sorted(r["cycle"] for records, _ in sink.batches for r in records) == list(range(1, 26))


@pytest.mark.parametrize(("capacity", "batch_size"), [(0, 1), (1, 0)])
def test_capacity_and_batch_size_must_be_positive(capacity: int, batch_size: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DecisionRecorder(MemorySink(), capacity=capacity, batch_size=batch_size)


# --- one record ------------------------------------------------------------------------------


def test_a_record_has_every_column_and_the_margin_of_every_rule() -> None:
    decision = gate().decide(world(), action(IDLE), now=NOW)
    record = decision_record(decision, "sha256:env", "sha256:model")
    assert tuple(record) == RECORD_COLUMNS
    assert record["verdict"] == "accept"
    assert record["command"] == "1"
    assert record["trace"] == "test"
    assert record["envelope_digest"] == "sha256:env"
    assert record["mode"] == "NORMAL"
    assert all(record[f"margin_{rule}"] is not None for rule in RULE_IDS)
    assert json.loads(record["world"])["ego"]["speed"] == 25.0


def test_rules_that_did_not_run_have_no_margin() -> None:
    g = gate()
    g.heartbeat(NOW)
    record = decision_record(g.decide({"t": NOW}, None, now=NOW), "", "")
    evaluated = {rule for rule in RULE_IDS if record[f"margin_{rule}"] is not None}
    assert evaluated == {"input_integrity", "watchdog"}
    assert record["margin_input_integrity"] == -math.inf
    assert record["world"] == '{"t": 10.0}'
    assert record["proposal"] is None


def test_a_json_proposals_trace_is_recorded_too() -> None:
    record = decision_record(gate().decide(example_world(), example_proposal(), now=NOW), "", "")
    assert record["trace"] == "keep lane"


def test_the_input_digest_covers_world_proposal_and_time() -> None:
    def digest(speed: float = 25.0, index: int = IDLE, now: float = NOW) -> str:
        decision = gate().decide(world(speed=speed), action(index), now=now)
        return str(decision_record(decision, "", "")["input_digest"])

    assert digest() == digest()
    assert digest().startswith("sha256:")
    assert len({digest(), digest(speed=24.0), digest(index=SLOWER), digest(now=NOW + 0.125)}) == 4


def test_a_trajectory_command_is_recorded_as_its_rows() -> None:
    decision = gate().decide(world(), steady(25.0), now=NOW)
    assert json.loads(decision_record(decision, "", "")["command"])[0] == [0.5, 12.5, 0.0, 25.0]


def test_an_input_that_is_not_json_is_recorded_by_its_repr() -> None:
    g = gate()
    record = decision_record(g.decide(object(), {"t": {1, 2}}, now=NOW), "", "")
    assert json.loads(record["world"])["unserialisable"].startswith("<object object")
    assert json.loads(record["proposal"]) == {"t": "{1, 2}"}


# --- a recorded drive ------------------------------------------------------------------------


class Tee:
    """A sink writing to memory and to a Parquet log at once."""

    def __init__(self, folder: Path) -> None:
        self.memory = MemorySink()
        self.parquet = ParquetDecisionLog(folder)

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        self.memory.write_batch(records, dropped)
        return self.parquet.write_batch(records, dropped)

    def write_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        self.memory.write_event(kind, payload)
        self.parquet.write_event(kind, payload)


RECORDED = envelope()


def record_drive(sink: Any, env: Envelope = RECORDED) -> None:
    """Eighty cycles of scripted motorway driving, with every kind of trouble along the way."""
    rng = np.random.default_rng(7)
    switch = KillSwitch()
    recorder = DecisionRecorder(sink, batch_size=16)
    g = gate(env, recorder=recorder, kill_switch=switch)
    drive = Drive(speed=20.0)
    for cycle in range(80):
        confidence = float(rng.choice([0.3, 0.45, 0.55, 0.7, 0.9, 0.9, 0.9, 0.9, 0.9]))
        gap = 6.0 + 62.0 * (1.0 + math.cos(cycle / 6.0))
        objects = [obj(gap + 5.0, 15.0), obj(-30.0, 20.0, d=4.0, lane=1)]
        proposal: object = Proposal(
            drive.t, confidence, action=int(rng.choice([IDLE, IDLE, FASTER, SLOWER]))
        )
        if cycle % 5 == 3:
            proposal = Proposal(drive.t, confidence, trajectory=steady(20.0).trajectory)
        world_: object = drive.world(objects=objects)
        if cycle == 20:
            proposal = None  # the model was silent
        if cycle == 30:
            world_ = {"t": "garbled"}
        if cycle == 50:
            switch.engage("operator")
        if cycle == 53:
            switch.release()
        if cycle % 7 == 0:
            g.heartbeat(drive.t)
        g.decide(world_, proposal, now=drive.t)
        drive.step()
    recorder.close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    """The drive's records from memory, and the Parquet log folder of the same drive."""
    folder = tmp_path_factory.mktemp("decisions")
    tee = Tee(folder)
    record_drive(tee)
    return [record for records, _ in tee.memory.batches for record in records], folder


def test_the_recorded_drive_exercises_what_replay_must_reproduce(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    records, _ = recorded
    assert len(records) == 80
    vetoes = {rule for record in records for rule in record["vetoes"]}
    assert {"confidence", "rss", "ttc", "input_integrity", "watchdog"} <= vetoes
    assert {record["verdict"] for record in records} == {"accept", "clamp", "fallback"}
    assert {record["mode"] for record in records} >= {"NORMAL", "REDUCED", "FAIL_CLOSED"}
    assert records[50]["kill_reason"] == "operator"


def test_replay_is_deterministic(recorded: tuple[list[dict[str, Any]], Path]) -> None:
    records, _ = recorded
    candidate = envelope(ttc__min_s=3.0)
    assert replay(records, candidate) == replay(records, candidate)


def test_replay_against_the_recording_envelope_changes_nothing(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    records, _ = recorded
    report = replay(records, RECORDED)
    assert report.decisions == 80
    assert report.verdicts_changed == 0
    assert report.recorded_deadline_misses == 0
    assert report.recorded_envelopes == (str(RECORDED.digest),)
    for change in report.rules:
        assert (change.new, change.removed) == (0, 0), change
        assert change.recorded == change.candidate
    recorded_modes = {mode.name: 0 for mode in Mode}
    for record in records:
        recorded_modes[record["mode"]] += 1
    assert dict(report.mode_cycles) == recorded_modes


def _change(records: list[dict[str, Any]], candidate: Envelope, rule: str) -> Any:
    return next(change for change in replay(records, candidate).rules if change.rule == rule)


def test_a_higher_ttc_floor_reports_new_ttc_vetoes(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    records, _ = recorded
    change = _change(records, envelope(ttc__min_s=3.0), "ttc")
    assert change.new > 0
    assert change.removed == 0
    assert change.candidate == change.recorded + change.new
    assert len(change.new_cycles) == min(change.new, 10)
    new_cycles = set(change.new_cycles)
    assert all("ttc" not in r["vetoes"] for r in records if r["cycle"] in new_cycles)


def test_a_higher_confidence_threshold_reports_new_vetoes_a_lower_one_removes_them(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    records, _ = recorded
    stricter = _change(records, envelope(confidence__min=0.6), "confidence")
    assert stricter.new > 0
    assert stricter.removed == 0
    looser = _change(records, envelope(confidence__min=0.2), "confidence")
    assert looser.removed == looser.recorded > 0
    assert looser.candidate == 0


def test_replay_reports_recorded_deadline_misses_apart() -> None:
    sink = MemorySink()
    recorder = DecisionRecorder(sink)
    g = gate(recorder=recorder)
    g.decide(world(), action(IDLE), now=NOW)
    recorder.close()
    records = [dict(record) for record in sink.batches[0][0]]
    records[0]["vetoes"] = ["deadline"]
    records[0]["verdict"] = "fallback"
    report = replay(records, RECORDED)
    assert report.recorded_deadline_misses == 1
    assert report.verdicts_changed == 1
    assert "deadline" not in {change.rule for change in report.rules}


def test_a_replay_report_has_a_json_shape(recorded: tuple[list[dict[str, Any]], Path]) -> None:
    records, _ = recorded
    shape = replay(records, envelope(ttc__min_s=3.0)).to_dict()
    assert shape["decisions"] == 80
    assert [rule["rule"] for rule in shape["rules"]] == [*RULE_IDS, "rule_error"]
    json.dumps(shape, allow_nan=False)


# --- Parquet ---------------------------------------------------------------------------------


def test_records_round_trip_through_parquet(recorded: tuple[list[dict[str, Any]], Path]) -> None:
    records, folder = recorded
    assert read_decisions([folder]) == records


def test_replay_from_parquet_equals_replay_from_memory(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    records, folder = recorded
    for candidate in (RECORDED, envelope(ttc__min_s=3.0), envelope(confidence__min=0.6)):
        assert replay(read_decisions([folder]), candidate) == replay(records, candidate)


def test_every_parquet_batch_is_announced_with_its_digest(
    recorded: tuple[list[dict[str, Any]], Path],
) -> None:
    _, folder = recorded
    persisted = [e for e in read_events(folder) if e["kind"] == "gate.batch.persisted"]
    assert sum(event["records"] for event in persisted) == 80
    assert [event["first_cycle"] for event in persisted] == [1, 17, 33, 49, 65]
    pinned = {event["file"]: event["digest"] for event in persisted}
    assert verify_batches(folder, pinned) == []
    kinds = {event["kind"] for event in read_events(folder)}
    assert {"gate.kill.engaged", "gate.kill.released", "gate.mode.changed"} <= kinds


def test_a_reopened_log_never_overwrites_a_batch(tmp_path: Path) -> None:
    made = [decision_record(decision, "", "") for decision in decisions(4)]
    log = ParquetDecisionLog(tmp_path)
    for record in made[:3]:
        log.write_batch([record], 0)
    (tmp_path / "decisions-000001.parquet").unlink()  # retention removed the oldest batch
    kept = {path.name: path.read_bytes() for path in tmp_path.glob("decisions-*.parquet")}
    receipt = ParquetDecisionLog(tmp_path).write_batch([made[3]], 0)
    assert Path(receipt.location).name == "decisions-000004.parquet"
    assert all((tmp_path / name).read_bytes() == data for name, data in kept.items())
    assert [record["cycle"] for record in read_decisions([tmp_path])] == [2, 3, 4]


# --- the vectorised longitudinal replay ------------------------------------------------------

SITUATIONS = 2_400


def test_vectorised_longitudinal_replay_agrees_with_the_rules() -> None:
    """Random single-lead situations on a binary grid (every sum exact), in every mode."""
    env = envelope()
    rng = np.random.default_rng(2024)
    v_ego = rng.integers(0, 40 * 16, SITUATIONS) / 16
    v_lead = rng.integers(-3 * 16, 40 * 16, SITUATIONS) / 16
    v_cmd = np.maximum(v_ego + rng.integers(-10 * 16, 5 * 16, SITUATIONS) / 16, 0.0)
    gap = rng.integers(-2 * 64, 150 * 64, SITUATIONS) / 64
    limit = rng.integers(5 * 4, 40 * 4, SITUATIONS) / 4
    mode = rng.integers(0, 4, SITUATIONS)
    # Exactly at the RSS distance (84.53125 m) and at the TTC floor (20 m at 10 m/s), and 1/64
    # m inside each.
    boundaries = np.array(
        [[20.0, 10.0, 20.0, 84.53125, 30.0, 0], [20.0, 10.0, 20.0, 20.0, 30.0, 0]]
    )
    inside = boundaries - [0.0, 0.0, 0.0, 1 / 64, 0.0, 0]
    v_ego, v_lead, v_cmd, gap, limit, mode = (
        np.concatenate((column, extra[:, index]))
        for index, (column, extra) in enumerate(
            zip(
                (v_ego, v_lead, v_cmd, gap, limit, mode),
                [np.concatenate((boundaries, inside))] * 6,
                strict=True,
            )
        )
    )
    mode = mode.astype(np.int64)
    count = v_ego.shape[0]

    scalar: dict[str, list[Any]] = {
        key: [] for key in ("speed_cap", "rss", "ttc", "rss_margin", "ttc_margin", "braking")
    }
    for i in range(count):
        scene = world(
            speed=float(v_ego[i]),
            speed_limit=float(limit[i]),
            objects=[obj(float(gap[i]) + 5.0, float(v_lead[i]))],
            poses=False,
        )
        proposal = steady(float(v_cmd[i]))
        intent = intent_of(env, scene, proposal)
        assert intent.braking == (v_ego[i] - v_cmd[i] >= env.rss.brake_min)
        state = CycleState(NOW, Mode(int(mode[i])))
        rss = check_rss(env, scene, proposal, intent, state)
        ttc = check_ttc(env, scene, proposal, intent, state)
        scalar["speed_cap"].append(check_speed_cap(env, scene, proposal, intent, state).ok)
        scalar["rss"].append(rss.ok)
        scalar["ttc"].append(ttc.ok)
        scalar["rss_margin"].append(rss.margin)
        scalar["ttc_margin"].append(ttc.margin)
        scalar["braking"].append(intent.braking)

    batch = LongitudinalBatch.from_arrays(
        gap=gap,
        v_ego=v_ego,
        v_lead=v_lead,
        v_cmd=v_cmd,
        speed_limit=limit,
        braking=scalar["braking"],
        mode=mode,
    )
    verdicts = replay_longitudinal(batch, env)
    np.testing.assert_array_equal(verdicts.speed_cap, scalar["speed_cap"])
    np.testing.assert_array_equal(verdicts.rss, scalar["rss"])
    np.testing.assert_array_equal(verdicts.ttc, scalar["ttc"])
    np.testing.assert_array_equal(verdicts.ttc_margin, scalar["ttc_margin"])
    # The rule's RSS margin is the larger of the longitudinal and lateral clearances; with the
    # lead straight ahead they agree wherever the longitudinal one is clear.
    clear = verdicts.rss_margin >= 0
    np.testing.assert_array_equal(verdicts.rss_margin[clear], np.array(scalar["rss_margin"])[clear])
    assert (np.array(scalar["rss_margin"])[~clear] < 0).all()
    # The grid reaches every outcome, boundaries included.
    for outcome in (verdicts.speed_cap, verdicts.rss, verdicts.ttc, batch.braking):
        assert 0 < int(outcome.sum()) < count
    assert verdicts.rss_margin[SITUATIONS] == 0.0
    assert verdicts.ttc_margin[SITUATIONS + 1] == 0.0
    assert verdicts.rss[SITUATIONS::2].tolist() == [True, False]
    assert verdicts.ttc[SITUATIONS + 1 :: 2].tolist() == [True, False]


def test_a_longitudinal_batch_needs_equal_length_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        LongitudinalBatch.from_arrays(
            gap=[1.0, 2.0], v_ego=[1.0], v_lead=[1.0, 2.0], v_cmd=[1.0, 2.0], speed_limit=[1.0, 2.0]
        )
