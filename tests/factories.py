"""Test factories: the builders ship in :mod:`modelsteward.testing` (the demo uses them too)."""

from modelsteward.testing import (
    NVIDIA_CARD,
    make_hf_snapshot,
    write_benign_pickle,
    write_drive_logs,
    write_finetune_script,
    write_malicious_pickle,
    write_safetensors,
)

__all__ = [
    "NVIDIA_CARD",
    "make_hf_snapshot",
    "write_benign_pickle",
    "write_malicious_pickle",
    "write_drive_logs",
    "write_finetune_script",
    "write_safetensors",
]
