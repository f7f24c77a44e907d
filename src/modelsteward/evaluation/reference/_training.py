"""Training the reference policies: behaviour cloning with DAgger rounds, on worker processes.

Round 0 records the teacher (with speed-action noise) over every training cell. Each later
round lets the policy trained so far drive — the teacher's action is executed with a shrinking
probability — and labels every state it visits with the teacher's action; the policy is then
retrained on everything gathered (DAgger, Ross et al. 2011). Both recipes run side by side so
both cores stay busy: the competent policy over all cells, the narrow one over its single cell
(its round 0 is the teacher data of that cell). Every seventh episode is held out: the reported
accuracy is on teacher labels the model never trained on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from modelsteward.evaluation._pool import process_pool
from modelsteward.evaluation.reference._collect import Demonstration, DemonstrationJob, collect
from modelsteward.evaluation.reference._network import (
    SetNet,
    TrainingConfig,
    accuracy,
    train_setnet,
)
from modelsteward.evaluation.reference._plan import NARROW_CELL, demonstration_jobs

__all__ = ["ROUNDS", "Recipe", "TrainedPolicy", "train_policies"]

ACTIONS = 5
HOLD_OUT_EVERY = 7
ROUNDS: tuple[tuple[float, float], ...] = ((0.4, 0.0), (0.3, 0.5), (0.3, 0.2))
"""Per round: (share of the episode budget, probability the teacher's action is executed)."""
ROUND0_NOISE = 0.2
_ROUND_EPOCHS = 10


@dataclass(frozen=True)
class Recipe:
    """A policy to train: its name, training cells (None = all) and episode budget."""

    name: str
    cells: tuple[str, ...] | None
    episodes: int


@dataclass(frozen=True)
class TrainedPolicy:
    """A trained policy (raw-observation float32 MLP) and what its training saw."""

    name: str
    model: SetNet
    episodes: int
    samples: int
    held_out_samples: int
    train_accuracy: float
    held_out_accuracy: float
    teacher_crashes: int
    learner_crashes: int
    label_counts: tuple[int, ...]
    demonstrations: tuple[Demonstration, ...]


def _split(demos: Sequence[Demonstration]) -> tuple[list[Demonstration], list[Demonstration]]:
    held = [d for i, d in enumerate(demos) if i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1]
    kept = [d for i, d in enumerate(demos) if i % HOLD_OUT_EVERY != HOLD_OUT_EVERY - 1]
    return kept, held


def _stack(demos: Sequence[Demonstration]) -> tuple[np.ndarray, np.ndarray]:
    rows = [d for d in demos if len(d.labels)]
    if not rows:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate([d.observations for d in rows]), np.concatenate([d.labels for d in rows])


def _fit(demos: Sequence[Demonstration], seed: int, epochs: int) -> SetNet:
    inputs, labels = _stack(_split(demos)[0])
    return train_setnet(inputs, labels, ACTIONS, seed=seed, config=TrainingConfig(epochs=epochs))


def _round_jobs(
    recipe: Recipe, index: int, seed: int, learner: SetNet | None
) -> list[DemonstrationJob]:
    share, teacher_share = ROUNDS[index]
    episodes = max(1, round(recipe.episodes * share))
    if index == 0:
        return demonstration_jobs(episodes, seed, cells=recipe.cells, noise=ROUND0_NOISE)
    return demonstration_jobs(
        episodes, seed, cells=recipe.cells, round_index=index, learner=learner,
        teacher_share=teacher_share,
    )  # fmt: skip


def train_policies(
    competent_episodes: int,
    narrow_episodes: int,
    *,
    seed: int,
    workers: int,
    progress: Callable[[str], None],
) -> tuple[TrainedPolicy, TrainedPolicy]:
    """Train the competent and the narrow policy; returns them in that order."""
    recipes = (
        Recipe("competent", None, competent_episodes),
        Recipe("narrow", (NARROW_CELL,), narrow_episodes),
    )
    data: dict[str, list[Demonstration]] = {recipe.name: [] for recipe in recipes}
    models: dict[str, SetNet] = {}
    with process_pool(workers) as pool:
        for index in range(len(ROUNDS)):
            started = time.perf_counter()
            _collect_round(pool, recipes, index, seed, data, models)
            last = index == len(ROUNDS) - 1
            epochs = TrainingConfig().epochs if last else _ROUND_EPOCHS
            # Both networks train at once, one per worker.
            fits = {name: pool.submit(_fit, demos, seed, epochs) for name, demos in data.items()}
            models = {name: future.result() for name, future in fits.items()}
            samples = sum(len(d.labels) for d in data["competent"])
            progress(
                f"round {index}: {samples} competent samples, {time.perf_counter() - started:.1f} s"
            )
    competent, narrow = (_summary(r.name, models[r.name], data[r.name]) for r in recipes)
    return competent, narrow


def _collect_round(
    pool: ProcessPoolExecutor,
    recipes: Sequence[Recipe],
    index: int,
    seed: int,
    data: dict[str, list[Demonstration]],
    models: dict[str, SetNet],
) -> None:
    if index == 0:
        demos = list(pool.map(collect, _round_jobs(recipes[0], 0, seed, None), chunksize=1))
        data["competent"].extend(demos)
        data["narrow"].extend(d for d in demos if d.job.tags["training.cell"] == NARROW_CELL)
        return
    jobs = {r.name: _round_jobs(r, index, seed, models.get(r.name)) for r in recipes}
    ordered = [(name, job) for name, batch in jobs.items() for job in batch]
    results = pool.map(collect, [job for _, job in ordered], chunksize=1)
    for (name, _job), demo in zip(ordered, results, strict=True):
        data[name].append(demo)


def _summary(name: str, model: SetNet, demos: Sequence[Demonstration]) -> TrainedPolicy:
    kept, held = _split(demos)
    train_x, train_y = _stack(kept)
    held_x, held_y = _stack(held)
    learner = [d for d in demos if d.job.learner is not None]
    return TrainedPolicy(
        name=name,
        model=model,
        episodes=len(demos),
        samples=len(train_y),
        held_out_samples=len(held_y),
        train_accuracy=accuracy(model, train_x, train_y),
        held_out_accuracy=accuracy(model, held_x, held_y),
        teacher_crashes=sum(d.crashed for d in demos if d.job.learner is None),
        learner_crashes=sum(d.crashed for d in learner),
        label_counts=tuple(int(c) for c in np.bincount(train_y, minlength=ACTIONS)),
        demonstrations=tuple(demos),
    )
