"""Run a scenario library against a policy and build the evaluation report.

Closed-loop scenarios become one :class:`~modelsteward.evaluation.closed_loop.EpisodeJob` per
repetition (seed), all run on ``workers`` processes; each episode is judged against the
scenario's criteria. A step counts as *correct* for calibration unless the episode ended in a
collision within :data:`CRASH_HORIZON` decision steps after it — so confidence is compared with
"this decision did not lead straight into a crash".

Logged-replay scenarios are not judged here yet (their criteria are a later addition); asking for
one is an ``InvalidInput`` that says so, rather than a silent pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from modelsteward.evaluation.policies import PolicySpec
from modelsteward.evaluation.report import (
    CriterionOutcome,
    EvaluationReport,
    RepetitionResult,
    ScenarioResult,
)
from modelsteward.evaluation.scenarios import Scenario, ScenarioLibrary
from modelsteward.odd.spec import OddSpec

__all__ = ["CRASH_HORIZON", "evaluate_library", "scenario_result"]

CRASH_HORIZON = 5  # decision steps (1 s at highway-env's 5 Hz policy frequency)


def _jobs(library: ScenarioLibrary, policy: PolicySpec) -> list[tuple[Scenario, EpisodeJob]]:
    jobs = []
    for scenario in library.scenarios:
        if scenario.environment is None:
            raise InvalidInput(
                f"scenario {scenario.id}: logged-replay scenarios cannot be judged by "
                "`eval run` yet",
                hint="evaluate closed-loop scenarios, or run the replay with "
                "modelsteward.evaluation.replay",
            )
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
    criteria = tuple(
        CriterionOutcome(
            name=o.name,
            value=float(o.value),
            threshold=float(o.threshold),
            margin=float(o.margin),
        )
        for o in outcomes.values()
    )
    crash_from = episode.steps - CRASH_HORIZON if episode.collision else episode.steps
    steps = tuple(
        (float(confidence), index < crash_from)
        for index, confidence in enumerate(episode.confidences)
    )
    return RepetitionResult(
        seed=episode.seed,
        passed=criteria_passed(outcomes),
        criteria=criteria,
        steps=steps,
        latencies_ns=episode.latencies_ns,
    )


def _labels(scenario: Scenario, odd: OddSpec | None) -> dict[str, Any]:
    """ODD tags as the report wants them: range values as their bin label."""
    if odd is None:
        return dict(scenario.odd)
    cell = odd.cell_of(scenario.odd, [k for k in odd.keys if k in scenario.odd])
    return dict(cell.to_dict()) if cell is not None else dict(scenario.odd)


def scenario_result(
    scenario: Scenario, episodes: Sequence[EpisodeResult], odd: OddSpec | None
) -> ScenarioResult:
    """One scenario's repetitions as the report records them."""
    hazard = scenario.hazard.to_dict()
    return ScenarioResult(
        scenario_id=scenario.id,
        title=scenario.title,
        asil=str(scenario.asil),
        severity=hazard["severity"],
        exposure=hazard["exposure"],
        controllability=hazard["controllability"],
        odd=_labels(scenario, odd),
        repetitions=tuple(_repetition(scenario, e) for e in episodes),
    )


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
    if on_done:
        on_done(0, len(planned))
    episodes = run_episodes([job for _, job in planned], workers)
    if on_done:
        on_done(len(planned), len(planned))
    by_scenario: dict[str, list[EpisodeResult]] = {}
    for (scenario, _), episode in zip(planned, episodes, strict=True):
        by_scenario.setdefault(scenario.id, []).append(episode)
    results = [scenario_result(s, by_scenario[s.id], odd) for s in library.scenarios]
    return EvaluationReport.from_results(
        results,
        model_ref=model_ref,
        model_digest=model_digest,
        suite_digest=str(library.digest),
        odd_digest=str(odd.digest) if odd is not None else None,
        created_at=created_at,
    )
