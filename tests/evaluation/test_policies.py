"""Policy adapters: a model folder says how it runs; Steward loads it and lists what it runs."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from modelsteward.errors import InvalidInput, NotFound
from modelsteward.evaluation.policies import (
    ADAPTER_FILE,
    ConfiguresEnvironment,
    EntryPointSpec,
    ModelFolderSpec,
    OnnxPolicy,
    load_adapter,
)

ONNX_ADAPTER = """\
kind: onnx
model: policy.onnx
observation: {type: Kinematics, vehicles_count: 2, features: [presence, x, y, vx, vy],
              normalize: true}
action: {type: DiscreteMetaAction, labels: [LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER]}
input: obs
output: probs
"""
PYTHON_ADAPTER = """\
kind: python
model: driver:act
observation: {type: Kinematics}
action: {type: DiscreteMetaAction}
"""


def _linear_graph(path: Path, weights: np.ndarray) -> None:
    """A real ONNX graph: probs = softmax(obs @ weights), obs of shape [N, 2, 5]."""
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["obs", "shape"], ["flat"]),
            helper.make_node("Gemm", ["flat", "w"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
        ],
        "linear",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["N", 2, 5])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 5])],
        initializer=[
            numpy_helper.from_array(weights.astype(np.float32), "w"),
            numpy_helper.from_array(np.array([-1, 10], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


@pytest.fixture
def onnx_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "onnx-model"
    folder.mkdir()
    weights = np.zeros((10, 5))
    weights[6, 4] = 5.0  # a large x of the other vehicle → SLOWER
    _linear_graph(folder / "policy.onnx", weights)
    (folder / ADAPTER_FILE).write_text(ONNX_ADAPTER)
    (folder / "README.md").write_text("# card\n")
    return folder


def _python_folder(root: Path, name: str, action: int) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "driver.py").write_text(
        f"from helper import CONFIDENCE\n\ndef act(observation):\n    return {action}, CONFIDENCE\n"
    )
    (folder / "helper.py").write_text("CONFIDENCE = 0.7\n")
    (folder / ADAPTER_FILE).write_text(PYTHON_ADAPTER)
    return folder


def test_onnx_action_is_the_argmax_and_confidence_its_probability(onnx_folder: Path) -> None:
    policy = load_adapter(onnx_folder).policy()
    observation = np.zeros((2, 5), dtype=np.float32)
    assert policy(observation)[1] == pytest.approx(0.2)
    observation[1, 1] = 2.0
    action, confidence = policy(observation)
    assert action == 4
    assert confidence > 0.9
    assert policy(observation.reshape(-1)) == policy(observation)


def test_onnx_adapter_lists_the_files_it_runs(onnx_folder: Path) -> None:
    assert load_adapter(onnx_folder).runs_files() == ("policy.onnx", ADAPTER_FILE)


def test_onnx_policy_refuses_an_observation_of_the_wrong_size(onnx_folder: Path) -> None:
    policy = OnnxPolicy(onnx_folder / "policy.onnx", "obs", "probs")
    with pytest.raises(InvalidInput, match="25 values; the model takes 10"):
        policy(np.zeros((5, 5)))


def test_two_python_models_with_the_same_module_names_do_not_shadow(tmp_path: Path) -> None:
    slow = load_adapter(_python_folder(tmp_path, "slow", 4)).policy()
    fast = load_adapter(_python_folder(tmp_path, "fast", 3)).policy()
    assert (slow(None), fast(None)) == ((4, 0.7), (3, 0.7))


def test_importing_a_python_model_writes_nothing_into_its_folder(tmp_path: Path) -> None:
    folder = _python_folder(tmp_path, "model", 1)
    before = sorted(p.name for p in folder.rglob("*"))
    load_adapter(folder).policy()(None)
    assert sorted(p.name for p in folder.rglob("*")) == before
    assert load_adapter(folder).runs_files() == ("driver.py", "helper.py", ADAPTER_FILE)


def test_python_policy_answer_is_checked(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "driver.py").write_text("def act(observation):\n    return 'left'\n")
    (folder / ADAPTER_FILE).write_text(PYTHON_ADAPTER)
    with pytest.raises(InvalidInput, match="returned 'left'"):
        load_adapter(folder).policy()(None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: torch\nmodel: m.pt\n", "field 'kind' must be onnx or python"),
        (ONNX_ADAPTER.replace("model: policy.onnx", "model: missing.onnx"), "no file 'missing"),
        (ONNX_ADAPTER.replace("model: policy.onnx", "model: ../policy.onnx"), "outside the model"),
        (ONNX_ADAPTER.replace("input: obs\n", ""), "field 'input' must be a non-empty string"),
        (ONNX_ADAPTER + "weights: w.bin\n", "unknown field"),
        (ONNX_ADAPTER.replace("observation: {type: Kinematics,", "observation: {kind: K,"),
         "field 'observation' must be a mapping"),
        (ONNX_ADAPTER.replace("labels: [LANE_LEFT,", "labels: [1,"), "field 'action.labels'"),
        (PYTHON_ADAPTER.replace("driver:act", "driver.act"), "field 'model': 'driver.act' is not"),
        ("kind: [onnx\n", "not valid YAML"),
        ("- onnx\n", "expected a mapping"),
    ],
)  # fmt: skip
def test_malformed_adapters_are_refused_naming_the_field(
    onnx_folder: Path, text: str, message: str
) -> None:
    (onnx_folder.parent / "policy.onnx").write_bytes(b"outside")
    (onnx_folder / ADAPTER_FILE).write_text(text)
    with pytest.raises(InvalidInput, match=message):
        load_adapter(onnx_folder)


def test_a_folder_without_adapter_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=ADAPTER_FILE):
        load_adapter(tmp_path)


def test_an_unloadable_graph_is_invalid_input(onnx_folder: Path) -> None:
    (onnx_folder / "policy.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(InvalidInput, match="not a loadable ONNX graph"):
        load_adapter(onnx_folder).policy()


def test_missing_python_entry_is_invalid_input(tmp_path: Path) -> None:
    folder = _python_folder(tmp_path, "model", 1)
    with pytest.raises(InvalidInput, match="no callable 'drive'"):
        EntryPointSpec("driver:drive", str(folder)).build()
    with pytest.raises(InvalidInput, match="module 'pilot' not found"):
        EntryPointSpec("pilot:act", str(folder)).build()


def test_model_folder_spec_is_picklable_and_sets_the_adapters_observation(
    onnx_folder: Path,
) -> None:
    spec = pickle.loads(pickle.dumps(ModelFolderSpec(str(onnx_folder))))
    assert isinstance(spec, ConfiguresEnvironment)
    config = spec.configure({"lanes_count": 3, "action": {"target_speeds": [0, 10, 20]}})
    assert config["observation"]["vehicles_count"] == 2
    assert config["action"] == {"target_speeds": [0, 10, 20], "type": "DiscreteMetaAction"}
    assert config["lanes_count"] == 3
    assert spec.build()(np.zeros(10))[0] in range(5)
    assert not isinstance(EntryPointSpec("driver:act"), ConfiguresEnvironment)
