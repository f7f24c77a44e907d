"""Checking PII-scan settings: regions, plate regexes (RE2 and Python), mapping keys.

>>> check_plate_regex("vehicle_plates.nl", r"[A-Z]{2}-\\d{3}-[A-Z]")
>>> check_plate_regex("vehicle_plates.bad", r"(?<=x)AB")
Traceback (most recent call last):
...
modelsteward.errors.InvalidInput: vehicle_plates.bad: ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from modelsteward.data._pii_detect import PiiType
from modelsteward.errors import InvalidInput

if TYPE_CHECKING:
    from modelsteward.data.pii import PiiPatterns

__all__ = ["check_plate_regex", "check_region", "patterns_from_mapping"]

_KEYS = (
    "phone_region",
    "types",
    "national_ids",
    "extra_national_ids",
    "vehicle_plates",
    "extra_vehicle_plates",
)
_P = TypeVar("_P", bound="PiiPatterns")


def check_region(region: str, key: str) -> None:
    """A region ``phonenumbers`` knows, e.g. ``US`` or ``DE``."""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(
            f"{key}: unknown phone region {region!r}",
            hint="use a two-letter ISO 3166 region code such as US, GB or DE",
        )


def check_plate_regex(key: str, regex: str) -> None:
    """The regex compiles in Python and in RE2 (Arrow's engine), and matches no empty string."""
    try:
        compiled = re.compile(regex, re.ASCII)
    except re.error as exc:
        raise InvalidInput(f"{key}: not a valid regular expression: {exc}") from exc
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), regex)
    except pa.ArrowInvalid as exc:
        raise InvalidInput(
            f"{key}: not a valid RE2 regular expression: {exc}",
            hint="RE2 has no look-arounds or back-references; boundaries are added for you",
        ) from exc
    if compiled.fullmatch(""):
        raise InvalidInput(f"{key}: the pattern matches an empty string")


def _names(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data[key]
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidInput(f"{key}: expected a list of names, got {value!r}")
    return tuple(str(v) for v in value)


def _plates(data: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
    value = data[key]
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{key}: expected a mapping of plate kind to regex, got {value!r}")
    for kind, regex in value.items():
        if not isinstance(regex, str):
            raise InvalidInput(f"{key}.{kind}: expected a regex string, got {regex!r}")
        check_plate_regex(f"{key}.{kind}", regex)
    return tuple((str(kind), regex) for kind, regex in value.items())


def patterns_from_mapping(cls: type[_P], data: Mapping[str, Any]) -> _P:
    """Build ``PiiPatterns`` from its YAML/JSON form (see ``PiiPatterns.from_mapping``)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"PII patterns: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise InvalidInput(
            f"PII patterns: unknown key(s) {', '.join(map(str, unknown))}",
            hint=f"known keys: {', '.join(_KEYS)}",
        )
    base = cls()
    region = str(data.get("phone_region", base.phone_region))
    check_region(region, "phone_region")
    ids = _names(data, "national_ids") if "national_ids" in data else base.national_ids
    if "extra_national_ids" in data:
        ids += tuple(k for k in _names(data, "extra_national_ids") if k not in ids)
    plates = _plates(data, "vehicle_plates") if "vehicle_plates" in data else base.vehicle_plates
    if "extra_vehicle_plates" in data:
        plates += _plates(data, "extra_vehicle_plates")
    types = base.types
    if "types" in data:
        try:
            types = frozenset(PiiType(t) for t in _names(data, "types"))
        except ValueError as exc:
            raise InvalidInput(
                f"types: {exc}", hint=f"known types: {', '.join(t.value for t in PiiType)}"
            ) from exc
    return cls(phone_region=region, national_ids=ids, vehicle_plates=plates, types=types)
