"""The reference driving stack: ODD, scenarios, two trained policies — real simulator, real ONNX.

One reduced build (42 competent episodes instead of 140, about 20 s on two cores) serves most
tests; the full build is measured by ``benchmarks/eval_bench.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from modelsteward.artifacts.modelcard import ModelCard
from modelsteward.data.records import OddTags
from modelsteward.errors import Conflict
from modelsteward.evaluation._simulator import make_env, reset_env
from modelsteward.evaluation.closed_loop import run_episodes
from modelsteward.evaluation.policies import ModelFolderSpec, OnnxPolicy, load_adapter
from modelsteward.evaluation.reference import (
    OBSERVATION,
    ReferenceStack,
    build_reference_stack,
    scenario_jobs,
)
from modelsteward.evaluation.reference._export import export_onnx, verify_onnx
from modelsteward.evaluation.reference._network import TrainingConfig, train_setnet
from modelsteward.evaluation.scenarios import ScenarioLibrary
from modelsteward.evaluation.suite import replay_result
from modelsteward.odd.spec import OddSpec

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reference-stack")]

DRAFT_KEYS = ["id", "title", "description", "odd", "hazard", "environment", "criteria",
              "tolerances", "repetitions", "seed"]  # fmt: skip
DENSE = ["dense-two-lane", "dense-three-lane", "dense-four-lane"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> ReferenceStack:
    lines: list[str] = []
    out = tmp_path_factory.mktemp("reference") / "driving"
    built = build_reference_stack(out, seed=0, episodes=42, progress=lines.append)
    assert any("round 2" in line for line in lines)
    return built


def _documents(stack: ReferenceStack) -> list[dict[str, object]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(stack.scenarios.glob("*.yaml"))]


def _scenarios(stack: ReferenceStack) -> list[dict[str, object]]:
    """The closed-loop scenario documents."""
    return [d for d in _documents(stack) if "environment" in d]


def test_every_reference_scenario_runs_in_highway_env(stack: ReferenceStack) -> None:
    for scenario in _scenarios(stack):
        environment = scenario["environment"]
        assert isinstance(environment, dict)
        config = {**environment["config"], "observation": OBSERVATION}
        env = make_env(environment["env_id"], config)
        observation = reset_env(env, int(scenario["seed"]))  # type: ignore[call-overload]
        assert observation.shape == (OBSERVATION["vehicles_count"], 5)
        for _ in range(3):
            env.step(1)
        assert env.unwrapped.time > 0
        env.close()


def test_scenario_library_covers_nominal_driving_and_hazards(stack: ReferenceStack) -> None:
    scenarios = _scenarios(stack)
    assert len(_documents(stack)) == stack.scenario_count == len(scenarios) + 3
    assert len(scenarios) >= 20
    for scenario in scenarios:
        assert list(scenario) == DRAFT_KEYS
        assert 3 <= scenario["repetitions"] <= 5  # type: ignore[operator]
    tags = [scenario["odd"] for scenario in scenarios]
    seen = {(key, str(value)) for t in tags for key, value in t.items()}  # type: ignore[attr-defined]
    for wanted in [
        ("dynamic_elements.traffic_density", "dense"),
        ("dynamic_elements.traffic_density", "light"),
        ("dynamic_elements.lead_vehicle", "slow"),
        ("dynamic_elements.lead_vehicle", "braking"),
        ("dynamic_elements.cut_in", "aggressive"),
        ("dynamic_elements.cut_in", "gentle"),
        ("scenery.merge", "on-ramp"),
        ("scenery.lanes", "2"),
        ("dynamic_elements.ego_speed_mps", "29"),
    ]:
        assert wanted in seen, wanted
    seeds = [int(s["seed"]) + r for s in scenarios for r in range(int(s["repetitions"]))]  # type: ignore[call-overload]
    assert len(seeds) == len(set(seeds))
    severities = {s["hazard"]["severity"] for s in scenarios}  # type: ignore[index]
    assert {"S2", "S3"} <= severities


def test_odd_declares_weather_it_cannot_simulate_and_scenarios_stay_honest(
    stack: ReferenceStack,
) -> None:
    odd = yaml.safe_load(stack.odd.read_text())
    assert list(odd)[:6] == ["odd", "version", "description", "scenery", "environment",
                             "dynamic_elements"]  # fmt: skip
    assert odd["environment"]["weather"]["values"] == ["clear", "rain"]
    assert "clear daylight only" in odd["description"]
    assert {s["odd"]["environment.weather"] for s in _scenarios(stack)} == {"clear"}  # type: ignore[index]


def test_onnx_export_matches_numpy_forward(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    observations = rng.uniform(-1, 1, size=(400, 50)).astype(np.float32)
    labels = rng.integers(0, 5, size=400)
    net = train_setnet(observations, labels, 5, seed=1, config=TrainingConfig(epochs=2))
    path = tmp_path / "policy.onnx"
    export_onnx(net, 10, path, name="test")
    assert verify_onnx(net, path, observations) <= 1e-4
    policy = OnnxPolicy(path, "obs", "probs")
    expected = net.probabilities(observations[:50]).argmax(axis=1).tolist()
    assert [policy(row)[0] for row in observations[:50]] == expected


def test_same_seed_gives_byte_identical_onnx(tmp_path: Path) -> None:
    one = build_reference_stack(tmp_path / "one", seed=3, episodes=4)
    two = build_reference_stack(tmp_path / "two", seed=3, episodes=4)
    for name in ("competent", "narrow"):
        first = (one.root / "models" / name / "policy.onnx").read_bytes()
        assert first == (two.root / "models" / name / "policy.onnx").read_bytes()
        for meta in ("training.json", "README.md", "config.json"):
            assert (one.root / "models" / name / meta).read_bytes() == (
                two.root / "models" / name / meta
            ).read_bytes()


def test_model_folders_are_ready_for_intake(stack: ReferenceStack) -> None:
    for folder, narrow in ((stack.competent, False), (stack.narrow, True)):
        adapter = load_adapter(folder)
        assert adapter.kind == "onnx"
        assert adapter.observation["vehicles_count"] == 10
        assert adapter.runs_files() == ("policy.onnx", "steward-adapter.yaml")
        card = ModelCard.parse((folder / "README.md").read_text())
        assert (card.license, card.pipeline_tag, card.library_name) == (
            "apache-2.0", "reinforcement-learning", "steward"
        )  # fmt: skip
        assert card.datasets == ("steward-highway-demonstrations",)
        assert card.intended_use
        assert card.limitations
        assert ("light traffic on four-lane motorways" in card.intended_use) is narrow
        config = json.loads((folder / "config.json").read_text())
        assert config["model_type"] == "steward-mlp-policy"
        training = json.loads((folder / "training.json").read_text())
        assert training["seed"] == 0
        assert 0.0 < training["held_out_accuracy"] <= 1.0
        assert training["samples"] > 0
        assert "teacher" in training


def test_demonstrations_carry_odd_tags_for_coverage_and_replay(stack: ReferenceStack) -> None:
    table = pq.read_table(stack.dataset)
    assert {"observation", "label", "scenery.lanes", "dynamic_elements.traffic_density",
            "dynamic_elements.cut_in", "used_by"} <= set(table.column_names)  # fmt: skip
    assert len(table) > stack.samples
    assert set(table.column("label").to_pylist()) <= set(range(5))
    assert len(table.column("observation")[0].as_py()) == 50


def test_competent_policy_beats_narrow_on_dense_traffic(stack: ReferenceStack) -> None:
    crashes = {}
    for name, folder in (("competent", stack.competent), ("narrow", stack.narrow)):
        jobs = scenario_jobs(stack.scenarios, ModelFolderSpec(str(folder)), only=DENSE)
        results = run_episodes(jobs, workers=2)
        assert len(results) == 12
        crashes[name] = sum(result.collision for result in results)
    assert crashes["competent"] < crashes["narrow"], crashes


def test_an_occupied_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not empty"):
        build_reference_stack(tmp_path, episodes=1)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_replay_scenarios_judge_the_models_on_a_held_out_drive(stack: ReferenceStack) -> None:
    odd = OddSpec.from_path(stack.odd)
    library = ScenarioLibrary.from_dir(stack.scenarios, odd)
    replays = [s for s in library.scenarios if s.kind == "replay"]
    assert [s.id for s in replays] == [
        "replay-held-out-aggressive-cut-ins", "replay-held-out-dense", "replay-held-out-drive"
    ]  # fmt: skip
    log = pq.read_table(stack.scenarios / "logs" / "held-out-teacher.parquet")
    assert set(log["used_by"].to_pylist()) == {"held-out"}
    # The drive's seeds are disjoint from every training episode's.
    trained = set(pq.read_table(stack.dataset)["seed"].to_pylist())
    assert trained.isdisjoint(log["seed"].to_pylist())
    competent = ModelFolderSpec(str(stack.competent)).build()
    for scenario in replays:
        result = replay_result(scenario, competent, odd)
        assert result.repetitions[0].steps  # every frame was a decision
        assert result.frame_slices


def test_dataset_odd_tags_describe_the_demonstrations(stack: ReferenceStack) -> None:
    tags = OddTags.from_mapping(yaml.safe_load(stack.dataset_odd_tags.read_text()))
    odd = OddSpec.from_path(stack.odd)
    assert tags.tags["environment.weather"] == ["clear"]
    touched = odd.cells_touched(tags.to_dict(), ["environment.weather"])
    assert [c.to_dict() for c in touched] == [{"environment.weather": "clear"}]
