"""A held-out logged drive for the reference library's logged-replay scenarios.

The teacher drives fresh episodes over every training cell — seeds no policy trained on (round
index :data:`HELD_OUT_ROUND` of the seed scheme in :func:`demonstration_jobs`) — and every
decision is written with its label and ODD tags, in the format of the demonstrations dataset
(:mod:`modelsteward.evaluation.replay` reads it). Three scenarios replay slices of it: the whole
log, dense traffic and aggressive cut-ins. The whole log mixes every cell, so it is tagged only
with what all its frames share (plus medium traffic, its largest share) and spans few cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from modelsteward.evaluation._pool import process_pool
from modelsteward.evaluation.reference._collect import collect
from modelsteward.evaluation.reference._dataset import table_of
from modelsteward.evaluation.reference._plan import CELLS, demonstration_jobs

__all__ = ["HELD_OUT_ROUND", "LOG", "REPLAY_SCENARIOS", "write_replay_log"]

HELD_OUT_ROUND = 9
"""Seed block of the held-out drive: disjoint from the training rounds (0–2) and scenarios."""
LOG = "logs/held-out-teacher.parquet"
"""Where the log lies, relative to the scenario library folder."""

_TAGS = {
    "scenery.road_type": "motorway",
    "environment.weather": "clear",
    "environment.time_of_day": "day",
}

REPLAY_SCENARIOS: tuple[dict[str, Any], ...] = (
    {
        "id": "replay-held-out-drive",
        "title": "Held-out logged drive: the teacher's decisions over the whole ODD",
        "description": (
            "Every decision of a held-out teacher drive over all training cells (light to dense "
            "traffic, slow and braking leads, cut-ins, on-ramp merges). The model must choose the "
            "teacher's action on most frames and in every ODD slice with enough frames."
        ),
        "odd": {**_TAGS, "dynamic_elements.traffic_density": "medium"},
        "hazard": {"severity": "S1", "exposure": "E4", "controllability": "C1"},
        "replay": {"data": LOG},
        "criteria": {"min_accuracy": 0.75, "min_slice_accuracy": 0.6},
        "tolerances": {"min_accuracy": 0.05, "min_slice_accuracy": 0.1},
    },
    {
        "id": "replay-held-out-dense",
        "title": "Held-out logged drive: dense traffic",
        "description": "The dense-traffic frames of the held-out drive.",
        "odd": {
            **_TAGS,
            "dynamic_elements.traffic_density": "dense",
            "dynamic_elements.lead_vehicle": "steady",
            "dynamic_elements.cut_in": "none",
        },
        "hazard": {"severity": "S2", "exposure": "E3", "controllability": "C2"},
        "replay": {"data": LOG, "filter": {"dynamic_elements.traffic_density": "dense"}},
        "criteria": {"min_accuracy": 0.7},
        "tolerances": {"min_accuracy": 0.05},
    },
    {
        "id": "replay-held-out-aggressive-cut-ins",
        "title": "Held-out logged drive: aggressive cut-ins",
        "description": "The frames of the held-out drive where drivers cut in aggressively.",
        "odd": {
            **_TAGS,
            "dynamic_elements.traffic_density": "medium",
            "dynamic_elements.lead_vehicle": "steady",
            "dynamic_elements.cut_in": "aggressive",
        },
        "hazard": {"severity": "S3", "exposure": "E2", "controllability": "C2"},
        "replay": {"data": LOG, "filter": {"dynamic_elements.cut_in": "aggressive"}},
        "criteria": {"min_accuracy": 0.7},
        "tolerances": {"min_accuracy": 0.05},
    },
)
"""The logged-replay scenarios, as scenario documents (written next to the closed-loop ones)."""


def write_replay_log(library: Path, *, seed: int, episodes: int, workers: int) -> Path:
    """Drive held-out teacher episodes and write them to ``library / LOG``.

    At least one episode per share point of every training cell, so every cell — and so every
    replay scenario's filter — has frames however small the build.
    """
    budget = max(episodes, sum(cell.share for cell in CELLS))
    jobs = demonstration_jobs(budget, seed, round_index=HELD_OUT_ROUND)
    with process_pool(workers) as pool:
        demos = list(pool.map(collect, jobs, chunksize=1))
    path = library / LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table_of([("held-out", d) for d in demos]), path, compression="zstd")
    return path
