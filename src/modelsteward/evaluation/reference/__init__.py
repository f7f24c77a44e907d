"""The reference driving stack behind ``steward examples driving --out DIR``.

:func:`build_reference_stack` writes, with nothing downloaded::

    DIR/odd.yaml                          the reference ODD (PAS 1883 groups)
    DIR/scenarios/*.yaml                  21 highway-env scenarios, nominal driving and hazards,
                                          and 3 logged-replay scenarios
    DIR/scenarios/logs/held-out-teacher.parquet   the held-out drive they replay
    DIR/models/competent/                 policy.onnx, steward-adapter.yaml, README.md,
    DIR/models/narrow/                      config.json, training.json
    DIR/datasets/steward-highway-demonstrations/   demonstrations.parquet + README.md
    DIR/datasets/steward-highway-demonstrations.odd-tags.yaml   the ODD values it covers

Both policies imitate the same rule-based teacher (behaviour cloning with DAgger rounds, on two
worker processes); the *competent* one over the whole ODD, the *narrow* one only over light
traffic on four-lane motorways. The build is deterministic for a seed — the same seed writes
byte-identical ONNX graphs — and atomic: it happens in a temporary folder renamed at the end.

>>> [spec.id for spec in SCENARIOS][:2], len(SCENARIOS)
(['nominal-light-four-lane', 'nominal-light-three-lane'], 21)
>>> OBSERVATION["vehicles_count"]
10
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from modelsteward.errors import Conflict, InvalidInput
from modelsteward.evaluation.closed_loop import EpisodeJob
from modelsteward.evaluation.policies import PolicySpec
from modelsteward.evaluation.reference._dataset import write_dataset
from modelsteward.evaluation.reference._export import verify_onnx
from modelsteward.evaluation.reference._library import SCENARIOS, ScenarioSpec, write_library
from modelsteward.evaluation.reference._model_folder import DATASET_NAME, write_model_folder
from modelsteward.evaluation.reference._plan import OBSERVATION
from modelsteward.evaluation.reference._replay_log import REPLAY_SCENARIOS, write_replay_log
from modelsteward.evaluation.reference._training import TrainedPolicy, train_policies

__all__ = [
    "DATASET_NAME",
    "DEFAULT_EPISODES",
    "OBSERVATION",
    "REPLAY_SCENARIOS",
    "SCENARIOS",
    "ReferenceStack",
    "ScenarioSpec",
    "build_reference_stack",
    "scenario_jobs",
]

DEFAULT_EPISODES = 140
"""Teacher and DAgger episodes for the competent policy; the narrow one gets 4/7 of that."""
_VERIFY_SAMPLES = 512


@dataclass(frozen=True)
class ReferenceStack:
    """What :func:`build_reference_stack` wrote, and how training went.

    Attributes:
        root: The output folder.
        odd: ``odd.yaml``.
        scenarios: The scenario library folder.
        competent: The competent policy's model folder.
        narrow: The narrow policy's model folder.
        dataset: The demonstrations Parquet file.
        dataset_odd_tags: The ODD values the demonstrations cover (``--odd-tags`` format).
        scenario_count: Scenario files written.
        training_seconds: Wall time of data collection and training (both policies).
        competent_accuracy: Held-out accuracy of the competent policy on teacher labels.
        narrow_accuracy: Held-out accuracy of the narrow policy on teacher labels.
        samples: Training samples of the competent policy.
    """

    root: Path
    odd: Path
    scenarios: Path
    competent: Path
    narrow: Path
    dataset: Path
    dataset_odd_tags: Path
    scenario_count: int
    training_seconds: float
    competent_accuracy: float
    narrow_accuracy: float
    samples: int


def _staging(out: Path) -> Path:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Conflict(f"{out} already exists and is not empty", hint="choose a new --out folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))


def _verify(policy: TrainedPolicy, graph: Path) -> None:
    observations = [d.observations for d in policy.demonstrations if len(d.labels)]
    sample = np.concatenate(observations)[:_VERIFY_SAMPLES] if observations else np.zeros((0, 50))
    verify_onnx(policy.model, graph, sample)


@dataclass(frozen=True)
class _Built:
    odd: Path
    scenarios: Path
    dataset: Path
    competent: TrainedPolicy
    narrow: TrainedPolicy
    training_seconds: float


def _build_into(
    root: Path, seed: int, episodes: int, workers: int, say: Callable[[str], None]
) -> _Built:
    odd, scenarios = write_library(root)
    say(f"wrote the ODD and {len(SCENARIOS)} scenarios")
    started = time.perf_counter()
    narrow_episodes = max(1, round(episodes * 4 / 7))
    competent, narrow = train_policies(
        episodes, narrow_episodes, seed=seed, workers=workers, progress=say
    )
    seconds = time.perf_counter() - started
    for policy in (competent, narrow):
        _verify(policy, write_model_folder(policy, root / "models" / policy.name, seed=seed))
    dataset = write_dataset(
        root / "datasets" / DATASET_NAME,
        competent.demonstrations,
        narrow.demonstrations,
        DATASET_NAME,
    )
    say(f"trained both policies in {seconds:.1f} s; exported and verified ONNX")
    write_replay_log(scenarios, seed=seed, episodes=episodes // 5, workers=workers)
    for document in REPLAY_SCENARIOS:
        path = scenarios / f"{document['id']}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False, width=100), encoding="utf-8")
    say(f"recorded a held-out drive for {len(REPLAY_SCENARIOS)} logged-replay scenarios")
    return _Built(odd, scenarios, dataset, competent, narrow, seconds)


def build_reference_stack(
    out: Path,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    episodes: int = DEFAULT_EPISODES,
    workers: int = 2,
) -> ReferenceStack:
    """Build the ODD, the scenario library, both policies and their dataset under ``out``.

    Args:
        out: A new (or empty) folder.
        seed: Seeds every episode and the training; same seed → same files.
        progress: Called with a line of text at each stage (the library never prints).
        episodes: Competent policy's episode budget (the narrow one gets 4/7 of it); lower it
            for quick builds.
        workers: Processes for data collection and training.

    Raises:
        Conflict: ``out`` exists and is not empty.
        InvalidInput: ``episodes`` or ``workers`` below 1.
        VerificationFailed: An exported graph disagrees with the trained network.
    """
    if episodes < 1 or workers < 1:
        raise InvalidInput("episodes and workers must be at least 1")
    staging = _staging(out)
    finished = False
    try:
        built = _build_into(staging, seed, episodes, workers, progress or (lambda _line: None))
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
        finished = True
    finally:
        if not finished:
            shutil.rmtree(staging, ignore_errors=True)
    return ReferenceStack(
        root=out,
        odd=out / built.odd.relative_to(staging),
        scenarios=out / built.scenarios.relative_to(staging),
        competent=out / "models" / "competent",
        narrow=out / "models" / "narrow",
        dataset=out / built.dataset.relative_to(staging),
        dataset_odd_tags=out / "datasets" / f"{DATASET_NAME}.odd-tags.yaml",
        scenario_count=len(SCENARIOS) + len(REPLAY_SCENARIOS),
        training_seconds=built.training_seconds,
        competent_accuracy=built.competent.held_out_accuracy,
        narrow_accuracy=built.narrow.held_out_accuracy,
        samples=built.competent.samples,
    )


def scenario_jobs(
    scenarios: Path, policy: PolicySpec, *, only: Sequence[str] | None = None
) -> list[EpisodeJob]:
    """One job per closed-loop scenario file × repetition (label ``"<id>#<seed>"``).

    Logged-replay scenario files are skipped.

    A light reader for benchmarks and tests; Steward's scenario library parser validates the
    format in full.

    Raises:
        InvalidInput: A file is not a closed-loop scenario mapping.
    """
    jobs: list[EpisodeJob] = []
    for path in sorted(Path(scenarios).glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "replay" in document:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("environment"), dict):
            raise InvalidInput(f"{path}: not a closed-loop scenario")
        if only is not None and document["id"] not in only:
            continue
        environment = document["environment"]
        for repetition in range(int(document.get("repetitions", 1))):
            seed = int(document.get("seed", 0)) + repetition
            jobs.append(
                EpisodeJob(
                    environment["env_id"], environment.get("config", {}), policy, seed,
                    label=f"{document['id']}#{seed}",
                )
            )  # fmt: skip
    return jobs
