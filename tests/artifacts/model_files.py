"""Builders for the model files the scanning tests need, written by the tests themselves.

Hostile files are real: the malicious pickle really calls ``os.system`` when unpickled (which no
test ever does). Benign PyTorch pickles are assembled opcode by opcode, because torch is not
installed and its rebuild functions cannot be pickled by reference without it.
"""

from __future__ import annotations

import os
import pickle
import shlex
import struct
import zipfile
from pathlib import Path

import gguf
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data


class _SystemCall:
    """Unpickling this runs a shell command (``os.system``); pickling it does not."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (self.command,)


def malicious_pickle(marker: Path) -> bytes:
    """A pickle that would ``touch marker`` when loaded."""
    return pickle.dumps(_SystemCall(f"touch {shlex.quote(str(marker))}"))


class _Reduce:
    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def pickle_calling(func: object, *args: object, protocol: int = 4) -> bytes:
    """A pickle whose load would call ``func(*args)``."""
    return pickle.dumps(_Reduce(func, args), protocol=protocol)


# --- a torch.save-style pickle, assembled from protocol-2 opcodes -------------------------------

_MARK, _TUPLE, _REDUCE, _STOP = b"(", b"t", b"R", b"."


def _text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)  # BININT


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()  # GLOBAL


def _ints(values: tuple[int, ...]) -> bytes:
    return _MARK + b"".join(_int(v) for v in values) + _TUPLE


def _tensor(key: str, shape: tuple[int, ...]) -> bytes:
    numel = int(np.prod(shape))
    storage = (
        _MARK + _text("storage") + _global("torch", "FloatStorage") + _text(key) + _text("cpu")
        + _int(numel) + _TUPLE + b"Q"  # BINPERSID: torch.load's persistent_load resolves it
    )  # fmt: skip
    stride = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
    hooks = _global("collections", "OrderedDict") + b")" + _REDUCE
    return (
        _global("torch._utils", "_rebuild_tensor_v2")
        + _MARK + storage + _int(0) + _ints(shape) + _ints(stride) + b"\x89" + hooks + _TUPLE
        + _REDUCE
    )  # fmt: skip


def torch_state_dict_pickle(tensors: dict[str, tuple[int, ...]] | None = None) -> bytes:
    """``data.pkl`` of ``torch.save({name: float32 tensor})``: only torch rebuild globals."""
    tensors = tensors or {"linear.weight": (2, 2), "linear.bias": (2,)}
    items = b"".join(
        _text(name) + _tensor(str(index), shape)
        for index, (name, shape) in enumerate(tensors.items())
    )
    return b"\x80\x02" + b"}" + _MARK + items + b"u" + _STOP


def write_torch_zip(
    path: Path,
    data_pkl: bytes,
    *,
    storages: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A ``torch.save`` zip archive: ``archive/data.pkl``, ``archive/version``, storages."""
    storages = storages if storages is not None else {"0": bytes(16), "1": bytes(8)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
        for key, raw in storages.items():
            archive.writestr(f"archive/data/{key}", raw)
        for name, raw in (extra or {}).items():
            archive.writestr(name, raw)
    return path


def legacy_torch_file(data_pkl: bytes, storage: bytes = bytes(16)) -> bytes:
    """torch.save's pre-1.6 format: five pickles back to back, then raw storage bytes."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2)
    keys = pickle.dumps(["0", "1"], protocol=2)
    return magic + pickle.dumps(1001, protocol=2) + sys_info + data_pkl + keys + storage


# --- safetensors --------------------------------------------------------------------------------


def raw_safetensors(header: dict[str, object], data: bytes, *, length: int | None = None) -> bytes:
    """Bytes of a safetensors file with exactly this header (no validation, no padding)."""
    import json

    encoded = json.dumps(header).encode()
    size = len(encoded) if length is None else length
    return struct.pack("<Q", size) + encoded + data


# --- ONNX ---------------------------------------------------------------------------------------


def onnx_model(
    *,
    domain: str = "",
    op_type: str = "Relu",
    initializers: list[TensorProto] | None = None,
    nodes: list[onnx.NodeProto] | None = None,
    functions: list[onnx.FunctionProto] | None = None,
) -> onnx.ModelProto:
    """A one-node model ``y = op(x)``; a non-standard ``domain`` makes the op custom."""
    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [4]) for n in ("x", "y")]
    node = helper.make_node(op_type, ["x"], ["y"], domain=domain)
    graph = helper.make_graph(nodes or [node], "g", io[:1], io[1:], initializer=initializers or [])
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets, functions=functions or [])


def external_tensor(name: str, location: str, *, length: int = 16) -> TensorProto:
    """A float tensor of four elements whose bytes live in ``location``."""
    tensor = numpy_helper.from_array(np.zeros(4, dtype=np.float32), name)
    set_external_data(tensor, location, offset=0, length=length)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    return tensor


def subgraph_reading(location: str) -> onnx.NodeProto:
    """An ``If`` node whose branch holds a Constant with external data at ``location``."""
    out = [helper.make_tensor_value_info("c", TensorProto.FLOAT, [4])]
    constant = helper.make_node("Constant", [], ["c"], value=external_tensor("c", location))
    branch = helper.make_graph([constant], "branch", [], out)
    return helper.make_node("If", ["x"], ["y"], then_branch=branch, else_branch=branch)


# --- GGUF and SentencePiece ---------------------------------------------------------------------


def write_gguf(path: Path, chat_template: str | None = None) -> Path:
    """A tiny llama-architecture GGUF file with one F32 tensor."""
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_name("tiny-drive")
    writer.add_file_type(0)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    writer.add_tensor("token_embd.weight", np.ones((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def gguf_with_endless_array(path: Path) -> Path:
    """A GGUF header whose one metadata array claims 2**62 uint8 elements."""
    key = b"general.junk"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    entry = struct.pack("<Q", len(key)) + key + struct.pack("<IIQ", 9, 0, 2**62)
    path.write_bytes(header + entry + bytes(8))
    return path


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sentencepiece_model(pieces: tuple[str, ...] = ("<unk>", "▁drive", "▁stop")) -> bytes:
    """A SentencePiece ``ModelProto``: pieces (text, score, type) and empty specs."""
    body = b""
    for index, piece in enumerate(pieces):
        entry = _field(1, piece.encode()) + b"\x15" + struct.pack("<f", -float(index))
        entry += b"\x18" + _varint(2 if index == 0 else 1)
        body += _field(1, entry)
    return body + _field(2, b"") + _field(3, b"")
