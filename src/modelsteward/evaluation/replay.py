"""Logged replay: run a policy over recorded frames and score it against their labels.

A replay file is Parquet with one row per frame:

- ``observation``: a list of floats (the flattened observation the policy expects), or columns
  ``obs_0`` … ``obs_N`` in order;
- ``label``: the action a reference driver (or a reviewed log) took — an integer;
- ``unsafe_actions`` (optional): a list of actions that would have been unsafe in that frame;
- any other column whose name is an ODD attribute (``group.attribute``) tags the frame for
  per-slice metrics.

Static metrics: accuracy against the labels, the unsafe-action rate, per ODD slice the number of
frames and correct ones, confidence/correctness pairs for calibration, and policy latency.

>>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
>>> path = pathlib.Path(tempfile.mkdtemp()) / "frames.parquet"
>>> pq.write_table(pa.table({"observation": [[0.0, 1.0], [1.0, 0.0]], "label": [1, 3],
...                          "environment.weather": ["rain", "clear"]}), path)
>>> result = replay_frames(path, lambda obs: (1, 0.9))
>>> result.frames, result.correct, result.slices["environment.weather=rain"]
(2, 1, (1, 1))
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelsteward.errors import InvalidInput

__all__ = ["Policy", "ReplayResult", "replay_frames"]

Policy = Callable[[np.ndarray], tuple[int, float]]
_ODD_COLUMN = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_OBS_COLUMN = re.compile(r"^obs_(\d+)$")


@dataclass(frozen=True)
class ReplayResult:
    """What a policy did on a replay file."""

    frames: int
    correct: int
    unsafe: int
    slices: dict[str, tuple[int, int]]  # "attribute=value" → (frames, correct)
    unsafe_labelled: bool
    confidences: tuple[float, ...] = field(repr=False)
    hits: tuple[bool, ...] = field(repr=False)
    latencies_ns: tuple[int, ...] = field(repr=False)

    @property
    def accuracy(self) -> float:
        """Share of frames where the policy chose the labelled action."""
        return self.correct / self.frames if self.frames else 0.0

    @property
    def unsafe_rate(self) -> float:
        """Share of frames where the policy chose an action listed as unsafe."""
        return self.unsafe / self.frames if self.frames else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (without the per-frame lists)."""
        return {
            "frames": self.frames,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "unsafe": self.unsafe,
            "unsafe_rate": self.unsafe_rate,
            "slices": {k: {"frames": n, "correct": c} for k, (n, c) in sorted(self.slices.items())},
        }


def _read(path: Path, where: Mapping[str, Any]) -> Any:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from pyarrow import ArrowException

    try:
        table = pq.read_table(path)
    except (OSError, ArrowException) as exc:
        raise InvalidInput(f"replay data {path}: cannot read it as Parquet ({exc})") from exc
    for column, value in where.items():
        if column not in table.column_names:
            raise InvalidInput(
                f"replay filter: {path.name} has no column {column!r}",
                hint="columns: " + ", ".join(table.column_names),
            )
        table = table.filter(pc.equal(table[column], value))
    if "label" not in table.column_names:
        raise InvalidInput(f"replay data {path}: no 'label' column (the reference action)")
    return table


def _observations(table: Any, path: Path) -> np.ndarray:
    if "observation" in table.column_names:
        rows = table["observation"].to_pylist()
        try:
            return np.asarray(rows, dtype=np.float32)
        except ValueError as exc:
            raise InvalidInput(f"replay data {path}: observations differ in length") from exc
    numbered = sorted(
        (int(m.group(1)), name) for name in table.column_names if (m := _OBS_COLUMN.match(name))
    )
    if not numbered:
        raise InvalidInput(
            f"replay data {path}: no 'observation' list column and no obs_0 … columns"
        )
    return np.stack(
        [table[name].to_numpy(zero_copy_only=False) for _, name in numbered], axis=1
    ).astype(np.float32)


def replay_frames(
    path: Path,
    policy: Policy,
    *,
    where: Mapping[str, Any] | None = None,
    slice_of: Callable[[str, Any], str | None] | None = None,
) -> ReplayResult:
    """Run ``policy`` on every frame of ``path`` (rows matching ``where``) and score it.

    Args:
        path: The Parquet file.
        policy: ``observation -> (action, confidence)``.
        where: Keep only rows whose columns equal these values.
        slice_of: Names the slice of an ODD column's value (for example its ODD bin); ``None``
            from it leaves the frame out of that column's slices. Default: the value as text.

    Raises:
        InvalidInput: the file is not Parquet, lacks ``label`` or observations, or a filter
            column is missing.
    """
    table = _read(path, where or {})
    observations = _observations(table, path)
    labels = [int(x) for x in table["label"].to_pylist()]
    unsafe_lists = (
        table["unsafe_actions"].to_pylist()
        if "unsafe_actions" in table.column_names
        else [None] * len(labels)
    )
    tag_columns = [c for c in table.column_names if _ODD_COLUMN.match(c)]
    tags = {c: table[c].to_pylist() for c in tag_columns}
    confidences: list[float] = []
    hits: list[bool] = []
    latencies: list[int] = []
    slices: dict[str, list[int]] = {}
    unsafe = 0
    for i, expected in enumerate(labels):
        start = time.perf_counter_ns()
        action, confidence = policy(observations[i])
        latencies.append(time.perf_counter_ns() - start)
        hit = int(action) == expected
        confidences.append(float(confidence))
        hits.append(hit)
        unsafe += int(int(action) in (unsafe_lists[i] or ()))
        for column in tag_columns:
            name = slice_of(column, tags[column][i]) if slice_of else str(tags[column][i])
            if name is None:
                continue
            cell = slices.setdefault(f"{column}={name}", [0, 0])
            cell[0] += 1
            cell[1] += int(hit)
    return ReplayResult(
        frames=len(labels),
        correct=sum(hits),
        unsafe=unsafe,
        slices={k: (v[0], v[1]) for k, v in slices.items()},
        unsafe_labelled="unsafe_actions" in table.column_names,
        confidences=tuple(confidences),
        hits=tuple(hits),
        latencies_ns=tuple(latencies),
    )
