"""Factories for release-workflow tests: people with real keys, small registered models, a
permissive policy pack for testing promotion mechanics, and decision logs from a real gate."""

from __future__ import annotations

import json
from pathlib import Path

from modelsteward.artifacts.signing import generate_key_pair
from modelsteward.bootstrap import Steward, open_workspace
from modelsteward.config import Settings
from modelsteward.services.intake import IntakeRequest

PEOPLE = {
    "sid": "security",
    "sam": "safety",
    "lena": "legal",
    "omar": "operations",
    "priya": "product",
}

PERMISSIVE_GATE = """package steward.gate
import rego.v1

decision := {
    "allow": true, "unmet": [], "required": [], "rubric": {},
    "signoffs": {"counted": [], "void": []},
}
"""
PERMISSIVE_SIGNOFF = """package steward.signoff
import rego.v1

refusals := []
"""


def as_actor(settings: Settings, actor: str) -> Steward:
    """The same workspace, opened by someone else (close it after use)."""
    return open_workspace(settings.model_copy(update={"actor": actor}))


def add_people(steward: Steward, settings: Settings, keys: Path) -> dict[str, Path]:
    """Register the five people (sid bootstraps as security); return their private keys."""
    keys.mkdir(parents=True, exist_ok=True)
    private = {}
    for name, role in PEOPLE.items():
        pair = generate_key_pair(keys / f"{name}.pem")
        private[name] = pair.private_key
        app = as_actor(settings, "sid")
        try:
            app.people.add(name, role, pair.public_key)
        finally:
            app.close()
    return private


def add_model(steward: Steward, root: Path, name: str, tier: str = "exploratory") -> str:
    """Register a small Apache-2.0 model; returns its ref."""
    folder = root / name.replace("/", "_")
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(f"---\nlicense: apache-2.0\n---\n# {name}\n")
    (folder / "config.json").write_text(json.dumps({"model_type": "tiny", "name": name}))
    result = steward.models.add(IntakeRequest(path=folder, name=name, tier=tier))
    return result.version.ref


def permissive_pack(folder: Path) -> Path:
    """A user policy folder that allows every move (to test promotion mechanics alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text("name: permissive\nversion: 0.1.0\ndescription: test\n")
    (folder / "gate.rego").write_text(PERMISSIVE_GATE)
    (folder / "signoff.rego").write_text(PERMISSIVE_SIGNOFF)
    (folder / "data.json").write_text("{}")
    return folder
