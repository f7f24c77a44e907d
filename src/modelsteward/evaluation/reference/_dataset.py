"""The synthetic demonstration dataset: every labelled state the policies trained on, as Parquet.

One row per decision: the flattened observation, the teacher's action (``label``), where it came
from (episode, round, training cell, which policies trained on it) and the episode's ODD tags as
``group.attribute`` columns — the replay format of :mod:`modelsteward.evaluation.replay`, so the
same file serves logged-replay evaluation and ODD coverage of training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from modelsteward.evaluation.reference._collect import Demonstration

__all__ = ["odd_tags_of", "table_of", "write_dataset"]

_FIXED_TAGS = {
    "scenery.road_type": "motorway",
    "environment.weather": "clear",
    "environment.time_of_day": "day",
}
_TAG_COLUMNS = (
    "scenery.road_type", "scenery.lanes", "scenery.merge", "environment.weather",
    "environment.time_of_day", "dynamic_elements.traffic_density",
    "dynamic_elements.lead_vehicle", "dynamic_elements.cut_in",
)  # fmt: skip
_VX_SCALE = 80.0  # highway-env normalises vx over ±2 × Vehicle.MAX_SPEED (40 m/s)


def table_of(runs: Sequence[tuple[str, Demonstration]]) -> pa.Table:
    """One row per labelled decision of ``runs`` (who used it, demonstration)."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in ("episode", "step", "seed", "training_cell", "used_by", "observation", "label")
    }
    for name in (*_TAG_COLUMNS, "dynamic_elements.ego_speed_mps"):
        columns[name] = []
    for episode, (used_by, demo) in enumerate(runs):
        tags = {**_FIXED_TAGS, **demo.job.tags}
        for step, (row, label) in enumerate(zip(demo.observations, demo.labels, strict=True)):
            columns["episode"].append(episode)
            columns["step"].append(step)
            columns["seed"].append(demo.job.seed)
            columns["training_cell"].append(str(tags["training.cell"]))
            columns["used_by"].append(used_by)
            columns["observation"].append(row.astype(np.float32).tolist())
            columns["label"].append(int(label))
            for name in _TAG_COLUMNS:
                columns[name].append(tags[name])
            # Whole m/s: fine enough for the ODD's speed bins, coarse enough for replay slices.
            columns["dynamic_elements.ego_speed_mps"].append(round(float(row[3]) * _VX_SCALE))
    types = {
        "observation": pa.list_(pa.float32()),
        "scenery.lanes": pa.int64(),
        "dynamic_elements.ego_speed_mps": pa.int64(),
    }
    return pa.table({k: pa.array(v, type=types.get(k)) for k, v in columns.items()})


def odd_tags_of(table: pa.Table) -> dict[str, Any]:
    """The ODD values the rows cover, for ``steward dataset add --odd-tags``: each tag column's
    distinct values, and the ego speed as a ``{min, max}`` range."""
    tags: dict[str, Any] = {}
    for name in _TAG_COLUMNS:
        tags[name] = sorted(set(table[name].to_pylist()), key=str)
    speeds = table["dynamic_elements.ego_speed_mps"].to_pylist()
    if speeds:
        tags["dynamic_elements.ego_speed_mps"] = {"min": min(speeds), "max": max(speeds)}
    return tags


def write_dataset(
    folder: Path, competent: Sequence[Demonstration], narrow: Sequence[Demonstration], name: str
) -> Path:
    """Write ``demonstrations.parquet``, a dataset card and, beside the folder,
    ``<name>.odd-tags.yaml`` (what the rows cover); returns the Parquet path."""
    shared = {id(d) for d in narrow}
    runs = [("competent,narrow" if id(d) in shared else "competent", d) for d in competent]
    runs += [("narrow", d) for d in narrow if id(d) not in {id(c) for c in competent}]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demonstrations.parquet"
    table = table_of(runs)
    pq.write_table(table, path, compression="zstd")
    tags = folder.parent / f"{name}.odd-tags.yaml"
    tags.write_text(yaml.safe_dump(odd_tags_of(table), sort_keys=False), encoding="utf-8")
    front = {"license": "apache-2.0", "pretty_name": name, "tags": ["synthetic", "highway-env"]}
    (folder / "README.md").write_text(
        f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n\n# {name}\n\n"
        "Synthetic demonstrations recorded in highway-env by `steward examples driving`: "
        "Kinematics observations labelled with a rule-based teacher's action. Risk tier: "
        "synthetic — no person, vehicle or place is real. Columns: `observation` (flattened), "
        "`label` (teacher action 0-4), episode/step/seed, `training_cell`, `used_by`, and ODD "
        "tags as `group.attribute` columns (weather and time of day are fixed: the simulator "
        "has neither).\n",
        encoding="utf-8",
    )
    return path
