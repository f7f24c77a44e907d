"""Builders for realistic model artifacts, for tests and the demo (nothing is downloaded).

    >>> import pathlib, tempfile
    >>> snap = make_hf_snapshot(pathlib.Path(tempfile.mkdtemp()) / "snap")
    >>> sorted(p.name for p in snap.glob("*.safetensors"))
    ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']

:func:`write_malicious_pickle` writes a *real* malicious pickle (loading it would run a shell
command that touches a marker file); use it only to prove that scanners catch it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from modelsteward._testing_runs import FINETUNE_SCRIPT, write_drive_logs, write_finetune_script

__all__ = [
    "FINETUNE_SCRIPT",
    "NVIDIA_CARD",
    "make_hf_snapshot",
    "write_benign_pickle",
    "write_drive_logs",
    "write_finetune_script",
    "write_malicious_pickle",
    "write_safetensors",
]

NVIDIA_CARD = """---
license: other
license_name: nvidia-open-model-license
license_link: https://www.nvidia.com/en-us/agreements/enterprise-software/nvidia-open-model-license/
base_model:
- nvidia/Cosmos-Reason1-7B
base_model_relation: finetune
datasets:
- acme/highway-scenes-2026
- nvidia/PhysicalAI-Autonomous-Vehicles
language:
- en
pipeline_tag: robotics
library_name: transformers
tags:
- autonomous-driving
- vision-language-action
---

# Drive-VLA Mini

A small vision-language-action model for highway driving research.

## Intended Use

Research on trajectory planning in simulation and closed test tracks.

## Limitations

Not validated for public roads, night-time rain or construction zones.
"""

_DTYPES = {np.dtype("float32"): "F32", np.dtype("float16"): "F16", np.dtype("int64"): "I64"}


def write_safetensors(
    path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None
) -> Path:
    """Write a real safetensors file (8-byte little-endian header length, JSON header, data)."""
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        header[name] = {
            "dtype": _DTYPES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the reference writer pads the header to 8 bytes
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))
    return path


def make_hf_snapshot(
    root: Path,
    *,
    card: str | None = NVIDIA_CARD,
    shards: int = 2,
    hidden: int = 64,
    seed: int = 7,
) -> Path:
    """An HF-style snapshot folder: sharded safetensors + index, config, tokenizer, card, licence.

    ``hidden`` scales the weights (each shard holds two ``hidden × hidden`` float32 matrices).
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    weight_map: dict[str, str] = {}
    total = 0
    for index in range(1, shards + 1):
        shard = f"model-{index:05d}-of-{shards:05d}.safetensors"
        tensors = {
            f"model.layers.{index}.mlp.up_proj.weight": rng.standard_normal(
                (hidden, hidden), dtype=np.float32
            ),
            f"model.layers.{index}.mlp.down_proj.weight": rng.standard_normal(
                (hidden, hidden), dtype=np.float32
            ),
        }
        write_safetensors(root / shard, tensors, {"format": "pt"})
        for name, array in tensors.items():
            weight_map[name] = shard
            total += array.nbytes
    _json(
        root / "model.safetensors.index.json",
        {"metadata": {"total_size": total}, "weight_map": weight_map},
    )
    _json(
        root / "config.json",
        {
            "architectures": ["DriveVLAForConditionalGeneration"],
            "model_type": "drive_vla",
            "hidden_size": hidden,
            "num_hidden_layers": shards,
            "torch_dtype": "float32",
            "transformers_version": "4.46.2",
        },
    )
    _json(root / "generation_config.json", {"do_sample": False, "max_new_tokens": 64})
    _json(root / "tokenizer.json", {"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}}})
    _json(
        root / "tokenizer_config.json",
        {
            "model_max_length": 4096,
            "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
        },
    )
    _json(root / "special_tokens_map.json", {"eos_token": "</s>"})
    (root / "LICENSE").write_text("NVIDIA Open Model License Agreement\n\n(test fixture text)\n")
    (root / ".gitattributes").write_text("*.safetensors filter=lfs diff=lfs merge=lfs -text\n")
    if card is not None:
        (root / "README.md").write_text(card)
    return root


def _json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


class _RunsShell:
    """Pickling this records a call to os.system; unpickling would run it."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return (os.system, (self.command,))


def write_malicious_pickle(path: Path, marker: Path) -> Path:
    """A real malicious pickle: loading it would ``touch marker``. Dumping runs nothing."""
    import pickle

    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0], "hook": _RunsShell(f"touch {marker}")}))
    return path


def write_benign_pickle(path: Path) -> Path:
    """A pickle of plain data only."""
    import pickle

    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0], "name": "tiny", "steps": 3}))
    return path
