"""Policy adapters: how a registered model folder runs, described by ``steward-adapter.yaml``.

.. code-block:: yaml

    kind: onnx              # or: python
    model: policy.onnx      # onnx: the graph file; python: "module:callable" in the folder
    observation: {type: Kinematics, vehicles_count: 5, features: [presence, x, y, vx, vy],
                  normalize: true}
    action: {type: DiscreteMetaAction, labels: [LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER]}
    input: obs              # onnx only: the graph's input name
    output: probs           # onnx only: action probabilities (action = argmax, confidence = max)

Both kinds give a policy ``observation -> (action, confidence)``. ONNX graphs run on
onnxruntime's CPU provider with one thread, so N workers use N cores. A Python entry point is
imported from the model folder (under a private package name, without writing bytecode; sibling
modules must be imported when the entry module loads); it is called as
``act(observation) -> (action, confidence)``.
:meth:`Adapter.runs_files` lists the files a run depends on, for the digest check before
evaluation. :class:`ModelFolderSpec` and :class:`EntryPointSpec` are picklable recipes that
worker processes turn into policies.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "driver.py").write_text("def act(obs):\\n    return 1, 0.75\\n")
>>> _ = (folder / "steward-adapter.yaml").write_text(
...     "kind: python\\nmodel: driver:act\\nobservation: {type: Kinematics}\\n"
...     "action: {type: DiscreteMetaAction}\\n")
>>> adapter = load_adapter(folder)
>>> adapter.policy()(None), adapter.runs_files()
((1, 0.75), ('driver.py', 'steward-adapter.yaml'))
>>> ModelFolderSpec(str(folder)).build()(None)
(1, 0.75)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from modelsteward.errors import InvalidInput, NotFound
from modelsteward.evaluation._python_entry import load_entry, parse_entry
from modelsteward.yamlfile import read_yaml

__all__ = [
    "ADAPTER_FILE",
    "Adapter",
    "ConfiguresEnvironment",
    "EntryPointSpec",
    "ModelFolderSpec",
    "OnnxPolicy",
    "Policy",
    "PolicySpec",
    "PythonPolicy",
    "load_adapter",
]

ADAPTER_FILE = "steward-adapter.yaml"
Policy = Callable[[Any], tuple[int, float]]
"""A driving policy: observation → (action index, confidence in [0, 1])."""

_FIELDS = {"kind", "model", "observation", "action", "input", "output"}


class PolicySpec(Protocol):
    """A picklable recipe for a policy, rebuilt inside each worker process."""

    def build(self) -> Policy:
        """Create the policy (load the model, open the inference session …)."""
        ...


class OnnxPolicy:
    """An ONNX graph whose output is action probabilities, on onnxruntime's CPU provider."""

    def __init__(self, model_path: Path, input_name: str, output_name: str) -> None:
        """Open an inference session with one intra-op and one inter-op thread.

        Raises:
            InvalidInput: The graph does not load, or lacks the named input or output.
        """
        import onnxruntime
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except (
            ort_errors.Fail,
            ort_errors.InvalidGraph,
            ort_errors.InvalidProtobuf,
            ort_errors.NoSuchFile,
            ort_errors.InvalidArgument,
        ) as exc:
            raise InvalidInput(f"{model_path}: not a loadable ONNX graph: {exc}") from exc
        inputs = {node.name: node for node in self._session.get_inputs()}
        outputs = {node.name for node in self._session.get_outputs()}
        if input_name not in inputs:
            raise InvalidInput(f"input: the graph has no input {input_name!r} ({sorted(inputs)})")
        if output_name not in outputs:
            raise InvalidInput(f"output: the graph has no output {output_name!r}")
        dims = inputs[input_name].shape[1:]
        fixed = all(isinstance(d, int) for d in dims)
        self._shape: tuple[int, ...] = (1, *dims) if fixed else (1, -1)
        self._size = int(np.prod(dims)) if fixed else None
        self._input, self._output = input_name, output_name

    def __call__(self, observation: Any) -> tuple[int, float]:
        """Action = argmax of the probabilities, confidence = that probability.

        Raises:
            InvalidInput: The observation's size is not the one the graph takes.
        """
        values = np.asarray(observation, dtype=np.float32)
        if self._size is not None and values.size != self._size:
            raise InvalidInput(
                f"the observation has {values.size} values; the model takes {self._size}",
                hint="configure the environment with the adapter's observation "
                "(Adapter.apply_to / ModelFolderSpec.configure)",
            )
        batch = values.reshape(self._shape)
        probabilities = self._session.run([self._output], {self._input: batch})[0][0]
        action = int(np.argmax(probabilities))
        return action, float(probabilities[action])


class PythonPolicy:
    """A Python callable ``act(observation) -> (action, confidence)``."""

    def __init__(self, act: Callable[[Any], Any]) -> None:
        """Wrap ``act``."""
        self._act = act

    @classmethod
    def from_entry(cls, entry: str, folder: Path | None = None) -> PythonPolicy:
        """Resolve ``module:callable`` in ``folder`` (or on the normal import path)."""
        return cls(load_entry(entry, folder))

    def __call__(self, observation: Any) -> tuple[int, float]:
        """Call the entry point and check it answered (action, confidence)."""
        answer = self._act(observation)
        try:
            action, confidence = answer
            return int(action), float(confidence)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"the policy returned {answer!r}",
                hint="act(observation) returns (action, confidence)",
            ) from exc


@dataclass(frozen=True)
class Adapter:
    """A validated ``steward-adapter.yaml`` and the folder it sits in."""

    folder: Path
    kind: Literal["onnx", "python"]
    model: str
    observation: Mapping[str, Any] = field(default_factory=dict)
    action: Mapping[str, Any] = field(default_factory=dict)
    input: str = ""
    output: str = ""

    def policy(self) -> Policy:
        """Load the model and return it as a policy."""
        if self.kind == "onnx":
            return OnnxPolicy(self.folder / self.model, self.input, self.output)
        return PythonPolicy.from_entry(self.model, self.folder)

    def runs_files(self) -> tuple[str, ...]:
        """Folder-relative POSIX paths of every file a run reads, sorted.

        ONNX: the adapter, the graph and any external-data files it names. Python: every file
        in the folder, since code may read any of them.
        """
        if self.kind == "python":
            names = {
                path.relative_to(self.folder).as_posix()
                for path in self.folder.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts
            }
        else:
            names = {ADAPTER_FILE, self.model, *_external_data(self.folder / self.model)}
        return tuple(sorted(names))

    def apply_to(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """An environment config observing what this model expects (the action type too)."""
        merged = dict(config)
        merged["observation"] = dict(self.observation)
        action = dict(merged.get("action") or {})
        action["type"] = self.action["type"]
        merged["action"] = action
        return merged


def _external_data(graph: Path) -> set[str]:
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    tensors = [*model.graph.initializer]
    tensors += [a.t for node in model.graph.node for a in node.attribute if a.HasField("t")]
    locations = set()
    for tensor in tensors:
        for entry in tensor.external_data:
            if entry.key == "location":
                locations.add(Path(entry.value).as_posix())
    return locations


def _text(data: Mapping[str, Any], name: str, where: Path) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: field '{name}' must be a non-empty string, got {value!r}")
    return value.strip()


def _section(data: Mapping[str, Any], name: str, where: Path) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise InvalidInput(f"{where}: field '{name}' must be a mapping with a 'type' string")
    labels = value.get("labels")
    if labels is not None and not (
        isinstance(labels, list) and all(isinstance(label, str) for label in labels)
    ):
        raise InvalidInput(f"{where}: field '{name}.labels' must be a list of strings")
    return value


def _inside(folder: Path, name: str, where: Path) -> None:
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise InvalidInput(f"{where}: field 'model' points outside the model folder: {name!r}")
    if not path.is_file():
        raise InvalidInput(f"{where}: field 'model': no file {name!r} in the model folder")


def load_adapter(model_dir: Path) -> Adapter:
    """Read and validate ``model_dir/steward-adapter.yaml``.

    Raises:
        NotFound: The folder has no adapter file.
        InvalidInput: Malformed YAML, or a missing, unknown or ill-typed field (named).
    """
    folder = Path(model_dir).resolve()
    where = folder / ADAPTER_FILE
    if not where.is_file():
        raise NotFound(f"{folder}: no {ADAPTER_FILE}", hint="describe how the model runs")
    data = read_yaml(where, "adapter file")
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a mapping of fields")
    unknown = sorted(set(map(str, data)) - _FIELDS)
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {', '.join(unknown)}")
    kind = data.get("kind")
    if kind not in ("onnx", "python"):
        raise InvalidInput(f"{where}: field 'kind' must be onnx or python, got {kind!r}")
    model = _text(data, "model", where)
    observation = _section(data, "observation", where)
    action = _section(data, "action", where)
    if kind == "python":
        parse_entry(model, field=f"{where}: field 'model'")
        return Adapter(folder, "python", model, observation, action)
    _inside(folder, model, where)
    return Adapter(
        folder, "onnx", model, observation, action, _text(data, "input", where),
        _text(data, "output", where),
    )  # fmt: skip


@runtime_checkable
class ConfiguresEnvironment(Protocol):
    """A policy spec that knows what its model must observe (see :meth:`Adapter.apply_to`)."""

    def configure(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the observation (and action type) the model expects."""
        ...


@dataclass(frozen=True)
class ModelFolderSpec:
    """A model folder with a ``steward-adapter.yaml`` (picklable policy recipe).

    It also configures environments: a scenario's config gets the adapter's observation, so a
    model trained on ten observed vehicles is shown ten.
    """

    model_dir: str

    def build(self) -> Policy:
        """Load the adapter and its policy."""
        return load_adapter(Path(self.model_dir)).policy()

    def configure(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the adapter's observation and action type."""
        return load_adapter(Path(self.model_dir)).apply_to(config)


@dataclass(frozen=True)
class EntryPointSpec:
    """A ``module:callable`` policy, imported from ``folder`` or the normal import path."""

    entry: str
    folder: str = ""

    def build(self) -> Policy:
        """Import the entry point."""
        return PythonPolicy.from_entry(self.entry, Path(self.folder) if self.folder else None)
