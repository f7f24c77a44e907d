"""The scenario library: a folder of YAML files, one test scenario each, ranked by hazard.

Each scenario names the ODD situation it tests (tags), rates its hazard (S/E/C → ASIL), says how
it is realised — a closed-loop Gymnasium environment or a logged replay — and which pass criteria
must hold over how many seeded repetitions. The format is in ``docs/scenarios.md``.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "cut-in.yaml").write_text('''
... id: cut-in-aggressive
... title: Aggressive cut-in
... description: A vehicle cuts in 15 m ahead.
... odd: {environment.weather: clear, dynamic_elements.cut_in: aggressive}
... hazard: {severity: S3, exposure: E3, controllability: C2}
... environment: {simulator: highway-env, env_id: highway-v0, config: {lanes_count: 3}}
... criteria: {no_collision: true, min_ttc_s: 1.5}
... tolerances: {min_ttc_s: 0.3}
... repetitions: 3
... seed: 1000
... ''')
>>> library = ScenarioLibrary.from_dir(folder)
>>> s = library.get("cut-in-aggressive")
>>> s.hazard.asil, s.seeds, s.kind
('B', (1000, 1001, 1002), 'closed-loop')
>>> library.digest.startswith("sha256:")
True
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modelsteward.errors import InvalidInput
from modelsteward.evaluation._scenario_fields import (
    CRITERIA,
    REPLAY_CRITERIA,
    Criteria,
    FieldReader,
    Replay,
    Simulation,
)
from modelsteward.evaluation.hazard import Asil, Hazard
from modelsteward.ledger.entry import canonical_json
from modelsteward.types import Digest
from modelsteward.yamlfile import read_yaml

if TYPE_CHECKING:
    from modelsteward.odd.spec import OddSpec

__all__ = [
    "CRITERIA",
    "REPLAY_CRITERIA",
    "Criteria",
    "Replay",
    "Scenario",
    "ScenarioLibrary",
    "Simulation",
]

_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
_KEYS = (
    "id",
    "title",
    "description",
    "odd",
    "hazard",
    "environment",
    "replay",
    "criteria",
    "tolerances",
    "repetitions",
    "seed",
)
_REQUIRED = ("id", "title", "description", "odd", "hazard", "criteria")
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Scenario:
    """One validated scenario. Exactly one of ``environment`` and ``replay`` is set."""

    id: str
    title: str
    description: str
    odd: dict[str, str | int | float]
    hazard: Hazard
    criteria: Criteria
    environment: Simulation | None = None
    replay: Replay | None = None
    tolerances: dict[str, float] = field(default_factory=dict)
    repetitions: int = 1
    seed: int = 0
    source: Path | None = field(default=None, compare=False)

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seed of each repetition: ``seed``, ``seed + 1``, …"""
        return tuple(range(self.seed, self.seed + self.repetitions))

    @property
    def asil(self) -> Asil:
        """The hazard's ASIL."""
        return self.hazard.asil

    def odd_labels(self, odd: OddSpec | None) -> dict[str, Any]:
        """The ODD tags as reports and coverage use them: range values as their bin label."""
        if odd is None:
            return dict(self.odd)
        cell = odd.cell_of(self.odd, [k for k in odd.keys if k in self.odd])
        return dict(cell.to_dict()) if cell is not None else dict(self.odd)

    @property
    def kind(self) -> Literal["closed-loop", "replay"]:
        """``closed-loop`` (a simulated environment) or ``replay`` (logged frames)."""
        return "closed-loop" if self.environment is not None else "replay"

    def to_dict(self) -> dict[str, Any]:
        """The canonical content (what the library digest covers; not the file's location)."""
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "odd": dict(self.odd),
            "hazard": self.hazard.to_dict(),
            "criteria": self.criteria.to_dict(),
            "tolerances": dict(self.tolerances),
            "repetitions": self.repetitions,
            "seed": self.seed,
        }
        if self.environment is not None:
            data["environment"] = self.environment.to_dict()
        if self.replay is not None:
            data["replay"] = self.replay.to_dict()
        return data


@dataclass(frozen=True)
class ScenarioLibrary:
    """The scenarios of one folder, in file-name order."""

    root: Path
    scenarios: tuple[Scenario, ...]

    @classmethod
    def from_dir(cls, path: str | Path, odd: OddSpec | None = None) -> ScenarioLibrary:
        """Load every ``*.yaml`` / ``*.yml`` file of a folder (not its subfolders).

        Args:
            path: The library folder.
            odd: When given, every scenario's ODD tags must be valid in it.

        Raises:
            InvalidInput: the folder is missing or holds no scenario, or a file is malformed;
                the message names the file and the field.
        """
        root = Path(path).expanduser()
        if not root.is_dir():
            raise InvalidInput(f"scenario library {root} is not a folder", hint="check the path")
        files = sorted(
            p for p in root.iterdir() if p.suffix in _SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise InvalidInput(
                f"scenario library {root} holds no *.yaml scenario files",
                hint="see docs/scenarios.md for the scenario format",
            )
        scenarios: list[Scenario] = []
        seen: dict[str, Path] = {}
        for file in files:
            scenario = _load(file, root, odd)
            if scenario.id in seen:
                raise InvalidInput(
                    f"{file}: id: {scenario.id!r} is already used by {seen[scenario.id]}",
                    hint="scenario ids must be unique in a library",
                )
            seen[scenario.id] = file
            scenarios.append(scenario)
        return cls(root, tuple(scenarios))

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.scenarios)

    def __len__(self) -> int:
        return len(self.scenarios)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every scenario id, in file-name order."""
        return tuple(s.id for s in self.scenarios)

    def get(self, scenario_id: str) -> Scenario | None:
        """The scenario with this id, or ``None``."""
        return next((s for s in self.scenarios if s.id == scenario_id), None)

    def ranked(self) -> list[Scenario]:
        """Riskiest first: by ASIL, then severity × exposure, then id."""
        return sorted(
            self.scenarios, key=lambda s: (-s.hazard.priority, -s.hazard.risk_score, s.id)
        )

    def outside_odd(self, odd: OddSpec) -> dict[str, list[str]]:
        """Scenario id → why its tags are not inside ``odd``, for the scenarios outside it.

        Testing outside the ODD is legitimate (does the system notice fog?); coverage counts
        only the scenarios inside.
        """
        reasons = {s.id: odd.outside_reasons(s.odd) for s in self.scenarios}
        return {k: v for k, v in reasons.items() if v}

    def to_dict(self) -> dict[str, Any]:
        """The canonical content: every scenario, sorted by id (file names do not count)."""
        return {"scenarios": [s.to_dict() for s in sorted(self.scenarios, key=lambda s: s.id)]}

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of :meth:`to_dict`."""
        return str(Digest.of(canonical_json(self.to_dict())))


def _load(file: Path, root: Path, odd: OddSpec | None) -> Scenario:
    read = FieldReader(str(file))
    data = _head(read, read_yaml(file, "scenario file"))
    tags = read.odd_tags(data["odd"])
    if odd is not None:
        problems = odd.check_tags(tags)
        if problems:
            raise read.fail("odd", problems[0], hint=f"the ODD is {odd.origin}; see docs/odd.md")
    criteria = read.criteria_for(read.criteria(data["criteria"]), "replay" in data)
    repetitions, seed = read.repetitions_and_seed(data)
    return Scenario(
        id=data["id"],
        title=read.text(data["title"], "title", limit=200),
        description=read.text(data["description"], "description"),
        odd=tags,
        hazard=Hazard.from_mapping(data["hazard"], where=f"{file}: hazard"),
        criteria=criteria,
        environment=read.simulation(data["environment"]) if "environment" in data else None,
        replay=read.replay(data["replay"], root) if "replay" in data else None,
        tolerances=read.tolerances(data.get("tolerances"), criteria),
        repetitions=repetitions,
        seed=seed,
        source=file,
    )


def _head(read: FieldReader, raw: object) -> Mapping[str, Any]:
    """The file's mapping with its keys and id checked."""
    if raw is None:
        raise InvalidInput(f"{read.origin}: the file is empty", hint="see docs/scenarios.md")
    data = read.mapping(raw, "the file")
    read.keys(data, "the file", _KEYS)
    for key in _REQUIRED:
        if key not in data:
            raise read.fail(key, "missing", hint="see docs/scenarios.md for the scenario format")
    if ("environment" in data) == ("replay" in data):
        raise read.fail(
            "environment/replay",
            "give exactly one of environment (closed loop) and replay (logged frames)",
        )
    scenario_id = read.text(data["id"], "id")
    if not _ID.match(scenario_id):
        raise read.fail(
            "id",
            f"{scenario_id!r} is not a scenario id",
            hint="use 1–80 lower-case letters, digits and -, e.g. cut-in-aggressive-dense",
        )
    return {**data, "id": scenario_id}
