"""Run a scenario library against a policy and build the evaluation report.

Closed-loop scenarios become one :class:`~modelsteward.evaluation.closed_loop.EpisodeJob` per
repetition (seed), all run on ``workers`` processes; each episode is judged against the
scenario's criteria. A step counts as *correct* for calibration unless the episode ended in a
collision within :data:`CRASH_HORIZON` decision steps after it — so confidence is compared with
"this decision did not lead straight into a crash".

Logged-replay scenarios run in this process: every frame of the (filtered) Parquet log goes to the
policy and is scored against its label. Their criteria are ``min_accuracy``, ``max_unsafe_rate``
(the log must have an ``unsafe_actions`` column) and ``min_slice_accuracy`` — the worst accuracy
over the log's ODD slices with at least :data:`MIN_SLICE_FRAMES` frames. A frame is *correct*
for calibration when the policy chose the labelled action. Per-slice frame accuracy is kept in the
report with Wilson intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.evaluation.closed_loop import (
    EpisodeJob,
    EpisodeResult,
    criteria_passed,
    evaluate_criteria,
    run_episodes,
)
from modelsteward.evaluation.policies import Policy, PolicySpec
from modelsteward.evaluation.replay import ReplayResult, replay_frames
from modelsteward.evaluation.report import (
    CriterionOutcome,
    EvaluationReport,
    RepetitionResult,
    ScenarioResult,
)
from modelsteward.evaluation.scenarios import Scenario, ScenarioLibrary
from modelsteward.odd.spec import OddSpec

__all__ = [
    "CRASH_HORIZON",
    "MIN_SLICE_FRAMES",
    "evaluate_library",
    "replay_result",
    "scenario_result",
]

CRASH_HORIZON = 5  # decision steps (1 s at highway-env's 5 Hz policy frequency)
MIN_SLICE_FRAMES = 20
"""Smallest ODD slice of a replay log that ``min_slice_accuracy`` judges."""


def _jobs(library: ScenarioLibrary, policy: PolicySpec) -> list[tuple[Scenario, EpisodeJob]]:
    jobs = []
    for scenario in library.scenarios:
        if scenario.environment is None:
            continue
        for seed in scenario.seeds:
            job = EpisodeJob(
                scenario.environment.env_id,
                scenario.environment.config,
                policy,
                seed,
                label=f"{scenario.id}#{seed}",
            )
            jobs.append((scenario, job))
    return jobs


def _repetition(scenario: Scenario, episode: EpisodeResult) -> RepetitionResult:
    outcomes = evaluate_criteria(episode, scenario.criteria.to_dict())
    crash_from = episode.steps - CRASH_HORIZON if episode.collision else episode.steps
    steps = tuple(
        (float(confidence), index < crash_from)
        for index, confidence in enumerate(episode.confidences)
    )
    return RepetitionResult(
        seed=episode.seed,
        passed=criteria_passed(outcomes),
        criteria=tuple(outcomes.values()),
        steps=steps,
        latencies_ns=episode.latencies_ns,
    )


def _slice_label(odd: OddSpec | None) -> Callable[[str, Any], str | None]:
    """Frame tag → slice label: the ODD bin of an ODD attribute; other columns are skipped."""

    def label(column: str, value: Any) -> str | None:
        if odd is None:
            return str(value)
        if column not in odd.keys:
            return None
        cell = odd.cell_of({column: value}, [column])
        return cell.to_dict()[column] if cell is not None else f"{value} (outside the ODD)"

    return label


def _replay_criterion(scenario: Scenario, name: str, run: ReplayResult) -> float:
    """The value one replay criterion measured (raises when the log cannot measure it)."""
    if name == "min_accuracy":
        return run.accuracy
    if name == "max_unsafe_rate":
        if not run.unsafe_labelled:
            raise InvalidInput(
                f"scenario {scenario.id}: max_unsafe_rate needs an unsafe_actions column in "
                f"the replay log",
                hint="list the unsafe actions per frame, or drop the criterion",
            )
        return run.unsafe_rate
    judged = [
        correct / frames
        for key, (frames, correct) in run.slices.items()
        if frames >= MIN_SLICE_FRAMES and "(outside the ODD)" not in key
    ]
    if not judged:
        raise InvalidInput(
            f"scenario {scenario.id}: min_slice_accuracy needs an ODD slice with at least "
            f"{MIN_SLICE_FRAMES} frames, and the log has none",
            hint="tag the frames with ODD columns (group.attribute), or use min_accuracy",
        )
    return min(judged)


def _replay_repetition(scenario: Scenario, seed: int, run: ReplayResult) -> RepetitionResult:
    outcomes = []
    for name, limit in scenario.criteria.to_dict().items():
        threshold = float(limit)
        value = _replay_criterion(scenario, name, run)
        margin = threshold - value if name.startswith("max_") else value - threshold
        outcomes.append(CriterionOutcome(name, value, threshold, margin))
    return RepetitionResult(
        seed=seed,
        passed=all(o.passed for o in outcomes),
        criteria=tuple(outcomes),
        steps=tuple(zip(run.confidences, run.hits, strict=True)),
        latencies_ns=run.latencies_ns,
    )


def replay_result(scenario: Scenario, policy: Policy, odd: OddSpec | None) -> ScenarioResult:
    """Replay one logged-replay scenario once per seed and judge it."""
    assert scenario.replay is not None
    repetitions = []
    slices: dict[str, list[int]] = {}
    for seed in scenario.seeds:
        run = replay_frames(
            scenario.replay.path, policy, where=scenario.replay.filter, slice_of=_slice_label(odd)
        )
        if run.frames == 0:
            raise InvalidInput(
                f"scenario {scenario.id}: the replay filter leaves no frames in "
                f"{scenario.replay.data}",
                hint="check replay.filter against the log's columns and values",
            )
        repetitions.append(_replay_repetition(scenario, seed, run))
        for key, (frames, correct) in run.slices.items():
            total = slices.setdefault(key, [0, 0])
            total[0] += frames
            total[1] += correct
    frame_slices = {k: (v[0], v[1]) for k, v in slices.items()}
    return _result(scenario, odd, repetitions, frame_slices)


def _result(
    scenario: Scenario,
    odd: OddSpec | None,
    repetitions: Sequence[RepetitionResult],
    frame_slices: Mapping[str, tuple[int, int]] | None = None,
) -> ScenarioResult:
    """A scenario's identity, hazard and binned ODD tags with what its repetitions measured."""
    hazard = scenario.hazard.to_dict()
    return ScenarioResult(
        scenario_id=scenario.id,
        title=scenario.title,
        asil=str(scenario.asil),
        severity=hazard["severity"],
        exposure=hazard["exposure"],
        controllability=hazard["controllability"],
        odd=scenario.odd_labels(odd),
        repetitions=tuple(repetitions),
        frame_slices=dict(frame_slices or {}),
    )


def scenario_result(
    scenario: Scenario, episodes: Sequence[EpisodeResult], odd: OddSpec | None
) -> ScenarioResult:
    """One scenario's repetitions as the report records them."""
    return _result(scenario, odd, [_repetition(scenario, e) for e in episodes])


def evaluate_library(
    library: ScenarioLibrary,
    policy: PolicySpec,
    *,
    model_ref: str,
    model_digest: str,
    odd: OddSpec | None = None,
    workers: int = 2,
    created_at: datetime | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Run every scenario × seed and build the report (episodes in parallel)."""
    planned = _jobs(library, policy)
    replays = [s for s in library.scenarios if s.replay is not None]
    total = len(planned) + sum(s.repetitions for s in replays)
    done = 0

    def tick(_job: object = None) -> None:
        nonlocal done
        done += 1
        if on_done:
            on_done(done, total)

    if on_done:
        on_done(0, total)
    episodes = run_episodes([job for _, job in planned], workers, tick) if planned else []
    by_scenario: dict[str, list[EpisodeResult]] = {}
    for (scenario, _), episode in zip(planned, episodes, strict=True):
        by_scenario.setdefault(scenario.id, []).append(episode)
    replayed: dict[str, ScenarioResult] = {}
    if replays:
        built = policy.build()
        for scenario in replays:
            replayed[scenario.id] = replay_result(scenario, built, odd)
            for _ in scenario.seeds:
                tick()
    results = [
        replayed[s.id] if s.id in replayed else scenario_result(s, by_scenario[s.id], odd)
        for s in library.scenarios
    ]
    return EvaluationReport.from_results(
        results,
        model_ref=model_ref,
        model_digest=model_digest,
        suite_digest=str(library.digest),
        odd_digest=str(odd.digest) if odd is not None else None,
        created_at=created_at,
    )
