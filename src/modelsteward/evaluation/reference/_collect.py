"""Demonstrations: (Kinematics observation, teacher action) pairs from seeded episodes.

Every visited state is labelled with the teacher's action. Who drives differs by round:

- round 0 — the teacher, except that with probability ``noise`` a step executes a random speed
  action (IDLE, FASTER or SLOWER) instead (DART-style noise: the data also shows recoveries);
- later rounds (DAgger) — the learner trained so far, except that with probability
  ``teacher_share`` the teacher's action is executed. The learner visits the states its own
  mistakes lead to, and the teacher says what to do there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelsteward.evaluation._simulator import make_env, reset_env
from modelsteward.evaluation.reference._network import SetNet
from modelsteward.evaluation.reference._teacher import Teacher

__all__ = ["Demonstration", "DemonstrationJob", "collect"]

_SPEED_ACTIONS = (1, 3, 4)  # IDLE, FASTER, SLOWER: random lane changes mostly teach crashing


@dataclass(frozen=True)
class DemonstrationJob:
    """One teacher episode to record.

    Attributes:
        env_id: Gymnasium id.
        config: highway-env config keys.
        seed: Reset seed (and seed of the noise).
        noise: Probability of executing a random speed action instead of the teacher's.
        tags: ODD tags of the episode (``group.attribute`` → value), copied onto every sample.
        learner: The policy that drives (DAgger rounds), or None for the teacher.
        teacher_share: With a learner, the probability that the teacher's action is executed.
    """

    env_id: str
    config: Mapping[str, Any]
    seed: int
    noise: float = 0.0
    tags: Mapping[str, Any] = field(default_factory=dict)
    learner: SetNet | None = None
    teacher_share: float = 0.0


@dataclass(frozen=True)
class Demonstration:
    """The samples of one episode: observations ``(n, 25)`` float32 and labels ``(n,)``."""

    job: DemonstrationJob
    observations: np.ndarray
    labels: np.ndarray
    crashed: bool


def _executed(job: DemonstrationJob, label: int, observation: Any, rng: Any) -> int:
    draw = rng.random()
    if job.learner is None:
        return int(rng.choice(_SPEED_ACTIONS)) if draw < job.noise else label
    if draw < job.teacher_share:
        return label
    flat = np.asarray(observation, dtype=np.float32).reshape(1, -1)
    return int(job.learner.probabilities(flat)[0].argmax())


def collect(job: DemonstrationJob) -> Demonstration:
    """Drive one episode with the teacher and record every decision."""
    env = make_env(job.env_id, job.config)
    try:
        observation = reset_env(env, job.seed)
        unwrapped = env.unwrapped
        rng = np.random.default_rng(job.seed)
        teacher = Teacher()
        limit = int(unwrapped.config.get("duration", 40) * unwrapped.config["policy_frequency"]) + 1
        observations: list[np.ndarray] = []
        labels: list[int] = []
        done = False
        while not done and len(labels) < limit:
            label = teacher.act(unwrapped)
            action = _executed(job, label, observation, rng)
            teacher.executed(action)
            observations.append(np.asarray(observation, dtype=np.float32).reshape(-1))
            labels.append(label)
            observation, _reward, terminated, truncated, _info = env.step(action)
            done = bool(terminated or truncated)
        return Demonstration(
            job,
            np.stack(observations) if observations else np.zeros((0, 0), np.float32),
            np.asarray(labels, dtype=np.int64),
            bool(unwrapped.vehicle.crashed),
        )
    finally:
        env.close()
