"""Ledger entries and their canonical JSON encoding.

An entry is the exact byte string hashed as a Merkle leaf. Version 1 is a JSON object with the
keys ``v``, ``seq``, ``time``, ``kind``, ``actor``, ``subject`` and ``payload``, encoded
canonically: keys sorted, no insignificant whitespace, UTF-8 without ``\\u`` escapes for non-ASCII,
no NaN or infinities, integers within ±2^53. See ``docs/ledger.md``.

    >>> draft = EntryDraft(kind="note", actor="ada", subject="", payload={"text": "hi"})
    >>> e = draft.seal(seq=0, time="2026-01-01T00:00:00.000000Z")
    >>> e.to_bytes()
    b'{"actor":"ada","kind":"note","payload":{"text":"hi"},"seq":0,"subject":"","time":"2026-01-01T00:00:00.000000Z","v":1}'
    >>> Entry.from_bytes(e.to_bytes()) == e
    True

Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from modelsteward.errors import InvalidInput, MalformedEvidence

__all__ = ["ENTRY_VERSION", "Entry", "EntryDraft", "canonical_json"]

ENTRY_VERSION = 1
_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_KEYS = frozenset({"v", "seq", "time", "kind", "actor", "subject", "payload"})
_MAX_SAFE_INT = 2**53 - 1
MAX_ENTRY_BYTES = 1 << 20

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Steward's canonical JSON bytes for ``value``.

    Raises:
        InvalidInput: the value holds something JSON cannot represent canonically.
    """
    _check_value(value, "payload")
    try:
        return _encoder.encode(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"value is not canonical-JSON encodable: {exc}") from exc


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise InvalidInput(f"{where}: integer {value} is outside ±2^53", hint="use a string")
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput(f"{where}: NaN and infinities are not allowed in ledger entries")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{where}: object keys must be strings, got {key!r}")
            _check_value(item, f"{where}.{key}")
        return
    raise InvalidInput(f"{where}: {type(value).__name__} is not a JSON value")


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a producer asks the ledger to record; the ledger adds ``seq`` and ``time``.

    Validated on construction, so bad input fails before anything is written.
    """

    kind: str
    actor: str
    subject: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    payload_json: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not _KIND.match(self.kind):
            raise InvalidInput(
                f"ledger kind {self.kind!r} is invalid",
                hint="use lowercase letters, digits, '.', '_' or '-', starting with a letter",
            )
        if not self.actor or len(self.actor) > 256 or not self.actor.isprintable():
            raise InvalidInput("actor must be 1-256 printable characters", hint="set STEWARD_ACTOR")
        if len(self.subject) > 1024 or not self.subject.isprintable():
            raise InvalidInput("subject must be at most 1024 printable characters")
        if not isinstance(self.payload, dict):
            raise InvalidInput("payload must be a JSON object")
        encoded = canonical_json(self.payload)
        if len(encoded) > MAX_ENTRY_BYTES:
            raise InvalidInput(f"payload is {len(encoded)} bytes; the limit is {MAX_ENTRY_BYTES}")
        object.__setattr__(self, "payload_json", encoded.decode("utf-8"))

    def seal(self, *, seq: int, time: str) -> Entry:
        """The entry this draft becomes at ``seq`` and ``time``."""
        return Entry(
            seq, time, self.kind, self.actor, self.subject, self.payload, self.payload_json
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded ledger entry (version 1)."""

    seq: int
    time: str
    kind: str
    actor: str
    subject: str
    payload: dict[str, Any]
    payload_json: str = field(default="", repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The entry as the JSON object that is hashed."""
        return {
            "v": ENTRY_VERSION,
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "payload": self.payload,
        }

    def to_bytes(self) -> bytes:
        """The exact leaf bytes: canonical JSON, UTF-8.

        Spliced from the already-encoded payload (keys in sorted order); a test pins this to
        encoding :meth:`to_dict` whole.
        """
        s = encode_basestring
        payload = self.payload_json or _encoder.encode(self.payload)
        return (
            f'{{"actor":{s(self.actor)},"kind":{s(self.kind)},"payload":{payload},'
            f'"seq":{self.seq},"subject":{s(self.subject)},"time":{s(self.time)},'
            f'"v":{ENTRY_VERSION}}}'
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """Parse and validate leaf bytes, insisting on the canonical encoding.

        Raises:
            MalformedEvidence: not JSON, wrong shape, or not in canonical form.
        """
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedEvidence(f"entry is not valid UTF-8 JSON: {exc}") from exc
        if not isinstance(obj, dict) or obj.keys() != _KEYS:
            raise MalformedEvidence("entry is not a version-1 ledger entry object")
        seq, time, kind, actor, subject, payload = (
            obj["seq"],
            obj["time"],
            obj["kind"],
            obj["actor"],
            obj["subject"],
            obj["payload"],
        )
        if (
            type(obj["v"]) is not int
            or obj["v"] != ENTRY_VERSION
            or type(seq) is not int
            or seq < 0
            or not isinstance(time, str)
            or not _TIME.match(time)
            or not isinstance(kind, str)
            or not _KIND.match(kind)
            or not isinstance(actor, str)
            or not isinstance(subject, str)
            or not isinstance(payload, dict)
        ):
            raise MalformedEvidence(f"entry fields have the wrong types or format (seq {seq!r})")
        try:
            canonical = _encoder.encode(obj).encode("utf-8")
        except ValueError as exc:
            raise MalformedEvidence(f"entry seq {seq} holds a non-JSON number: {exc}") from exc
        if canonical != data:
            raise MalformedEvidence(
                f"entry seq {seq} is not in canonical form (re-encoded after signing?)"
            )
        return cls(seq, time, kind, actor, subject, payload)
