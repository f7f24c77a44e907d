"""A synthetic lineage for benchmarks and tests: models on base models, datasets, mixed licences.

A third of the nodes are models forming a tree of base models under the root (plus a few merge
edges); the rest are datasets used by runs and cards. The dataset of the deepest model is
``CC-BY-NC-4.0``, so a commercial review of the root is always ``incompatible``.

>>> nodes = synthetic_lineage(30, seed=1)
>>> len(nodes), SYNTHETIC_ROOT in nodes
(30, True)
"""

from __future__ import annotations

import random

from modelsteward.licensing._graph import LineageNode

__all__ = ["SYNTHETIC_ROOT", "synthetic_lineage"]

SYNTHETIC_ROOT = "model:synthetic-0"
"""The root node id of every synthetic lineage."""

_MODEL_LICENSES = (
    "Apache-2.0",
    "MIT",
    "llama3.1",
    "nvidia-open-model-license",
    "gemma",
    "openrail++",
    "Apache-2.0 OR MIT",
    "BSD-3-Clause",
)
_DATASET_LICENSES = (
    "CC-BY-4.0",
    "CC0-1.0",
    "ODC-By-1.0",
    "CDLA-Permissive-2.0",
    "MIT",
    "PDDL-1.0",
    "CC-BY-4.0 OR CC0-1.0",
    "Apache-2.0",
)


def synthetic_lineage(n: int, seed: int) -> dict[str, LineageNode]:
    """``n`` nodes reachable from :data:`SYNTHETIC_ROOT`, deterministic for a given ``seed``."""
    if n < 3:
        raise ValueError("a synthetic lineage needs at least 3 nodes")
    rng = random.Random(seed)
    models = max(2, n // 3)
    model_ids = [f"model:synthetic-{i}" for i in range(models)]
    data_ids = [f"dataset:synthetic-{i}" for i in range(n - models)]
    inputs: dict[str, list[tuple[str, str]]] = {m: [] for m in model_ids}
    for i in range(1, models):  # model i is the base of an earlier model: a tree under the root
        inputs[model_ids[rng.randrange(i)]].append((model_ids[i], "base-model"))
    for i in range(1, models, 25):  # a few merges: extra edges towards deeper models
        if i + 1 < models:
            inputs[model_ids[i]].append((model_ids[rng.randrange(i + 1, models)], "merge"))
    for j, data_id in enumerate(data_ids):
        owner = models - 1 if j == 0 else rng.randrange(models)
        inputs[model_ids[owner]].append((data_id, rng.choice(("run-dataset", "card-dataset"))))
    nodes: dict[str, LineageNode] = {}
    for i, model_id in enumerate(model_ids):
        licence = "Apache-2.0" if i == 0 else rng.choice(_MODEL_LICENSES)
        label = f"synthetic-model-{i}@1"
        nodes[model_id] = LineageNode(
            model_id, "model", label, licence, inputs=tuple(inputs[model_id])
        )
    for j, data_id in enumerate(data_ids):
        licence = "CC-BY-NC-4.0" if j == 0 else rng.choice(_DATASET_LICENSES)
        nodes[data_id] = LineageNode(data_id, "dataset", f"synthetic-data-{j}", licence)
    return nodes
