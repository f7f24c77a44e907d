"""Validate the fields of one scenario file; every error names the file and the field.

>>> read = FieldReader("cut-in.yaml")
>>> read.criteria({"no_collision": True, "min_ttc_s": 1.5}).to_dict()
{'no_collision': True, 'min_ttc_s': 1.5}
>>> read.criteria({"min_ttc": 1.5})
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: cut-in.yaml: criteria: unknown criterion 'min_ttc'
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from modelsteward.errors import InvalidInput

__all__ = ["CRITERIA", "REPLAY_CRITERIA", "Criteria", "FieldReader", "Replay", "Simulation"]

_HINT = "see docs/scenarios.md for the scenario format"
_ODD_KEY = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_MAX_SEED = 2**32  # numpy and Gymnasium take 32-bit seeds

CRITERIA: dict[str, str] = {
    "no_collision": "flag",
    "min_ttc_s": "at_least",
    "min_headway_s": "at_least",
    "max_decel_mps2": "at_most",
    "max_lane_departures": "at_most",
    "min_route_completion": "at_least",
    "min_accuracy": "at_least",
    "min_slice_accuracy": "at_least",
    "max_unsafe_rate": "at_most",
}
"""Each pass criterion and how the measured value compares with it: ``flag`` (must hold),
``at_least`` (measured ≥ threshold; margin = measured − threshold) or ``at_most``
(measured ≤ threshold; margin = threshold − measured)."""

REPLAY_CRITERIA = frozenset({"min_accuracy", "min_slice_accuracy", "max_unsafe_rate"})
"""The criteria a logged-replay scenario is judged by; the others need a closed loop."""
_FRACTIONS = frozenset({"min_route_completion", *REPLAY_CRITERIA})


@dataclass(frozen=True)
class Criteria:
    """Pass criteria; ``None`` means not checked. All that are set must hold."""

    no_collision: bool | None = None
    min_ttc_s: float | None = None
    min_headway_s: float | None = None
    max_decel_mps2: float | None = None
    max_lane_departures: int | None = None
    min_route_completion: float | None = None
    min_accuracy: float | None = None
    min_slice_accuracy: float | None = None
    max_unsafe_rate: float | None = None

    def to_dict(self) -> dict[str, bool | int | float]:
        """The criteria that are set, by name."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Simulation:
    """A closed-loop environment: a Gymnasium id and the configuration it is given."""

    simulator: str
    env_id: str
    config: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The canonical form."""
        return {"simulator": self.simulator, "env_id": self.env_id, "config": dict(self.config)}


@dataclass(frozen=True)
class Replay:
    """Logged frames to replay: a Parquet file in the library folder, optionally filtered."""

    data: str
    path: Path
    data_digest: str
    filter: dict[str, str | int | float | bool]

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: the relative path and the file's digest, not where it lies."""
        return {"data": self.data, "data_digest": self.data_digest, "filter": dict(self.filter)}


class FieldReader:
    """Reads the fields of one scenario file, naming it in every error."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str, hint: str = _HINT) -> InvalidInput:
        """An ``InvalidInput`` naming the file and the field."""
        return InvalidInput(f"{self.origin}: {where}: {message}", hint=hint)

    def keys(self, data: Mapping[Any, Any], where: str, allowed: tuple[str, ...]) -> None:
        """Refuse a key outside ``allowed``."""
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
                raise self.fail(where, f"unknown key {key!r}", hint=hint)

    def mapping(self, value: object, where: str) -> Mapping[Any, Any]:
        """A mapping, or an error."""
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, not {value!r}")
        return value

    def text(self, value: object, where: str, *, limit: int = 0) -> str:
        """A non-empty string (at most ``limit`` characters on one line when ``limit``)."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"expected a non-empty string, not {value!r}")
        if limit and (len(value.strip()) > limit or "\n" in value.strip()):
            raise self.fail(where, f"must be one line of at most {limit} characters")
        return value.strip()

    def whole(self, value: object, where: str, low: int, high: int) -> int:
        """A whole number in ``low … high``."""
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(where, f"expected a whole number from {low} to {high}, not {value!r}")
        return value

    def number(self, value: object, where: str, high: float = math.inf) -> float:
        """A finite number in ``0 … high``."""
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise self.fail(where, f"expected a number, not {value!r}")
        if not 0 <= value <= high or math.isinf(value):
            bound = f"from 0 to {high:g}" if math.isfinite(high) else "≥ 0"
            raise self.fail(where, f"must be {bound}, not {value!r}")
        return float(value)

    def odd_tags(self, value: object) -> dict[str, str | int | float]:
        """One value per ODD attribute (checked against an ODD elsewhere)."""
        tags = self.mapping(value, "odd")
        if not tags:
            raise self.fail(
                "odd", "tag at least one ODD attribute", "e.g. environment.weather: rain"
            )
        clean: dict[str, str | int | float] = {}
        for key, item in tags.items():
            if not isinstance(key, str) or not _ODD_KEY.match(key):
                raise self.fail("odd", f"{key!r} is not an ODD attribute", "write group.attribute")
            clean[key] = self.scalar(item, f"odd.{key}")
        return clean

    def scalar(self, value: object, where: str) -> str | int | float:
        """A string or finite number (a YAML boolean must be quoted)."""
        if isinstance(value, bool):
            raise self.fail(where, f"{value!r} is read as a boolean", "quote it, e.g. 'yes'")
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and math.isfinite(value):
            return value
        raise self.fail(where, f"expected one string or number, not {value!r}")

    def criteria(self, value: object) -> Criteria:
        """The pass criteria; at least one must check something."""
        raw = self.mapping(value, "criteria")
        for key in raw:
            if key not in CRITERIA:
                close = difflib.get_close_matches(str(key), CRITERIA, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(CRITERIA)
                raise self.fail("criteria", f"unknown criterion {key!r}", hint=hint)
        found: dict[str, Any] = {}
        for key, item in raw.items():
            where = f"criteria.{key}"
            if key == "no_collision":
                if not isinstance(item, bool):
                    raise self.fail(where, f"expected true or false, not {item!r}")
                found[key] = item
            elif key == "max_lane_departures":
                found[key] = self.whole(item, where, 0, 1_000_000)
            else:
                found[key] = self.number(item, where, 1.0 if key in _FRACTIONS else math.inf)
        criteria = Criteria(**found)
        if not any(v is not False for v in criteria.to_dict().values()):
            raise self.fail("criteria", "no criterion is checked", "e.g. no_collision: true")
        return criteria

    def criteria_for(self, criteria: Criteria, replay: bool) -> Criteria:
        """Refuse criteria the scenario's kind cannot measure (replay vs closed loop)."""
        for name in criteria.to_dict():
            if replay and name not in REPLAY_CRITERIA:
                raise self.fail(
                    f"criteria.{name}",
                    "a logged replay has no closed loop to measure this",
                    "replay criteria: " + ", ".join(sorted(REPLAY_CRITERIA)),
                )
            if not replay and name in REPLAY_CRITERIA:
                raise self.fail(
                    f"criteria.{name}",
                    "this criterion scores logged frames against labels; it needs `replay:`",
                    "closed-loop criteria: "
                    + ", ".join(k for k in CRITERIA if k not in REPLAY_CRITERIA),
                )
        return criteria

    def tolerances(self, value: object, criteria: Criteria) -> dict[str, float]:
        """Allowed margin drop per numeric criterion that the scenario sets."""
        if value is None:
            return {}
        raw = self.mapping(value, "tolerances")
        numeric = [k for k, v in criteria.to_dict().items() if CRITERIA[k] != "flag"]
        clean: dict[str, float] = {}
        for key, item in raw.items():
            if key not in numeric:
                hint = "tolerances apply to: " + (", ".join(numeric) or "no criterion here")
                raise self.fail("tolerances", f"{key!r} is not a numeric criterion set", hint)
            high = 1.0 if key in _FRACTIONS else math.inf
            clean[key] = self.number(item, f"tolerances.{key}", high)
        return clean

    def repetitions_and_seed(self, data: Mapping[Any, Any]) -> tuple[int, int]:
        """``repetitions`` (1–1000, default 1) and ``seed`` (default 0); seeds fit 32 bits."""
        repetitions = self.whole(data.get("repetitions", 1), "repetitions", 1, 1000)
        seed = self.whole(data.get("seed", 0), "seed", 0, _MAX_SEED - repetitions)
        return repetitions, seed

    def simulation(self, value: object) -> Simulation:
        """The ``environment`` section."""
        raw = self.mapping(value, "environment")
        self.keys(raw, "environment", ("simulator", "env_id", "config"))
        if "env_id" not in raw:
            raise self.fail("environment", "env_id missing", "e.g. env_id: highway-v0")
        config = self.mapping(raw.get("config", {}) or {}, "environment.config")
        self.json_value(config, "environment.config")
        return Simulation(
            simulator=self.text(raw.get("simulator", "highway-env"), "environment.simulator"),
            env_id=self.text(raw["env_id"], "environment.env_id", limit=200),
            config=dict(config),
        )

    def replay(self, value: object, root: Path) -> Replay:
        """The ``replay`` section; the data file must lie in the library folder."""
        raw = self.mapping(value, "replay")
        self.keys(raw, "replay", ("data", "filter"))
        data = self.text(raw.get("data"), "replay.data")
        path = _inside(root, data)
        if path is None:
            raise self.fail("replay.data", f"{data!r} is not a path inside the library folder")
        if not path.is_file():
            raise self.fail("replay.data", f"{data} is not a file in {root}", "check the path")
        filters = self.mapping(raw.get("filter", {}) or {}, "replay.filter")
        clean: dict[str, str | int | float | bool] = {}
        for column, item in filters.items():
            where = f"replay.filter.{column}"
            if not isinstance(column, str) or not column.strip():
                raise self.fail("replay.filter", f"column name {column!r} is not a string")
            clean[column] = item if isinstance(item, bool) else self.scalar(item, where)
        digest = "sha256:" + _file_sha256(path)
        return Replay(Path(data).as_posix(), path, digest, clean)

    def json_value(self, value: object, where: str) -> None:
        """Refuse what JSON cannot hold (dates, NaN, non-string keys)."""
        if value is None or isinstance(value, str | bool | int):
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(where, "NaN and infinities are not allowed")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.json_value(item, f"{where}[{i}]")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise self.fail(where, f"key {key!r} must be a string")
                self.json_value(item, f"{where}.{key}")
        else:
            raise self.fail(where, f"{value!r} is not a plain value", "quote dates and times")


def _inside(root: Path, relative: str) -> Path | None:
    candidate = Path(relative)
    if candidate.is_absolute():
        return None
    resolved = (root / candidate).resolve()
    return resolved if resolved.is_relative_to(root.resolve()) else None


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
