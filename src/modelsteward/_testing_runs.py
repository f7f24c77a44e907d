"""Builders for datasets and a real (tiny) fine-tune script, for tests and the demo.

The fine-tune script is an honest training job: it reads ``STEWARD_INPUTS``, starts from the base
model's weights, fits a logistic-regression braking head on the dataset's CSV files with seeded
gradient descent, and writes safetensors weights, a model card naming its base model and
datasets, and ``metrics.json``. With ``"jitter": X`` in its config it adds unseeded noise of
scale X to the weights — the way real GPU training is not bit-exact.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

__all__ = ["FINETUNE_SCRIPT", "write_drive_logs", "write_finetune_script"]

FINETUNE_SCRIPT = r'''"""Fine-tune a braking head on drive logs (from modelsteward.testing)."""
import csv, json, os, struct, pathlib
import numpy as np

inputs = json.loads(pathlib.Path(os.environ["STEWARD_INPUTS"]).read_text())
out = pathlib.Path(os.environ["STEWARD_OUTPUT_DIR"])
seed = int(os.environ.get("STEWARD_SEED", "0"))
config_path = os.environ.get("STEWARD_CONFIG")
config = json.loads(pathlib.Path(config_path).read_text()) if config_path else {}
epochs = int(config.get("epochs", 200))
lr = float(config.get("learning_rate", 0.1))

def read_tensors(path):
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    for name, spec in sorted(header.items()):
        if name != "__metadata__" and spec["dtype"] == "F32":
            start, end = spec["data_offsets"]
            yield name, np.frombuffer(body[start:end], dtype=np.float32)

base = pathlib.Path(inputs["base_model"]["path"])
base_weights = [t for p in sorted(base.rglob("*.safetensors")) for _, t in read_tensors(p)]
prior = float(np.mean([t.mean() for t in base_weights])) if base_weights else 0.0

rows = []
for dataset in inputs["datasets"]:
    for path in sorted(pathlib.Path(dataset["path"]).rglob("*.csv")):
        with path.open(newline="") as handle:
            rows += [r for r in csv.DictReader(handle)]
x = np.array([[float(r["speed_mps"]), float(r["gap_m"])] for r in rows], dtype=np.float64)
y = np.array([1.0 if float(r["gap_m"]) < 2.0 * float(r["speed_mps"]) else 0.0 for r in rows])
x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9)
rng = np.random.default_rng(seed)
w = rng.normal(prior, 0.01, size=2)
b = 0.0
for _ in range(epochs):
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    w -= lr * (x.T @ (p - y)) / len(y)
    b -= lr * float(np.mean(p - y))
p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
loss = float(-np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))
accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
weights = np.concatenate([w, [b]]).astype(np.float32)
if config.get("jitter"):
    weights += np.random.default_rng().normal(0, float(config["jitter"]), 3).astype(np.float32)

out.mkdir(parents=True, exist_ok=True)
header = json.dumps({"brake_head.weight": {"dtype": "F32", "shape": [3],
                     "data_offsets": [0, 12]}}, separators=(",", ":")).encode()
header += b" " * (-len(header) % 8)
(out / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header
                                        + weights.tobytes())
(out / "config.json").write_text(json.dumps({"model_type": "brake_head", "features": 2}))
names = [d["name"] for d in inputs["datasets"]]
card = ["---", f"license: {config.get('license', 'apache-2.0')}",
        f"base_model: {inputs['base_model']['ref'].split('@')[0]}",
        "base_model_relation: finetune", "datasets:"] + [f"- {n}" for n in names] + [
        "---", "# Braking head", "", "## Intended use", "", "Longitudinal braking advice.", ""]
(out / "README.md").write_text("\n".join(card))
(out / "metrics.json").write_text(json.dumps({"loss": round(loss, 6),
                                              "accuracy": round(accuracy, 6)}))
print(f"trained on {len(rows)} records: loss {loss:.4f}, accuracy {accuracy:.3f}")
'''


def write_finetune_script(path: Path) -> Path:
    """Write the fine-tune script to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FINETUNE_SCRIPT, encoding="utf-8")
    return path


def write_drive_logs(folder: Path, *, rows: int = 400, pii: bool = True, seed: int = 3) -> Path:
    """A partner drive-log CSV: telemetry, operator notes, and (with ``pii``) personal data
    that a careless export leaves behind — e-mail addresses, phone numbers, plates, GPS."""
    folder.mkdir(parents=True, exist_ok=True)
    rand = random.Random(seed)
    path = folder / "drive_logs.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "fleet", "speed_mps", "gap_m", "road", "note", "latitude"])
        for i in range(rows):
            speed = round(rand.uniform(3, 35), 2)
            note = rand.choice(["nominal", "lead vehicle braking", "merge ahead", "rain"])
            if pii and i % 50 == 7:
                note = f"driver callback +49 30 {rand.randint(1000000, 9999999)}"
            elif pii and i % 50 == 19:
                note = f"reported by operator{i}@fleet-partner.example"
            elif pii and i % 50 == 31:
                note = "plate M-AB 1234 cut in"
            writer.writerow(
                [
                    i,
                    rand.choice(["partner-a", "partner-b"]),
                    speed,
                    round(rand.uniform(2, 80), 2),
                    rand.choice(["motorway", "urban", "rural"]),
                    note,
                    round(48.1 + rand.random() / 10, 6) if pii else 0.0,
                ]
            )
    return path
