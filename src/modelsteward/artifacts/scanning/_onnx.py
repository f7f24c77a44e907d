"""ONNX models: parsed without their external data; custom operators and data paths checked.

Standard ONNX operators are data-flow descriptions. An operator from another domain needs native
code from the runtime or a plug-in (reviewed by a person), and an external-data ``location`` makes
the runtime read a file: it must be a file inside the model folder, never ``/etc/passwd``.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import onnx
    >>> from onnx import TensorProto, helper
    >>> from modelsteward.artifacts.scanning import scan_file
    >>> io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in "xy"]
    >>> graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", io[:1], io[1:])
    >>> path = Path(tempfile.mkdtemp()) / "model.onnx"
    >>> onnx.save(helper.make_model(graph), path)
    >>> scan_file("model.onnx", path, path.parent).verdict
    <Verdict.SAFE: 'safe'>
"""

from __future__ import annotations

from collections.abc import Iterator

import onnx
from google.protobuf.message import DecodeError
from onnx import AttributeProto, FunctionProto, GraphProto, ModelProto, TensorProto

from modelsteward.artifacts.scanning._target import Findings, ScanTarget, sibling_file
from modelsteward.artifacts.scanning._verdict import FileVerdict

__all__ = ["MAX_ONNX_BYTES", "STANDARD_DOMAINS", "scan_onnx"]

STANDARD_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training"})
"""Operator domains the ONNX specification defines."""

MAX_ONNX_BYTES = 2 * 1024**3
"""Protobuf messages cannot exceed 2 GiB; bigger models keep their weights as external data."""

_Container = GraphProto | FunctionProto


def scan_onnx(target: ScanTarget) -> FileVerdict:
    """Parse an ONNX model (weights left on disk) and check its operators and data paths."""
    found = Findings()
    if target.size > MAX_ONNX_BYTES:
        found.unsafe(f"{target.size} bytes is more than an ONNX protobuf can hold (2 GiB)")
        return found.build(target, "onnx", "onnx", onnx.__version__)
    try:
        model = onnx.load(target.real, format="protobuf", load_external_data=False)
    except (DecodeError, ValueError, RecursionError) as exc:
        found.unsafe(f"not a valid ONNX model ({type(exc).__name__}: {str(exc)[:200]})")
        return found.build(target, "onnx", "onnx", onnx.__version__)
    if model.ir_version <= 0 or not model.HasField("graph"):
        found.unsafe("not a valid ONNX model (no IR version or no graph)")
        return found.build(target, "onnx", "onnx", onnx.__version__)
    _check_model(model, target, found)
    return found.build(target, "onnx", "onnx", onnx.__version__)


def _check_model(model: ModelProto, target: ScanTarget, found: Findings) -> None:
    local = {(f.domain, f.name) for f in model.functions}
    custom: set[str] = set()
    nodes = 0
    external: dict[str, int] = {}
    for container in _containers(model):
        for node in container.node:
            nodes += 1
            if node.domain not in STANDARD_DOMAINS and (node.domain, node.op_type) not in local:
                custom.add(node.domain)
    for tensor in _tensors(model):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        _check_external(tensor, target, found, external)
    declared = sorted({o.domain for o in model.opset_import} - STANDARD_DOMAINS)
    for domain in sorted(custom):
        found.unscanned(f"custom operator domain {domain!r} needs native code; review and accept")
    found.details.update(
        {
            "ir_version": model.ir_version,
            "producer": f"{model.producer_name} {model.producer_version}".strip(),
            "opsets": {o.domain or "ai.onnx": o.version for o in model.opset_import},
            "nodes": nodes,
            "custom_domains": sorted(custom),
            "declared_domains": declared,
            "local_functions": sorted(f"{d}.{n}" for d, n in local),
            "external_data": sorted(external),
        }
    )


def _check_external(
    tensor: TensorProto, target: ScanTarget, found: Findings, external: dict[str, int]
) -> None:
    entries = {e.key: e.value for e in tensor.external_data}
    location = entries.get("location", "")
    rel, problem = sibling_file(target, location)
    if rel is None:
        found.unsafe(f"tensor {tensor.name!r} names external data {location!r}, {problem}")
        return
    try:
        offset = int(entries.get("offset", "0") or 0)
        length = int(entries["length"]) if entries.get("length") else None
    except ValueError:
        found.unsafe(f"tensor {tensor.name!r} has a non-numeric external data offset or length")
        return
    size = (target.root / rel).stat().st_size
    if offset < 0 or (length is not None and (length < 0 or offset + length > size)):
        found.unsafe(
            f"tensor {tensor.name!r} reads bytes {offset}+{length} of {rel!r}, "
            f"which holds {size} bytes"
        )
        return
    external[rel] = size


def _containers(model: ModelProto) -> Iterator[_Container]:
    """The main graph, every subgraph in an attribute, local functions and training graphs."""
    stack: list[_Container] = [model.graph, *model.functions]
    for info in model.training_info:
        stack.extend([info.initialization, info.algorithm])
    while stack:
        container = stack.pop()
        yield container
        for node in container.node:
            for attribute in node.attribute:
                if attribute.type == AttributeProto.GRAPH:
                    stack.append(attribute.g)
                stack.extend(attribute.graphs)


def _tensors(model: ModelProto) -> Iterator[TensorProto]:
    """Every tensor that can carry data: initializers (dense and sparse) and attribute tensors."""
    for container in _containers(model):
        if isinstance(container, GraphProto):
            yield from container.initializer
            for sparse in container.sparse_initializer:
                yield from (sparse.values, sparse.indices)
        for node in container.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t
                yield from attribute.tensors
                if attribute.HasField("sparse_tensor"):
                    yield from (attribute.sparse_tensor.values, attribute.sparse_tensor.indices)
                for sparse in attribute.sparse_tensors:
                    yield from (sparse.values, sparse.indices)
