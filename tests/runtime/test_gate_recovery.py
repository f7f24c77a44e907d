"""FAIL_CLOSED keeps the model out, a failing sink loses nothing, and a log of several gate runs
replays run by run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import runtime_factories as rf
from modelsteward.runtime import DecisionRecorder, MemorySink, Mode
from modelsteward.runtime.records import BatchReceipt, decision_record
from modelsteward.runtime.replay import replay


def test_fail_closed_never_sends_the_models_command_even_when_it_would_pass() -> None:
    gate = rf.gate()
    drive = rf.Drive()
    gate.kill_switch.engage("operator")
    first = gate.decide(drive.world(), rf.action(4, t=drive.t), now=drive.t)
    assert first.mode is Mode.FAIL_CLOSED
    gate.kill_switch.release()
    drive.step()
    after = gate.decide(drive.world(), rf.action(4, t=drive.t), now=drive.t)
    assert after.vetoes == ()
    assert after.mode is Mode.FAIL_CLOSED
    assert after.verdict == "fallback"
    assert after.rung in ("comfortable_stop", "minimal_risk")


class _FlakySink(MemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    def write_batch(self, records: Sequence[Mapping[str, Any]], dropped: int) -> BatchReceipt:
        if self.fail:
            raise OSError("disk full")
        return super().write_batch(records, dropped)


def test_a_failing_sink_keeps_the_batch_queued_for_the_next_flush() -> None:
    sink = _FlakySink()
    recorder = DecisionRecorder(sink)
    gate = rf.gate(recorder=recorder)
    drive = rf.Drive()
    for _ in range(5):
        gate.decide(drive.world(), rf.action(1, t=drive.t), now=drive.t)
        drive.step()
    with pytest.raises(OSError, match="disk full"):
        recorder.flush()
    assert recorder.pending == 5
    sink.fail = False
    assert recorder.flush() == 5
    assert [record["cycle"] for record in sink.batches[0][0]] == [1, 2, 3, 4, 5]


def _run(cycles: int) -> list[dict[str, Any]]:
    gate = rf.gate()
    drive = rf.Drive()
    records = []
    for _ in range(cycles):
        decision = gate.decide(drive.world(), rf.action(1, t=drive.t), now=drive.t)
        records.append(decision_record(decision, "e", "m"))
        drive.step()
    return records


def test_a_log_of_several_gate_runs_replays_each_from_a_fresh_gate() -> None:
    # Two episodes recorded back to back: the second starts again at cycle 1 and t = 10 s.
    records = _run(12) + _run(12)
    report = replay(records, rf.envelope())
    assert report.decisions == 24
    assert all(change.new == change.removed == 0 for change in report.rules)
    assert report.verdicts_changed == 0
