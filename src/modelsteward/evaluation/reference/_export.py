"""Export a trained network as an ONNX graph (``onnx.helper``) and check it against NumPy.

Graph (opset 17, IR 8; input ``obs`` ``[N, vehicles, 5]``, output ``probs`` ``[N, 5]``)::

    obs ─Slice rows 1…─Reshape[-1,5]─Gemm─Relu─Gemm─Relu─Reshape[-1,V-1,H]─ReduceMax(axis 1)─┐
    obs ─Slice row 0, columns y,vx,vy─Reshape[-1,3]──────────────────────────────────────────Concat
        ─Gemm─Relu─Gemm─Softmax─ probs

The bytes are a pure function of the weights (no timestamps, fixed names and producer), so the
same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelsteward.errors import VerificationFailed
from modelsteward.evaluation.reference._network import EGO_FEATURES, FEATURES, SetNet

__all__ = ["INPUT", "OPSET", "OUTPUT", "export_onnx", "verify_onnx"]

INPUT, OUTPUT = "obs", "probs"
OPSET = 17
_TOLERANCE = 1e-4


def _constant(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def _nodes() -> list[onnx.NodeProto]:
    node = helper.make_node
    return [
        node("Slice", [INPUT, "others_start", "others_end", "axis_1"], ["others"]),
        node("Reshape", ["others", "rows_shape"], ["rows"]),
        node("Gemm", ["rows", "w1", "b1"], ["z1"]),
        node("Relu", ["z1"], ["a1"]),
        node("Gemm", ["a1", "w2", "b2"], ["z2"]),
        node("Relu", ["z2"], ["a2"]),
        node("Reshape", ["a2", "encoded_shape"], ["encoded"]),
        node("ReduceMax", ["encoded"], ["pooled"], axes=[1], keepdims=0),
        node("Slice", [INPUT, "ego_start", "ego_end", "axes_1_2"], ["ego_row"]),
        node("Reshape", ["ego_row", "ego_shape"], ["ego"]),
        node("Concat", ["pooled", "ego"], ["head_in"], axis=1),
        node("Gemm", ["head_in", "w3", "b3"], ["z3"]),
        node("Relu", ["z3"], ["a3"]),
        node("Gemm", ["a3", "w4", "b4"], ["logits"]),
        node("Softmax", ["logits"], [OUTPUT], axis=1),
    ]


def export_onnx(net: SetNet, vehicles: int, path: Path, *, name: str) -> None:
    """Write ``net`` as an ONNX graph taking ``[N, vehicles, 5]`` raw observations."""
    hidden = int(net.w2.shape[1])
    ego_from, ego_to = EGO_FEATURES[0], EGO_FEATURES[-1] + 1
    weights = [
        numpy_helper.from_array(np.asarray(getattr(net, key), dtype=np.float32), key)
        for key in ("w1", "b1", "w2", "b2", "w3", "b3", "w4", "b4")
    ]
    constants = [
        _constant("others_start", [1]),
        _constant("others_end", [vehicles]),
        _constant("axis_1", [1]),
        _constant("rows_shape", [-1, FEATURES]),
        _constant("encoded_shape", [-1, vehicles - 1, hidden]),
        _constant("ego_start", [0, ego_from]),
        _constant("ego_end", [1, ego_to]),
        _constant("axes_1_2", [1, 2]),
        _constant("ego_shape", [-1, ego_to - ego_from]),
    ]
    actions = int(net.w4.shape[1])
    graph = helper.make_graph(
        _nodes(),
        name,
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", vehicles, FEATURES])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", actions])],
        initializer=weights + constants,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="steward",
        producer_version="1",
        doc_string="Steward reference driving policy: action probabilities from Kinematics.",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString(deterministic=True))


def verify_onnx(net: SetNet, path: Path, observations: np.ndarray) -> float:
    """Largest |ONNX − NumPy| probability over ``observations``; raises past 1e-4.

    Raises:
        VerificationFailed: onnxruntime and the NumPy forward pass disagree.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    batch = np.asarray(observations, dtype=np.float32)
    batch = batch.reshape(len(batch), -1, FEATURES)
    onnx_out = session.run([OUTPUT], {INPUT: batch})[0]
    numpy_out = net.probabilities(batch)
    gap = float(np.max(np.abs(onnx_out - numpy_out))) if len(batch) else 0.0
    if not gap <= _TOLERANCE:
        raise VerificationFailed(
            f"{path}: onnxruntime and the NumPy forward pass differ by {gap:.2e}",
            hint="the export is broken; do not register this model",
        )
    return gap
