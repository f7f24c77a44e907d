"""Logged replay: static metrics of a policy over recorded, labelled frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.replay import replay_frames


def _frames(path: Path, *, numbered: bool = False) -> Path:
    obs = [[float(i), float(i % 3)] for i in range(30)]
    labels = [i % 2 for i in range(30)]
    columns: dict[str, object] = {
        "label": labels,
        "unsafe_actions": [[3] if i % 5 == 0 else [] for i in range(30)],
        "environment.weather": ["rain" if i < 10 else "clear" for i in range(30)],
        "scenario": ["cut-in" if i < 15 else "nominal" for i in range(30)],
    }
    if numbered:
        columns.update({"obs_1": [o[1] for o in obs], "obs_0": [o[0] for o in obs]})
    else:
        columns["observation"] = obs
    pq.write_table(pa.table(columns), path)
    return path


def _parity(obs: np.ndarray) -> tuple[int, float]:
    return int(obs[0]) % 2, 0.8


def test_policy_matching_every_label_scores_full_accuracy(tmp_path: Path) -> None:
    result = replay_frames(_frames(tmp_path / "f.parquet"), _parity)
    assert (result.frames, result.correct, result.accuracy) == (30, 30, 1.0)
    assert result.slices["environment.weather=rain"] == (10, 10)
    assert len(result.latencies_ns) == 30


def test_numbered_observation_columns_are_read_in_order(tmp_path: Path) -> None:
    seen: list[list[float]] = []

    def spy(obs: np.ndarray) -> tuple[int, float]:
        seen.append(obs.tolist())
        return 0, 0.5

    replay_frames(_frames(tmp_path / "f.parquet", numbered=True), spy)
    assert seen[4] == [4.0, 1.0]


def test_unsafe_actions_are_counted(tmp_path: Path) -> None:
    result = replay_frames(_frames(tmp_path / "f.parquet"), lambda obs: (3, 0.9))
    assert result.unsafe == 6
    assert result.unsafe_rate == pytest.approx(0.2)


def test_filter_selects_rows_and_unknown_column_is_invalid(tmp_path: Path) -> None:
    path = _frames(tmp_path / "f.parquet")
    assert replay_frames(path, _parity, where={"scenario": "cut-in"}).frames == 15
    with pytest.raises(InvalidInput, match="no column 'fleet'"):
        replay_frames(path, _parity, where={"fleet": "a"})


def test_missing_label_or_unreadable_file_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "nolabel.parquet"
    pq.write_table(pa.table({"observation": [[0.0]]}), path)
    with pytest.raises(InvalidInput, match="label"):
        replay_frames(path, _parity)
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InvalidInput, match="Parquet"):
        replay_frames(bad, _parity)
