"""Which teacher episodes the reference policies learn from: training cells across the ODD.

Every cell is a slice of the operational design domain with randomised parameters (lanes,
traffic, behaviour of other drivers). The competent policy learns from all cells; the narrow
policy only from :data:`NARROW_CELL` — light traffic on four-lane motorways, no cut-ins.
Training seeds start at 100 000 so they never coincide with scenario seeds (1 000 – 9 999).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from modelsteward.evaluation.reference._collect import DemonstrationJob
from modelsteward.evaluation.reference._network import SetNet

__all__ = [
    "CELLS",
    "NARROW_CELL",
    "OBSERVATION",
    "OBSERVED_VEHICLES",
    "TRAINING_ENV",
    "TrainingCell",
    "demonstration_jobs",
]

TRAINING_ENV = "highway-fast-v0"
OBSERVED_VEHICLES = 10
OBSERVATION: dict[str, Any] = {
    "type": "Kinematics",
    "vehicles_count": OBSERVED_VEHICLES,
    "features": ["presence", "x", "y", "vx", "vy"],
    "normalize": True,
}
"""What the reference policies observe: highway-env's default five vehicles often miss the
vehicle ahead in dense four-lane traffic (four nearer ones in other lanes crowd it out)."""
_BASE = {
    "policy_frequency": 5,
    "simulation_frequency": 5,
    "duration": 15,
    "observation": OBSERVATION,
}
_HE = "highway_env.vehicle.behavior."
_REF = "modelsteward.evaluation.reference.traffic."


@dataclass(frozen=True)
class TrainingCell:
    """A slice of the ODD the teacher demonstrates.

    Attributes:
        name: Short id.
        share: Relative number of episodes.
        lanes: Lane counts drawn from.
        vehicles: Range of other vehicles.
        density: Range of highway-env's ``vehicles_density``.
        other: Behaviour class of other vehicles.
        tags: ODD tags (``group.attribute`` → value) the cell stands for; lanes added per episode.
        env_id: Gymnasium id (merges use ``merge-v0``).
    """

    name: str
    share: int
    lanes: tuple[int, ...]
    vehicles: tuple[int, int]
    density: tuple[float, float]
    other: str
    tags: tuple[tuple[str, str], ...]
    env_id: str = TRAINING_ENV


def _tags(density: str, lead: str = "steady", cut_in: str = "none", merge: str = "none") -> Any:
    return (
        ("scenery.merge", merge),
        ("dynamic_elements.traffic_density", density),
        ("dynamic_elements.lead_vehicle", lead),
        ("dynamic_elements.cut_in", cut_in),
    )


NARROW_CELL = "light-four-lane"
CELLS: tuple[TrainingCell, ...] = (
    TrainingCell(NARROW_CELL, 5, (4,), (5, 8), (0.4, 0.6), _HE + "IDMVehicle", _tags("light")),
    TrainingCell("light", 2, (2, 3), (8, 12), (0.5, 0.8), _HE + "IDMVehicle", _tags("light")),
    TrainingCell("medium", 3, (2, 3, 4), (14, 18), (1.0, 1.5), _HE + "IDMVehicle", _tags("medium")),
    TrainingCell("dense", 4, (2, 3, 4), (16, 22), (1.6, 2.0), _HE + "IDMVehicle", _tags("dense")),
    TrainingCell(
        "aggressive-drivers", 2, (2, 3, 4), (14, 20), (1.2, 2.0), _HE + "AggressiveVehicle",
        _tags("medium", cut_in="gentle"),
    ),
    TrainingCell(
        "gentle-cut-in", 2, (2, 3, 4), (14, 20), (1.2, 2.0), _REF + "GentleCutInVehicle",
        _tags("medium", cut_in="gentle"),
    ),
    TrainingCell(
        "aggressive-cut-in", 3, (2, 3, 4), (14, 20), (1.2, 2.0), _REF + "AggressiveCutInVehicle",
        _tags("medium", cut_in="aggressive"),
    ),
    TrainingCell(
        "slow-traffic", 2, (2, 3, 4), (12, 18), (0.8, 1.5), _REF + "SlowTrafficVehicle",
        _tags("medium", lead="slow"),
    ),
    TrainingCell(
        "braking-traffic", 3, (2, 3, 4), (12, 18), (1.0, 1.8), _REF + "BrakingTrafficVehicle",
        _tags("medium", lead="braking"),
    ),
    TrainingCell(
        "merge", 2, (2,), (0, 0), (1.0, 1.0), _HE + "IDMVehicle",
        _tags("light", merge="on-ramp"), env_id="merge-v0",
    ),
)  # fmt: skip


def _config(cell: TrainingCell, rng: np.random.Generator) -> tuple[dict[str, Any], int]:
    lanes = int(rng.choice(cell.lanes))
    if cell.env_id != TRAINING_ENV:
        return {**_BASE, "other_vehicles_type": cell.other}, lanes
    config = {
        **_BASE,
        "lanes_count": lanes,
        "vehicles_count": int(rng.integers(cell.vehicles[0], cell.vehicles[1] + 1)),
        "vehicles_density": round(float(rng.uniform(*cell.density)), 2),
        "initial_lane_id": int(rng.integers(lanes)),
        "ego_spacing": round(float(rng.uniform(1.0, 2.0)), 2),
        "other_vehicles_type": cell.other,
    }
    return config, lanes


def _allocate(total: int, shares: list[int]) -> list[int]:
    """Split ``total`` by ``shares`` (largest remainder; ties to the earlier cell)."""
    exact = [total * share / sum(shares) for share in shares]
    counts = [int(value) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - exact[i], i))
    for index in order[: total - sum(counts)]:
        counts[index] += 1
    return counts


def demonstration_jobs(
    episodes: int,
    seed: int,
    *,
    cells: tuple[str, ...] | None = None,
    round_index: int = 0,
    noise: float = 0.0,
    learner: SetNet | None = None,
    teacher_share: float = 0.0,
) -> list[DemonstrationJob]:
    """``episodes`` episodes spread over ``cells`` (default: all) by share, deterministically.

    Small budgets leave the smallest cells out; the narrow cell, with the largest share, is
    always first.

    Seeds are ``100_000 + 10_000 * seed + 1_000 * round_index + i`` — disjoint across rounds and
    from every scenario seed.
    """
    chosen = [cell for cell in CELLS if cells is None or cell.name in cells]
    rng = np.random.default_rng([seed, round_index, len(chosen)])
    counts = _allocate(episodes, [cell.share for cell in chosen])
    jobs: list[DemonstrationJob] = []
    for cell, count in zip(chosen, counts, strict=True):
        for _ in range(count):
            config, lanes = _config(cell, rng)
            tags = {**dict(cell.tags), "scenery.lanes": lanes, "training.cell": cell.name}
            episode_seed = 100_000 + 10_000 * seed + 1_000 * round_index + len(jobs)
            jobs.append(
                DemonstrationJob(
                    cell.env_id, config, episode_seed, noise, tags, learner, teacher_share
                )
            )
    return jobs
