"""Unsafe-serialization scanning: every file gets a verdict, and doubt means unsafe or unscanned.

Every fixture is built here (``model_files``, ``factories``); hostile ones are real. No test ever
unpickles anything: that a payload did not run is proved by its marker file staying absent.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import pickle
import pickletools
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import fickling
import model_files
import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import factories
import modelsteward
from modelsteward.artifacts import scanning
from modelsteward.artifacts.scanning import (
    PICKLE_ALLOW_LIST,
    FileVerdict,
    ScanReport,
    Verdict,
    _archives,
    is_allowed_global,
    scan_file,
    scan_model,
)
from modelsteward.errors import InvalidInput, MalformedEvidence


def scan_one(folder: Path, name: str, content: bytes) -> FileVerdict:
    """Write ``content`` as ``folder/name`` and scan it as a file of the model in ``folder``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return scan_file(name, path, folder)


def findings(verdict: FileVerdict) -> str:
    return "\n".join(verdict.findings)


def save_onnx(folder: Path, model: onnx.ModelProto, name: str = "model.onnx") -> FileVerdict:
    """Save ``model`` as ``folder/name`` and scan it."""
    path = folder / name
    onnx.save(model, path)
    return scan_file(name, path, folder)


# --- pickles ------------------------------------------------------------------------------------


def test_malicious_fixture_really_calls_os_system(tmp_path: Path) -> None:
    # proved from the opcodes, without loading it: import os.system, call it with the command
    ops = list(pickletools.genops(model_files.malicious_pickle(tmp_path / "pwned")))
    names = [op.name for op, _, _ in ops]
    texts = [arg for op, arg, _ in ops if op.name == "SHORT_BINUNICODE"]
    assert texts[:2] == [os.system.__module__, "system"]
    assert texts[2].startswith("touch ")
    assert texts[2].endswith("pwned")
    assert names.index("STACK_GLOBAL") < names.index("REDUCE")


def test_pickle_calling_os_system_is_unsafe_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    verdict = scan_one(tmp_path, "model.pkl", model_files.malicious_pickle(marker))
    assert verdict.verdict is Verdict.UNSAFE
    assert (verdict.format, verdict.scanner) == ("pickle", "fickling")
    assert f"imports {os.system.__module__}.system (not on the allow-list)" in verdict.findings
    assert verdict.details["imports"] == [f"{os.system.__module__}.system"]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("func", "args", "named"),
    [
        (eval, ("1 + 1",), "builtins.eval"),
        (exec, ("x = 1",), "builtins.exec"),
        (getattr, (int, "real"), "builtins.getattr"),
        (subprocess.Popen, (["true"],), "subprocess.Popen"),
    ],
)
def test_pickle_importing_a_callable_off_the_allow_list_is_unsafe(
    tmp_path: Path, func: object, args: tuple[object, ...], named: str
) -> None:
    verdict = scan_one(tmp_path, "model.pkl", model_files.pickle_calling(func, *args))
    assert verdict.verdict is Verdict.UNSAFE
    assert any(named in f for f in verdict.findings)


@pytest.mark.parametrize("protocol", [1, 2, 3, 4, 5])
def test_plain_data_pickle_is_safe_at_every_binary_protocol(tmp_path: Path, protocol: int) -> None:
    data = {"weights": [0.5, 1.5], "name": "drive", "steps": 3, "ids": {1, 2}, "raw": b"\x00\x01"}
    verdict = scan_one(tmp_path, "state.pkl", pickle.dumps(data, protocol=protocol))
    assert verdict.verdict is Verdict.SAFE, verdict.findings
    assert verdict.details["pickles"] == 1
    assert "severity" in verdict.details["fickling"]


def test_pickle_with_opcodes_fickling_cannot_follow_is_unsafe(tmp_path: Path) -> None:
    # protocol 0 writes floats as FLOAT, an opcode fickling 0.1.12 does not model: fail closed
    verdict = scan_one(tmp_path, "old.pkl", pickle.dumps({"lr": 0.5}, protocol=0))
    assert verdict.verdict is Verdict.UNSAFE
    assert "cannot be analysed" in findings(verdict)
    assert scan_one(tmp_path, "ints.pkl", pickle.dumps([1, "a"], protocol=0)).verdict is (
        Verdict.SAFE
    )


def test_numpy_array_pickle_is_safe(tmp_path: Path) -> None:
    data = pickle.dumps({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float64(2)})
    verdict = scan_one(tmp_path, "arrays.pkl", data)
    assert verdict.verdict is Verdict.SAFE, verdict.findings


@pytest.mark.parametrize(
    "content",
    [b"\x80\x04not a pickle at all", b"\x80\x02]q\x00(K\x01", b"(lp0\nI1\n"],
    ids=["garbage", "truncated", "no-stop"],
)
def test_pickle_that_cannot_be_analysed_is_unsafe(tmp_path: Path, content: bytes) -> None:
    verdict = scan_one(tmp_path, "model.pkl", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert "cannot be analysed" in findings(verdict)


def test_imports_before_a_corrupt_byte_still_count(tmp_path: Path) -> None:
    # pickle.load would run os.system before it reached the bad byte
    content = b"cos\nsystem\n(S'touch x'\ntR\xff"
    verdict = scan_one(tmp_path, "model.pkl", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert "imports os.system (not on the allow-list)" in verdict.findings


def test_malicious_pickle_stacked_after_a_benign_one_is_unsafe(tmp_path: Path) -> None:
    content = pickle.dumps([1, 2]) + model_files.malicious_pickle(tmp_path / "pwned")
    verdict = scan_one(tmp_path, "model.pkl", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert verdict.details["pickles"] == 2


def test_endless_stack_of_pickles_is_cut_off_as_unanalysable(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "model.pkl", b"N." * 1001)
    assert verdict.verdict is Verdict.UNSAFE
    assert "more than 1000 stacked pickles" in findings(verdict)


def test_protocol_0_pickle_in_a_bin_file_is_analysed_as_a_pickle(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "pytorch_model.bin", b"cposix\nsystem\n(S'id'\ntR.")
    assert verdict.format == "pickle"
    assert verdict.verdict is Verdict.UNSAFE


@pytest.mark.parametrize(
    "content",
    [
        np.arange(64, dtype=np.float32).tobytes(),
        b"K\x01" + bytes(200_000),  # decodes one opcode, then stops being a pickle
        b"".join(struct.pack("<f", x) for x in np.linspace(-1, 1, 50_000)),
    ],
    ids=["floats", "opcode-then-junk", "large"],
)
def test_bin_file_that_no_unpickler_could_run_is_an_unscanned_unknown(
    tmp_path: Path, content: bytes
) -> None:
    verdict = scan_one(tmp_path, "weights.bin", content)
    assert (verdict.format, verdict.verdict) == ("unknown", Verdict.UNSCANNED)


def test_legacy_torch_save_file_is_analysed_pickle_by_pickle(tmp_path: Path) -> None:
    content = model_files.legacy_torch_file(model_files.torch_state_dict_pickle())
    verdict = scan_one(tmp_path, "model.pt", content)
    assert verdict.verdict is Verdict.SAFE, verdict.findings
    assert verdict.details["legacy_torch_format"] is True
    assert verdict.details["pickles"] == 5
    assert verdict.details["trailing_bytes"] == 16


def test_malicious_legacy_torch_file_is_unsafe(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    content = model_files.legacy_torch_file(model_files.malicious_pickle(marker))
    verdict = scan_one(tmp_path, "model.pt", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert not marker.exists()


# --- PyTorch zip archives -----------------------------------------------------------------------


def test_benign_pytorch_zip_with_only_tensor_rebuild_globals_is_safe(tmp_path: Path) -> None:
    path = model_files.write_torch_zip(tmp_path / "model.pt", model_files.torch_state_dict_pickle())
    verdict = scan_file("model.pt", path, tmp_path)
    assert (verdict.format, verdict.verdict) == ("pytorch-zip", Verdict.SAFE), verdict.findings
    imports = verdict.details["pickles"]["archive/data.pkl"]["imports"]
    assert imports == [
        "collections.OrderedDict",
        "torch.FloatStorage",
        "torch._utils._rebuild_tensor_v2",
    ]


def test_pytorch_zip_whose_data_pkl_calls_os_system_is_unsafe_and_never_runs(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    path = model_files.write_torch_zip(
        tmp_path / "pytorch_model.bin", model_files.malicious_pickle(marker)
    )
    verdict = scan_file("pytorch_model.bin", path, tmp_path)
    assert (verdict.format, verdict.verdict) == ("pytorch-zip", Verdict.UNSAFE)
    assert f"archive/data.pkl imports {os.system.__module__}.system" in findings(verdict)
    assert not marker.exists()


def test_every_pkl_member_of_an_archive_is_scanned(tmp_path: Path) -> None:
    hidden = {"archive/extra/constants.pkl": model_files.pickle_calling(eval, "1")}
    path = model_files.write_torch_zip(
        tmp_path / "model.pt", model_files.torch_state_dict_pickle(), extra=hidden
    )
    verdict = scan_file("model.pt", path, tmp_path)
    assert verdict.verdict is Verdict.UNSAFE
    assert "archive/extra/constants.pkl imports builtins.eval" in findings(verdict)


def test_torchscript_archive_is_unscanned_until_reviewed(tmp_path: Path) -> None:
    code = {"archive/code/__torch__/model.py": b"def forward(self, x):\n  return x\n"}
    path = model_files.write_torch_zip(
        tmp_path / "model.pt", model_files.torch_state_dict_pickle(), extra=code
    )
    verdict = scan_file("model.pt", path, tmp_path)
    assert verdict.verdict is Verdict.UNSCANNED
    assert "TorchScript" in findings(verdict)


def test_zip_without_pickles_is_unscanned(tmp_path: Path) -> None:
    path = tmp_path / "bundle.keras"
    with __import__("zipfile").ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    verdict = scan_file("bundle.keras", path, tmp_path)
    assert (verdict.format, verdict.verdict) == ("zip", Verdict.UNSCANNED)


def test_pickle_member_over_the_size_limit_is_unscanned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_archives, "MAX_PICKLE_BYTES", 64)
    path = model_files.write_torch_zip(tmp_path / "model.pt", model_files.torch_state_dict_pickle())
    verdict = scan_file("model.pt", path, tmp_path)
    assert verdict.verdict is Verdict.UNSCANNED
    assert "over the 64-byte limit" in findings(verdict)


def test_corrupt_zip_archive_is_unsafe(tmp_path: Path) -> None:
    path = model_files.write_torch_zip(tmp_path / "model.pt", model_files.torch_state_dict_pickle())
    raw = bytearray(path.read_bytes())
    at = raw.index(b"_rebuild_tensor_v2")
    raw[at : at + 3] = b"XXX"  # the member's CRC no longer matches
    path.write_bytes(bytes(raw))
    verdict = scan_file("model.pt", path, tmp_path)
    assert verdict.verdict is Verdict.UNSAFE
    assert "not a readable zip archive (BadZipFile: Bad CRC-32" in findings(verdict)


def test_a_parser_crashing_on_malformed_input_yields_unsafe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object, **_kwargs: object) -> onnx.ModelProto:
        raise MemoryError("protobuf gave up")  # a type no scanner expects

    monkeypatch.setattr(onnx, "load", crash)  # a fake at the third-party seam
    verdict = save_onnx(tmp_path, model_files.onnx_model())
    assert (verdict.format, verdict.verdict, verdict.scanner) == ("onnx", Verdict.UNSAFE, "onnx")
    assert verdict.findings == (
        "onnx failed on this file (MemoryError: protobuf gave up); treated as unsafe",
    )


# --- joblib and compressed pickles --------------------------------------------------------------


@pytest.mark.parametrize(
    ("compress", "name"),
    [
        (zlib.compress, "zlib"),
        (gzip.compress, "gzip"),
        (bz2.compress, "bz2"),
        (lzma.compress, "xz"),
    ],
)
def test_joblib_compressed_pickle_is_decompressed_and_analysed(
    tmp_path: Path, compress: object, name: str
) -> None:
    assert callable(compress)
    benign = scan_one(tmp_path, "model.joblib", compress(pickle.dumps({"coef": [0.5, 1.5]})))
    assert (benign.format, benign.verdict) == ("joblib", Verdict.SAFE), benign.findings
    assert benign.details["compression"] == name
    marker = tmp_path / "pwned"
    hostile = scan_one(tmp_path, "evil.joblib", compress(model_files.malicious_pickle(marker)))
    assert hostile.verdict is Verdict.UNSAFE
    assert not marker.exists()


def test_decompression_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_archives, "MAX_PICKLE_BYTES", 1000)
    bomb = zlib.compress(pickle.dumps(bytes(10_000_000)))
    verdict = scan_one(tmp_path, "model.joblib", bomb)
    assert verdict.verdict is Verdict.UNSCANNED
    assert "decompressed pickle is 1001 bytes" in findings(verdict)


def test_gzip_file_that_is_not_a_pickle_is_unscanned(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "frames.csv.gz", gzip.compress(b"t,x\n0,1.5\n" * 100))
    assert (verdict.format, verdict.verdict) == ("compressed", Verdict.UNSCANNED)


def test_gzip_pickle_named_pkl_is_analysed(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "model.pkl", gzip.compress(pickle.dumps({"a": 1})))
    assert (verdict.format, verdict.verdict) == ("compressed-pickle", Verdict.SAFE)


def test_truncated_compressed_pickle_is_unsafe(tmp_path: Path) -> None:
    content = zlib.compress(pickle.dumps(list(range(1000))))[:-20]
    verdict = scan_one(tmp_path, "model.joblib", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert "truncated or corrupt" in findings(verdict)


# --- the allow-list -----------------------------------------------------------------------------


def test_allow_list_is_exact_pairs_not_prefixes() -> None:
    assert is_allowed_global("collections", "OrderedDict")
    assert not is_allowed_global("collections", "OrderedDict.fromkeys")
    assert not is_allowed_global("torch._utils", "_rebuild_tensor_v2.__globals__")
    assert not is_allowed_global("torch", "load")
    for dangerous in ("eval", "exec", "getattr", "open", "__import__", "compile", "type"):
        assert dangerous not in PICKLE_ALLOW_LIST["builtins"]
        assert dangerous not in PICKLE_ALLOW_LIST["__builtin__"]
    assert not {"os", "posix", "subprocess", "sys"} & set(PICKLE_ALLOW_LIST)


# --- safetensors --------------------------------------------------------------------------------


def test_valid_safetensors_is_safe(tmp_path: Path) -> None:
    path = factories.write_safetensors(
        tmp_path / "model.safetensors",
        {"a": np.ones((2, 3), np.float32), "b": np.zeros(4, np.int64)},
        {"format": "pt"},
    )
    verdict = scan_file("model.safetensors", path, tmp_path)
    assert (verdict.verdict, verdict.scanner) == (Verdict.SAFE, "steward-safetensors")
    assert verdict.details["tensors"] == 2
    assert verdict.details["dtypes"] == {"F32": 1, "I64": 1}
    assert verdict.details["metadata"] == {"format": "pt"}


def _entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, object]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


CORRUPTIONS = {
    "truncated header": (b"\x10\x00\x00", "shorter than the 8-byte header length"),
    "header length beyond file": (
        model_files.raw_safetensors({}, b"", length=10**12),
        "header length 1000000000000 exceeds the 100000000-byte limit",
    ),
    "header length past end": (
        model_files.raw_safetensors({"a": _entry("F32", [1], 0, 4)}, b"", length=4096),
        "header length 4096 exceeds the file size",
    ),
    "not utf-8": (struct.pack("<Q", 4) + b"{\xff\xfe}", "header is not valid UTF-8"),
    "not json": (struct.pack("<Q", 5) + b"{nope", "header is not valid JSON"),
    "not an object": (struct.pack("<Q", 2) + b"[]", "header does not start with '{'"),
    "duplicate names": (
        struct.pack("<Q", 15) + b'{"a":{},"a":{}}',
        "header names 'a' twice",
    ),
    "overlapping offsets": (
        model_files.raw_safetensors(
            {"a": _entry("F32", [2], 0, 8), "b": _entry("F32", [2], 4, 12)}, bytes(12)
        ),
        "tensors 'a' and 'b' overlap",
    ),
    "gap": (
        model_files.raw_safetensors(
            {"a": _entry("F32", [1], 0, 4), "b": _entry("F32", [1], 8, 12)}, bytes(12)
        ),
        "4 unclaimed bytes before tensor 'b'",
    ),
    "trailing bytes": (
        model_files.raw_safetensors({"a": _entry("F32", [1], 0, 4)}, bytes(4) + b"evil"),
        "4 trailing bytes after the last tensor",
    ),
    "bad dtype": (
        model_files.raw_safetensors({"a": _entry("PYOBJ", [1], 0, 4)}, bytes(4)),
        "tensor 'a': unknown dtype 'PYOBJ'",
    ),
    "shape/offset mismatch": (
        model_files.raw_safetensors({"a": _entry("F32", [3], 0, 8)}, bytes(8)),
        "tensor 'a': data_offsets span 8 bytes but shape [3] of F32 needs 12",
    ),
    "offsets beyond data": (
        model_files.raw_safetensors({"a": _entry("U8", [8], 0, 8)}, bytes(4)),
        "data_offsets end 8 is beyond the data section (4 bytes)",
    ),
    "negative shape": (
        model_files.raw_safetensors({"a": _entry("U8", [-1], 0, 0)}, b""),
        "is not a list of non-negative ints",
    ),
    "unexpected key": (
        model_files.raw_safetensors({"a": {**_entry("U8", [1], 0, 1), "code": "x"}}, b"\x00"),
        "missing or unexpected keys ['code']",
    ),
    "bad metadata": (
        model_files.raw_safetensors({"__metadata__": {"n": 1}}, b""),
        "__metadata__ must map strings to strings",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_malformed_safetensors_is_unsafe_with_a_precise_finding(tmp_path: Path, case: str) -> None:
    content, expected = CORRUPTIONS[case]
    verdict = scan_one(tmp_path, "model.safetensors", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert any(expected in f for f in verdict.findings), verdict.findings


def test_sub_byte_and_zero_size_tensors_tile_exactly(tmp_path: Path) -> None:
    header = {
        "empty": _entry("F32", [0, 4], 0, 0),
        "fp4": _entry("F4", [2, 2], 0, 2),
        "u8": _entry("U8", [2], 2, 4),
    }
    verdict = scan_one(tmp_path, "q.safetensors", model_files.raw_safetensors(header, bytes(4)))
    assert verdict.verdict is Verdict.SAFE, verdict.findings


def test_safetensors_is_recognised_by_structure_whatever_its_name(tmp_path: Path) -> None:
    # a 640-byte header starts b"\x80\x02", which is also how a pickle starts
    header: dict[str, object] = {"a": _entry("U8", [1], 0, 1), "__metadata__": {"pad": ""}}
    pad = 640 - len(json.dumps(header))
    header["__metadata__"] = {"pad": "x" * pad}
    content = model_files.raw_safetensors(header, b"\x00")
    assert content[:2] == b"\x80\x02"
    verdict = scan_one(tmp_path, "weights.bin", content)
    assert (verdict.format, verdict.verdict) == ("safetensors", Verdict.SAFE), verdict.findings


def test_shard_index_naming_a_missing_or_escaping_shard_is_unsafe(tmp_path: Path) -> None:
    index = {"weight_map": {"a": "model-00001.safetensors", "b": "../outside.safetensors"}}
    verdict = scan_one(tmp_path, "model.safetensors.index.json", json.dumps(index).encode())
    assert verdict.verdict is Verdict.UNSAFE
    text = findings(verdict)
    assert "'model-00001.safetensors', which is not a file in the model folder" in text
    assert "'../outside.safetensors', which climbs out of its folder" in text


@settings(max_examples=150, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=6))
def test_byte_flips_in_a_safetensors_header_always_give_a_verdict(
    flips: list[tuple[int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        path = factories.write_safetensors(
            root / "m.safetensors", {"w": np.ones((2, 2), np.float32), "b": np.ones(2, np.int64)}
        )
        raw = bytearray(path.read_bytes())
        header_end = 8 + struct.unpack("<Q", raw[:8])[0]
        for at, mask in flips:
            raw[at % header_end] ^= mask
        path.write_bytes(bytes(raw))
        verdict = scan_file("m.safetensors", path, root)
    assert verdict.verdict in set(Verdict)
    assert verdict.verdict is Verdict.SAFE or verdict.findings


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.lists(st.integers(0, 5), max_size=3), min_size=1, max_size=5),
    dtype=st.sampled_from([np.float32, np.float16, np.int64]),
)
def test_any_safetensors_written_by_the_reference_layout_is_safe(
    shapes: list[list[int]], dtype: type
) -> None:
    tensors = {f"t{i}": np.zeros(shape, dtype) for i, shape in enumerate(shapes)}
    with tempfile.TemporaryDirectory() as folder:
        path = factories.write_safetensors(Path(folder) / "m.safetensors", tensors)
        verdict = scan_file("m.safetensors", path, Path(folder))
    assert verdict.verdict is Verdict.SAFE, verdict.findings


@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=200))
def test_arbitrary_bytes_named_like_a_pickle_never_escape_the_scanner(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pkl"
        path.write_bytes(content)
        verdict = scan_file("model.pkl", path, Path(folder))
    assert verdict.verdict in set(Verdict)


# --- ONNX ---------------------------------------------------------------------------------------


def test_plain_onnx_model_is_safe(tmp_path: Path) -> None:
    verdict = save_onnx(tmp_path, model_files.onnx_model())
    assert (verdict.verdict, verdict.scanner) == (Verdict.SAFE, "onnx")
    assert verdict.scanner_version == onnx.__version__
    assert verdict.details["custom_domains"] == []
    assert verdict.details["nodes"] == 1


def test_onnx_custom_operator_domain_is_unscanned_and_listed(tmp_path: Path) -> None:
    verdict = save_onnx(tmp_path, model_files.onnx_model(domain="com.acme.fastops", op_type="Fuse"))
    assert verdict.verdict is Verdict.UNSCANNED
    assert verdict.details["custom_domains"] == ["com.acme.fastops"]
    assert verdict.findings == (
        "custom operator domain 'com.acme.fastops' needs native code; review and accept",
    )


def test_onnx_local_function_domain_is_not_custom_code(tmp_path: Path) -> None:
    body = onnx.helper.make_node("Relu", ["a"], ["b"])
    function = onnx.helper.make_function(
        "com.acme.local", "Act", ["a"], ["b"], [body], [onnx.helper.make_opsetid("", 17)]
    )
    model = model_files.onnx_model(domain="com.acme.local", op_type="Act", functions=[function])
    verdict = save_onnx(tmp_path, model)
    assert verdict.verdict is Verdict.SAFE, verdict.findings
    assert verdict.details["local_functions"] == ["com.acme.local.Act"]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("../../etc/passwd", "climbs out of its folder with '..'"),
        ("/etc/passwd", "an absolute or Windows path outside the model folder"),
        ("C:\\Windows\\win.ini", "an absolute or Windows path"),
        ("weights.bin", "which is not a file in the model folder"),
    ],
)
def test_onnx_external_data_outside_the_model_folder_is_unsafe(
    tmp_path: Path, location: str, expected: str
) -> None:
    model = model_files.onnx_model(initializers=[model_files.external_tensor("w", location)])
    verdict = save_onnx(tmp_path, model)
    assert verdict.verdict is Verdict.UNSAFE
    assert any(expected in f and repr(location) in f for f in verdict.findings), verdict.findings


def test_onnx_external_data_in_a_subgraph_is_checked_too(tmp_path: Path) -> None:
    model = model_files.onnx_model(nodes=[model_files.subgraph_reading("../secrets.bin")])
    verdict = save_onnx(tmp_path, model)
    assert verdict.verdict is Verdict.UNSAFE
    assert "'../secrets.bin'" in findings(verdict)


def test_onnx_external_data_escaping_through_a_link_is_unsafe(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.bin").write_bytes(bytes(16))
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "sub").symlink_to(outside)
    model = model_files.onnx_model(initializers=[model_files.external_tensor("w", "sub/data.bin")])
    verdict = save_onnx(model_dir, model)
    assert verdict.verdict is Verdict.UNSAFE
    assert "resolves outside the model folder" in findings(verdict)


def test_onnx_external_data_reading_past_its_file_is_unsafe(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(8))
    model = model_files.onnx_model(initializers=[model_files.external_tensor("w", "weights.bin")])
    verdict = save_onnx(tmp_path, model)
    assert verdict.verdict is Verdict.UNSAFE
    assert "which holds 8 bytes" in findings(verdict)


def test_onnx_with_valid_external_data_in_the_folder_scans_clean(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    model = model_files.onnx_model(initializers=[model_files.external_tensor("w", "weights.bin")])
    onnx.save(model, tmp_path / "model.onnx")
    report = scan_model(tmp_path)
    assert report.blocking() == (), [f.to_dict() for f in report.files]
    data = next(f for f in report.files if f.path == "weights.bin")
    assert data.format == "onnx-external-data"
    assert data.details == {"external_data_of": ["model.onnx"]}
    model_verdict = next(f for f in report.files if f.path == "model.onnx")
    assert model_verdict.details["external_data"] == ["weights.bin"]


def test_single_file_onnx_model_cannot_have_external_data(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(16))
    model = model_files.onnx_model(initializers=[model_files.external_tensor("w", "weights.bin")])
    onnx.save(model, tmp_path / "model.onnx")
    report = scan_model(tmp_path / "model.onnx")
    assert [f.path for f in report.unsafe] == ["."]
    assert "single-file model has nothing beside it" in findings(report.files[0])


@pytest.mark.parametrize("content", [b"", b"hello, not protobuf", bytes(range(256)) * 4])
def test_file_onnx_cannot_parse_is_unsafe(tmp_path: Path, content: bytes) -> None:
    verdict = scan_one(tmp_path, "model.onnx", content)
    assert (verdict.format, verdict.verdict) == ("onnx", Verdict.UNSAFE)
    assert "not a valid ONNX model" in findings(verdict)


# --- GGUF ---------------------------------------------------------------------------------------

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def test_gguf_metadata_and_chat_template_are_surfaced(tmp_path: Path) -> None:
    path = model_files.write_gguf(tmp_path / "tiny.gguf", chat_template=TEMPLATE)
    verdict = scan_file("tiny.gguf", path, tmp_path)
    assert (verdict.format, verdict.verdict, verdict.scanner) == ("gguf", Verdict.SAFE, "gguf")
    assert verdict.details["chat_template"] == TEMPLATE
    assert verdict.details["architecture"] == "llama"
    assert verdict.details["name"] == "tiny-drive"
    assert verdict.details["tensors"] == 1
    assert verdict.details["file_type"] == 0


@pytest.mark.parametrize(
    ("template", "construct"),
    [
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "`__init__`"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "`__class__`"),
        ("{{ x|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "escaped underscore"),
        ("{% set a = import('os') %}", "`import`"),
        ("{{ os.system('id') }}", "the os module"),
    ],
)
def test_gguf_with_a_sandbox_escaping_chat_template_is_unsafe(
    tmp_path: Path, template: str, construct: str
) -> None:
    path = model_files.write_gguf(tmp_path / "evil.gguf", chat_template=template)
    verdict = scan_file("evil.gguf", path, tmp_path)
    assert verdict.verdict is Verdict.UNSAFE
    assert any(f.startswith("tokenizer.chat_template contains") for f in verdict.findings)
    assert construct in findings(verdict)


def test_prose_in_a_chat_template_is_not_code(tmp_path: Path) -> None:
    template = (
        "You may import data from os. logs.{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    path = model_files.write_gguf(tmp_path / "ok.gguf", chat_template=template)
    assert scan_file("ok.gguf", path, tmp_path).verdict is Verdict.SAFE


def test_gguf_claiming_an_endless_array_is_unsafe_without_hanging(tmp_path: Path) -> None:
    path = model_files.gguf_with_endless_array(tmp_path / "junk.gguf")
    verdict = scan_file("junk.gguf", path, tmp_path)
    assert verdict.verdict is Verdict.UNSAFE
    assert "malformed GGUF" in findings(verdict)


@pytest.mark.parametrize("cut", [10, 40, -20])
def test_truncated_gguf_is_unsafe(tmp_path: Path, cut: int) -> None:
    raw = model_files.write_gguf(tmp_path / "full.gguf", chat_template=TEMPLATE).read_bytes()
    verdict = scan_one(tmp_path, "cut.gguf", raw[:cut])
    assert (verdict.format, verdict.verdict) == ("gguf", Verdict.UNSAFE)


# --- JSON, text, Python and the rest ------------------------------------------------------------


def test_hf_snapshot_scans_with_nothing_unsafe_or_unscanned(tmp_path: Path) -> None:
    root = factories.make_hf_snapshot(tmp_path / "snapshot")
    seen: list[str] = []
    report = scan_model(root, on_file=seen.append)
    assert report.unsafe == ()
    assert report.unscanned == ()
    assert seen == [f.path for f in report.files]
    formats = {f.path: f.format for f in report.files}
    assert formats["model-00001-of-00002.safetensors"] == "safetensors"
    assert formats["model.safetensors.index.json"] == "json"
    assert formats["README.md"] == formats["LICENSE"] == "text"
    assert ".gitattributes" not in formats  # exactly the files hashing covers


def test_malformed_json_is_unsafe(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "config.json", b'{"hidden_size": 64,')
    assert verdict.verdict is Verdict.UNSAFE
    assert findings(verdict).startswith("malformed JSON")


def test_tokenizer_config_with_an_escaping_chat_template_is_unsafe(tmp_path: Path) -> None:
    config = {"chat_template": "{{ messages.__class__.__init__.__globals__ }}"}
    verdict = scan_one(tmp_path, "tokenizer_config.json", json.dumps(config).encode())
    assert verdict.verdict is Verdict.UNSAFE
    assert "chat_template 'default' contains `__class__`" in findings(verdict)


def test_config_auto_map_is_surfaced(tmp_path: Path) -> None:
    config = {"auto_map": {"AutoModel": "modeling_drive.DriveModel"}}
    verdict = scan_one(tmp_path, "config.json", json.dumps(config).encode())
    assert verdict.verdict is Verdict.SAFE
    assert verdict.details["auto_map"] == {"AutoModel": "modeling_drive.DriveModel"}


def test_python_source_is_unscanned_until_accepted(tmp_path: Path) -> None:
    verdict = scan_one(tmp_path, "modeling_drive.py", b"import torch\n")
    assert (verdict.format, verdict.verdict) == ("python", Verdict.UNSCANNED)
    assert verdict.findings == (
        "Python source runs with trust_remote_code; review it and accept explicitly",
    )


@pytest.mark.parametrize("name", ["weights.npz.part", "model.tflite", "libops.so", "blob"])
def test_file_without_a_scanner_is_unscanned(tmp_path: Path, name: str) -> None:
    verdict = scan_one(tmp_path, name, b"\x00\x01\x02 opaque")
    assert verdict.verdict is Verdict.UNSCANNED
    assert findings(verdict).startswith("no scanner for this format")


def test_text_must_be_valid_utf8(tmp_path: Path) -> None:
    assert scan_one(tmp_path, "NOTICE", "Ünïcode ok\n".encode()).verdict is Verdict.SAFE
    verdict = scan_one(tmp_path, "README.md", b"# Model\n\xff\xfe")
    assert verdict.verdict is Verdict.UNSAFE
    assert "not valid UTF-8" in findings(verdict)


def test_yaml_with_python_tags_is_unsafe(tmp_path: Path) -> None:
    content = b"model: !!python/object/apply:os.system ['id']\n"
    verdict = scan_one(tmp_path, "hparams.yaml", content)
    assert verdict.verdict is Verdict.UNSAFE
    assert "!!python/object/apply:os.system" in findings(verdict)
    assert scan_one(tmp_path, "ok.yml", b"lr: 0.001\n").verdict is Verdict.SAFE


def test_sentencepiece_model_is_checked_at_the_wire_level(tmp_path: Path) -> None:
    good = scan_one(tmp_path, "tokenizer.model", model_files.sentencepiece_model())
    assert (good.format, good.verdict) == ("sentencepiece", Verdict.SAFE), good.findings
    assert good.details["pieces"] == 3
    other = scan_one(tmp_path, "sub/xgboost.model", b"\x0a\xff\xff\xff\x0fshort")
    assert other.verdict is Verdict.UNSCANNED
    assert "not a SentencePiece model" in findings(other)


def test_format_is_decided_by_magic_bytes_before_the_name(tmp_path: Path) -> None:
    path = model_files.write_torch_zip(
        tmp_path / "weights.txt", model_files.torch_state_dict_pickle()
    )
    assert scan_file("weights.txt", path, tmp_path).format == "pytorch-zip"
    gguf_path = model_files.write_gguf(tmp_path / "model.bin")
    assert scan_file("model.bin", gguf_path, tmp_path).format == "gguf"


# --- the report ---------------------------------------------------------------------------------


@pytest.fixture
def mixed_model(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    root.mkdir()
    factories.write_safetensors(root / "model.safetensors", {"w": np.ones(2, np.float32)})
    (root / "modeling_drive.py").write_text("import torch\n")
    (root / "training_args.bin").write_bytes(model_files.malicious_pickle(tmp_path / "pwned"))
    onnx.save(model_files.onnx_model(), root / "model.onnx")
    return root


def test_unsafe_always_blocks_and_unscanned_blocks_unless_accepted(mixed_model: Path) -> None:
    report = scan_model(mixed_model)
    assert [f.path for f in report.unsafe] == ["training_args.bin"]
    assert [f.path for f in report.unscanned] == ["modeling_drive.py"]
    assert [f.path for f in report.blocking()] == ["modeling_drive.py", "training_args.bin"]
    assert [f.path for f in report.blocking(accepted={"modeling_drive.py"})] == [
        "training_args.bin"
    ]
    everything = {f.path for f in report.files}
    assert [f.path for f in report.blocking(accepted=everything)] == ["training_args.bin"]


def test_report_round_trips_through_json(mixed_model: Path) -> None:
    report = scan_model(mixed_model)
    stored = json.loads(json.dumps(report.to_dict()))
    again = ScanReport.from_dict(stored)
    assert again == report
    assert [f.details for f in again.files] == [f.details for f in report.files]
    assert stored["summary"] == {"files": 4, "safe": 2, "unsafe": 1, "unscanned": 1}
    assert FileVerdict.from_dict(report.files[0].to_dict()) == report.files[0]


@pytest.mark.parametrize(
    "broken",
    [
        {"format": "something-else", "files": []},
        {"format": "steward.scan/v1", "files": "nope"},
        {"format": "steward.scan/v1", "files": [{"path": "a"}]},
        {
            "format": "steward.scan/v1",
            "files": [
                {
                    "path": "a",
                    "format": "x",
                    "verdict": "meh",
                    "scanner": "s",
                    "scanner_version": "1",
                }
            ],
        },
    ],
)
def test_malformed_stored_report_is_rejected(broken: dict[str, object]) -> None:
    with pytest.raises(MalformedEvidence):
        ScanReport.from_dict(broken)


def test_report_records_every_scanner_and_its_version(mixed_model: Path) -> None:
    report = scan_model(mixed_model)
    assert report.scanners == {
        "fickling": fickling.__version__,
        "onnx": onnx.__version__,
        "steward-detect": modelsteward.__version__,
        "steward-safetensors": modelsteward.__version__,
    }
    assert all(f.scanner_version for f in report.files)


def test_single_file_model_is_reported_as_dot(tmp_path: Path) -> None:
    path = factories.write_safetensors(tmp_path / "m.safetensors", {"w": np.ones(2, np.float32)})
    report = scan_model(path)
    assert [(f.path, f.verdict) for f in report.files] == [(".", Verdict.SAFE)]


def test_scan_model_refuses_what_hashing_refuses(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        scan_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="holds no files"):
        scan_model(tmp_path / "empty")
    (tmp_path / "secret").write_text("x")
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "weights.bin").symlink_to(tmp_path / "secret")
    with pytest.raises(InvalidInput, match="escaping the model folder"):
        scan_model(tmp_path / "linked")


def test_public_api_is_exactly_the_documented_names() -> None:
    assert set(scanning.__all__) == {
        "PICKLE_ALLOW_LIST",
        "FileVerdict",
        "ScanReport",
        "Verdict",
        "is_allowed_global",
        "scan_file",
        "scan_model",
    }
    assert [v.value for v in Verdict] == ["safe", "unsafe", "unscanned"]
