"""Write a trained policy as a model folder ready for ``steward model add``.

``policy.onnx`` · ``steward-adapter.yaml`` (how Steward runs it) · ``README.md`` (model card with
Hugging Face style front matter) · ``config.json`` (architecture) · ``training.json`` (teacher,
data, seed, held-out accuracy). Every file is a pure function of the training result: no
timestamps, no wall times, sorted keys — the same seed writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from modelsteward.evaluation.policies import ADAPTER_FILE
from modelsteward.evaluation.reference._export import INPUT, OPSET, OUTPUT, export_onnx
from modelsteward.evaluation.reference._plan import CELLS, NARROW_CELL, OBSERVATION
from modelsteward.evaluation.reference._training import ROUND0_NOISE, ROUNDS, TrainedPolicy

__all__ = ["ACTION_LABELS", "DATASET_NAME", "write_model_folder"]

ACTION_LABELS = ["LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER"]
DATASET_NAME = "steward-highway-demonstrations"
TEACHER = (
    "rule-based expert on highway-env simulator state: IDM-style speed choice (1.5 s time gap, "
    "6 m standstill gap, stops behind the vehicle ahead at 4 m/s²) and MOBIL-style lane changes "
    "(≥ 3 m/s gain, safe gaps ahead and behind)"
)

_PURPOSE = {
    "competent": (
        "Drives the ego vehicle of highway-env motorway scenarios across the whole reference "
        "ODD: two to four lanes, on-ramps, light to dense traffic, slow and braking lead "
        "vehicles, gentle and aggressive cut-ins."
    ),
    "narrow": (
        "Drives the ego vehicle in **light traffic on four-lane motorways without cut-ins** — "
        f"the only part of the ODD it was trained on (training cell `{NARROW_CELL}`). It exists "
        "to show what a regression looks like: outside that slice (dense traffic, cut-ins, slow "
        "or braking traffic, two-lane roads, merges) expect collisions."
    ),
}


def _adapter() -> dict[str, Any]:
    return {
        "kind": "onnx",
        "model": "policy.onnx",
        "observation": dict(OBSERVATION),
        "action": {"type": "DiscreteMetaAction", "labels": list(ACTION_LABELS)},
        "input": INPUT,
        "output": OUTPUT,
    }


def _config(policy: TrainedPolicy) -> dict[str, Any]:
    sizes = policy.model.layer_sizes
    return {
        "model_type": "steward-mlp-policy",
        "architecture": "deep-sets: shared per-vehicle MLP, max-pool, MLP head, softmax",
        "encoder_layers": sizes["encoder"],
        "head_layers": sizes["head"],
        "observed_vehicles": OBSERVATION["vehicles_count"],
        "features": list(OBSERVATION["features"]),
        "actions": list(ACTION_LABELS),
        "onnx_opset": OPSET,
    }


def _training(policy: TrainedPolicy, seed: int) -> dict[str, Any]:
    cells = sorted({str(d.job.tags["training.cell"]) for d in policy.demonstrations})
    return {
        "teacher": TEACHER,
        "method": "behaviour cloning with DAgger rounds (Ross et al., 2011)",
        "rounds": [
            {"share": share, "teacher_share": teacher, "noise": ROUND0_NOISE if i == 0 else 0.0}
            for i, (share, teacher) in enumerate(ROUNDS)
        ],
        "dataset": DATASET_NAME,
        "training_cells": cells,
        "episodes": policy.episodes,
        "samples": policy.samples,
        "held_out_samples": policy.held_out_samples,
        "label_counts": dict(zip(ACTION_LABELS, policy.label_counts, strict=True)),
        "seed": seed,
        "train_accuracy": round(policy.train_accuracy, 4),
        "held_out_accuracy": round(policy.held_out_accuracy, 4),
        "held_out": "every 7th episode, never trained on; labels are the teacher's actions",
        "teacher_crashes": policy.teacher_crashes,
        "learner_crashes": policy.learner_crashes,
        "simulator": "highway-env 1.12 (highway-fast-v0, merge-v0), 5 Hz decisions",
    }


def _card(policy: TrainedPolicy, seed: int) -> str:
    cells = ", ".join(c.name for c in CELLS) if policy.name == "competent" else NARROW_CELL
    front = {
        "license": "apache-2.0",
        "pipeline_tag": "reinforcement-learning",
        "library_name": "steward",
        "tags": ["highway-env", "autonomous-driving", "behaviour-cloning", "onnx", policy.name],
        "datasets": [DATASET_NAME],
    }
    return (
        f"---\n{yaml.safe_dump(front, sort_keys=False)}---\n\n"
        f"# Steward reference driving policy — {policy.name}\n\n"
        "A small neural network that picks highway-env `DiscreteMetaAction`s "
        "(LANE_LEFT, IDLE, LANE_RIGHT, FASTER, SLOWER) from a `Kinematics` observation of the "
        f"ego and the {OBSERVATION['vehicles_count'] - 1} nearest vehicles. Built locally by "
        "`steward examples driving`; nothing was downloaded.\n\n"
        f"## Intended use\n\n{_PURPOSE[policy.name]}\n\n"
        "It is a demonstration model for Steward's evaluation, baselines and ODD coverage — "
        "simulation only.\n\n"
        "## Limitations\n\n"
        "- Never use it to control a real vehicle: it has only seen highway-env.\n"
        "- It imitates a rule-based teacher and is no better than it; the teacher itself only "
        "sees the vehicles in the observation when judging what lies ahead.\n"
        "- Weather and time of day are not simulated; the model knows nothing about them.\n"
        "- Confidence is the softmax probability of the chosen action, not a calibrated "
        "probability of safety.\n\n"
        "## Training\n\n"
        f"- Teacher: {TEACHER}.\n"
        f"- Data: `{DATASET_NAME}`, training cells: {cells}.\n"
        f"- {policy.episodes} episodes, {policy.samples} training samples, seed {seed}.\n"
        f"- Held-out accuracy on teacher labels: {policy.held_out_accuracy:.3f} "
        f"({policy.held_out_samples} samples from episodes never trained on).\n"
        "- Details: `training.json`; architecture: `config.json`.\n"
    )


def write_model_folder(policy: TrainedPolicy, folder: Path, *, seed: int) -> Path:
    """Write the folder and return the path of its ONNX graph."""
    folder.mkdir(parents=True, exist_ok=True)
    graph = folder / "policy.onnx"
    export_onnx(policy.model, int(OBSERVATION["vehicles_count"]), graph, name=policy.name)
    adapter = yaml.safe_dump(_adapter(), sort_keys=False, default_flow_style=None)
    (folder / ADAPTER_FILE).write_text(adapter, encoding="utf-8")
    (folder / "README.md").write_text(_card(policy, seed), encoding="utf-8")
    for name, content in (
        ("config.json", _config(policy)),
        ("training.json", _training(policy, seed)),
    ):
        text = json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    return graph
