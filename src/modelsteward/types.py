"""Shared value types: content digests and UTC timestamps.

    >>> d = Digest.of(b"hello")
    >>> str(d)[:15]
    'sha256:2cf24dba'
    >>> Digest.parse(str(d)) == d
    True

Standard library only (the offline verifier and the runtime gate import it).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from modelsteward.errors import InvalidInput

__all__ = ["Digest", "format_time", "parse_choice", "parse_time", "utc_now"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_LOOKS_LIKE = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")


@dataclass(frozen=True, slots=True)
class Digest:
    """A SHA-256 content digest, written ``sha256:<64 lowercase hex>``."""

    hex: str
    algorithm: str = "sha256"

    def __post_init__(self) -> None:
        if self.algorithm != "sha256":
            raise InvalidInput(
                f"unsupported digest algorithm {self.algorithm!r}", hint="use sha256"
            )
        if not _HEX64.match(self.hex):
            raise InvalidInput(
                f"not a SHA-256 digest: {self.hex!r}", hint="expected 64 lowercase hex digits"
            )

    @classmethod
    def of(cls, data: bytes) -> Digest:
        """Digest of ``data``."""
        return cls(hashlib.sha256(data).hexdigest())

    @staticmethod
    def looks_like(text: str) -> bool:
        """True for ``sha256:<hex>`` or 64 bare hex digits (a reference that is a digest)."""
        return bool(_LOOKS_LIKE.match(text.strip()))

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``sha256:<hex>`` (or bare hex)."""
        algorithm, sep, value = text.strip().partition(":")
        if not sep:
            algorithm, value = "sha256", text.strip()
        return cls(value.lower(), algorithm.lower())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and a ``Z`` suffix (the ledger's time format)."""
    if moment.tzinfo is None:
        raise InvalidInput("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse a timestamp written by :func:`format_time`."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as exc:
        raise InvalidInput(
            f"bad timestamp {text!r}", hint="expected YYYY-MM-DDTHH:MM:SS.ffffffZ"
        ) from exc
    return moment.replace(tzinfo=UTC)


_Choice = TypeVar("_Choice", bound=StrEnum)


def parse_choice(choices: type[_Choice], text: str, *, what: str, option: str) -> _Choice:
    """A value of a string enum, case-insensitive; ``InvalidInput`` lists the valid ones.

    >>> from enum import StrEnum
    >>> class Colour(StrEnum):
    ...     RED = "red"
    >>> parse_choice(Colour, " Red ", what="colour", option="--colour")
    <Colour.RED: 'red'>
    """
    try:
        return choices(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown {what} {text!r}",
            hint=f"{option} is one of: " + ", ".join(c.value for c in choices),
        ) from None
