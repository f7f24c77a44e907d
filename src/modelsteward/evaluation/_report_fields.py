"""Shared checks for the plain fields evaluation results carry: hazard classes and ODD labels.

>>> odd_label(28.0), odd_label(3), odd_label(True), odd_label("dense")
('28', '3', 'true', 'dense')
>>> severity_level("S3") * exposure_level("E2")
6
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from modelsteward.errors import InvalidInput

__all__ = [
    "ASILS",
    "check_id",
    "check_level",
    "exposure_level",
    "odd_label",
    "odd_tags",
    "severity_level",
]

ASILS = ("QM", "A", "B", "C", "D")
_LEVEL = {"S": re.compile(r"^S[0-3]$"), "E": re.compile(r"^E[0-4]$"), "C": re.compile(r"^C[0-3]$")}
_NAMES = {"S": "severity", "E": "exposure", "C": "controllability"}

OddValue = str | int | float | bool


def check_level(kind: str, value: str, where: str) -> str:
    """Return ``value`` when it is a valid ISO 26262 class of ``kind`` (S, E or C)."""
    if not isinstance(value, str) or not _LEVEL[kind].match(value):
        top = {"S": 3, "E": 4, "C": 3}[kind]
        raise InvalidInput(
            f"{where}: {_NAMES[kind]} {value!r} is not one of {kind}0…{kind}{top}",
        )
    return value


def severity_level(severity: str) -> int:
    """The number in ``S0``…``S3``."""
    return int(check_level("S", severity, "hazard")[1])


def exposure_level(exposure: str) -> int:
    """The number in ``E0``…``E4``."""
    return int(check_level("E", exposure, "hazard")[1])


def check_id(value: str, where: str) -> str:
    """Return ``value`` when it is a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where}: an id must be a non-empty string, got {value!r}")
    return value


def odd_label(value: OddValue) -> str:
    """The label an ODD value is reported under (integral floats lose their ``.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"ODD value {value!r} is not finite")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str) and value:
        return value
    raise InvalidInput(f"ODD value {value!r} must be a non-empty string or a number")


def odd_tags(tags: Mapping[str, OddValue], where: str) -> tuple[tuple[str, str], ...]:
    """ODD tags as sorted ``(attribute, label)`` pairs."""
    pairs = []
    for attribute, value in tags.items():
        if not isinstance(attribute, str) or not attribute:
            raise InvalidInput(f"{where}: ODD attribute {attribute!r} must be a non-empty string")
        pairs.append((attribute, odd_label(value)))
    return tuple(sorted(pairs))
