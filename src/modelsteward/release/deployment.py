"""Deployments: a named place a release runs (a ring or fleet), with its runbook, rollback target
and kill-switch flag file.

>>> spec = DeploymentSpec.create("pilot-fleet", ring="eu-pilot", canary_share=0.05,
...     rollback_target="none", kill_flag="/run/steward/pilot-fleet.kill")
>>> spec.canary_share
0.05
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from modelsteward.errors import InvalidInput

__all__ = ["DeploymentSpec", "check_deployment_name"]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_deployment_name(name: str) -> str:
    """A deployment name: lower-case letters, digits and ``. _ -``, up to 64 characters."""
    cleaned = (name or "").strip()
    if not _NAME.fullmatch(cleaned):
        raise InvalidInput(
            f"invalid deployment name {name!r}",
            hint="use lower-case letters, digits and . _ - (e.g. eu-pilot-fleet), at most 64",
        )
    return cleaned


@dataclass(frozen=True)
class DeploymentSpec:
    """What an operator declares about a deployment.

    Attributes:
        name: The deployment's name.
        ring: Which ring or fleet it is (free text, e.g. ``eu-pilot``).
        canary_share: The share of traffic or vehicles a canary release gets (0 < share ≤ 1).
        rollback_target: The release to return to when there is no earlier production release
            here: a model digest, or ``none`` (stop the model: the kill flag is raised).
        kill_flag: The flag file the runtime gate's ``KillSwitch`` watches on the vehicles.
        runbook: Blob digest of the runbook, if one was given.
    """

    name: str
    ring: str
    canary_share: float
    rollback_target: str
    kill_flag: str
    runbook: str | None = None

    @classmethod
    def create(
        cls,
        name: str,
        *,
        ring: str,
        canary_share: float,
        rollback_target: str,
        kill_flag: str,
        runbook: str | None = None,
    ) -> DeploymentSpec:
        """Validate each field, naming the option at fault."""
        if not ring.strip() or len(ring) > 128:
            raise InvalidInput("--ring is empty or too long", hint="e.g. --ring eu-pilot")
        if not (math.isfinite(canary_share) and 0 < canary_share <= 1):
            raise InvalidInput(
                f"--canary-share {canary_share} is not in (0, 1]", hint="e.g. --canary-share 0.05"
            )
        if not kill_flag.strip():
            raise InvalidInput("--kill-flag is empty", hint="the flag file path the gate watches")
        return cls(
            check_deployment_name(name),
            ring.strip(),
            float(canary_share),
            rollback_target,
            kill_flag,
            runbook,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the ``deployment.added`` payload)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeploymentSpec:
        """Read :meth:`to_dict` output."""
        return cls(
            str(data["name"]),
            str(data["ring"]),
            float(data["canary_share"]),
            str(data["rollback_target"]),
            str(data["kill_flag"]),
            data.get("runbook"),
        )
