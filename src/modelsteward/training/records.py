"""Training and fine-tune runs: what went in, what ran, what came out, and whether it reproduces.

>>> parse_tolerances(["val_loss=0.01", "accuracy=0.005"])
{'accuracy': 0.005, 'val_loss': 0.01}
>>> compare_metrics({"loss": 0.50}, {"loss": 0.504}, {"loss": 0.01})
[]
>>> compare_metrics({"loss": 0.50}, {"loss": 0.52}, {"loss": 0.01})
['loss: 0.5 → 0.52 (|Δ| 0.02 > tolerance 0.01)']
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.types import Digest

__all__ = [
    "Outcome",
    "Reproduction",
    "RunInput",
    "RunKind",
    "TrainingRun",
    "compare_metrics",
    "is_run_id",
    "new_run_id",
    "parse_tolerances",
]

_RUN_ID = re.compile(r"^run-[0-9a-f]{12}$")
_METRIC = re.compile(r"^[A-Za-z_][\w.\-/]{0,63}$")


class RunKind(StrEnum):
    """How Steward learned about the run."""

    EXEC = "exec"  # Steward ran the command
    RECORD = "record"  # executed elsewhere, recorded afterwards


class Outcome(StrEnum):
    """What a reproduction found."""

    BIT_EXACT = "bit-exact"
    WITHIN_TOLERANCE = "within-tolerance"  # files differ, every declared metric within tolerance
    MISMATCH = "mismatch"
    FAILED = "failed"  # the command failed


def new_run_id() -> str:
    """``run-`` and 12 random hex digits."""
    import secrets

    return f"run-{secrets.token_hex(6)}"


def is_run_id(text: str) -> bool:
    """True for a run id (as opposed to a model reference)."""
    return bool(_RUN_ID.match(text))


def parse_tolerances(items: list[str]) -> dict[str, float]:
    """``NAME=ABS`` pairs → {name: absolute tolerance}."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            tolerance = float(value)
        except ValueError:
            tolerance = math.nan
        if not sep or not _METRIC.match(name.strip()) or not math.isfinite(tolerance):
            raise InvalidInput(
                f"--tolerance {item!r} is not NAME=NUMBER",
                hint="e.g. --tolerance val_loss=0.01 (an absolute difference)",
            )
        if tolerance < 0:
            raise InvalidInput(f"--tolerance {item!r}: a tolerance cannot be negative")
        out[name.strip()] = tolerance
    return dict(sorted(out.items()))


def compare_metrics(
    recorded: dict[str, float], reproduced: dict[str, float], tolerances: dict[str, float]
) -> list[str]:
    """Each declared metric outside its tolerance (or missing), in words; empty = within."""
    problems = []
    for name, tolerance in sorted(tolerances.items()):
        if name not in recorded or name not in reproduced:
            where = "the recorded run" if name not in recorded else "the reproduction"
            problems.append(f"{name}: missing from {where}")
            continue
        before, after = float(recorded[name]), float(reproduced[name])
        delta = abs(after - before)
        if not math.isfinite(delta) or delta > tolerance:
            problems.append(
                f"{name}: {before:g} → {after:g} (|Δ| {delta:.3g} > tolerance {tolerance:g})"
            )
    return problems


@dataclass(frozen=True)
class RunInput:
    """One resolved input of a run."""

    role: str  # "base-model" | "dataset" | "config" | "code"
    name: str  # model ref, dataset name, config file name, repository
    digest: str  # "sha256:…" (or "git:<commit>" for code)
    license: str | None = None


@dataclass(frozen=True)
class TrainingRun:
    """A recorded run and the model version it produced."""

    id: str
    kind: RunKind
    name: str  # the output model name
    output: str  # output model ref, e.g. "drive-ft@1"
    output_digest: Digest
    inputs: tuple[RunInput, ...]
    command: tuple[str, ...]
    workdir: str | None
    seed: int | None
    code_rev: str | None
    environment: dict[str, Any]
    metrics: dict[str, float]
    metrics_file: str | None
    tolerances: dict[str, float]
    started_at: str | None
    finished_at: str | None
    exit_code: int | None
    provenance_blob: str  # the in-toto statement
    config_blob: str | None
    recorded_at: str
    recorded_by: str
    gaps: tuple[str, ...] = field(default=())
    output_dir: str | None = None  # where the output was written (kept out of the code digest)

    @property
    def base(self) -> RunInput | None:
        """The base model input."""
        return next((i for i in self.inputs if i.role == "base-model"), None)

    @property
    def datasets(self) -> tuple[RunInput, ...]:
        """The dataset inputs."""
        return tuple(i for i in self.inputs if i.role == "dataset")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (stored, and the ledger payload)."""
        data = asdict(self)
        data.update(
            kind=self.kind.value,
            output_digest=str(self.output_digest),
            inputs=[asdict(i) for i in self.inputs],
            command=list(self.command),
            gaps=list(self.gaps),
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingRun:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values.update(
            kind=RunKind(data["kind"]),
            output_digest=Digest.parse(data["output_digest"]),
            inputs=tuple(RunInput(**i) for i in data["inputs"]),
            command=tuple(data["command"]),
            gaps=tuple(data.get("gaps", ())),
        )
        return cls(**values)


@dataclass(frozen=True)
class Reproduction:
    """One attempt to reproduce a run."""

    run_id: str
    outcome: Outcome
    output_digest: str | None
    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    metric_problems: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    exit_code: int | None = None
    started_at: str = ""
    finished_at: str = ""
    reproduced_by: str = ""

    @property
    def passed(self) -> bool:
        """Bit-exact, or within every declared tolerance."""
        return self.outcome in (Outcome.BIT_EXACT, Outcome.WITHIN_TOLERANCE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data = asdict(self)
        data["outcome"] = self.outcome.value
        for key in ("changed", "missing", "extra", "metric_problems"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reproduction:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["outcome"] = Outcome(data["outcome"])
        for key in ("changed", "missing", "extra", "metric_problems"):
            values[key] = tuple(data.get(key, ()))
        return cls(**values)
