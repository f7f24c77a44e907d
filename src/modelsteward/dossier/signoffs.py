"""Checking a recorded sign-off's signature against the signer's registered public key.

A ``release.signoff`` ledger entry carries a statement, a base64 ECDSA P-256/SHA-256 signature
over the DSSE pre-authentication encoding of the statement's canonical JSON (payload type
``application/vnd.steward.signoff+json``) and the signing key's id. The key must be one the
person had registered (a ``person.added`` entry with that ``key_id``) *before* signing.

>>> check = check_signoff({"statement": {"person": "sam"}, "signature": "", "key_id": "k"}, [])
>>> check.verified, check.reason
(False, 'sam has no registered key k')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelsteward.errors import InvalidInput
from modelsteward.ledger.entry import Entry
from modelsteward.release.signoff import SignedSignOff

__all__ = ["SignoffCheck", "check_signoff"]


@dataclass(frozen=True)
class SignoffCheck:
    """The outcome of :func:`check_signoff`.

    Attributes:
        verified: True only when the signature verifies with the person's registered key.
        reason: Plain words: why it verified, or why not.
        key_entry: The ``person.added`` entry holding the key that was used, if one was found.
    """

    verified: bool
    reason: str
    key_entry: Entry | None = None


def check_signoff(
    payload: dict[str, Any], people: Sequence[Entry], *, before: int | None = None
) -> SignoffCheck:
    """Verify a ``release.signoff`` payload against the ``person.added`` entries in ``people``.

    Args:
        payload: The sign-off entry's payload (``statement``, ``signature``, ``key_id``).
        people: ``person.added`` entries (any people; matched by name and key id).
        before: The sign-off's seq: only keys registered before it count.
    """
    statement = payload.get("statement")
    statement = statement if isinstance(statement, dict) else {}
    person, key_id = statement.get("person"), payload.get("key_id")
    candidates = [
        e
        for e in people
        if e.kind == "person.added"
        and e.payload.get("name") == person
        and e.payload.get("key_id") == key_id
        and (before is None or e.seq < before)
    ]
    if not candidates:
        return SignoffCheck(False, f"{person} has no registered key {key_id}")
    key_entry = candidates[-1]
    try:
        signed = SignedSignOff.from_dict(payload)
    except (InvalidInput, KeyError, TypeError, ValueError) as exc:
        return SignoffCheck(False, f"the sign-off is malformed: {exc}", key_entry)
    if not signed.verify(str(key_entry.payload.get("public_key", ""))):
        return SignoffCheck(
            False,
            f"the signature does NOT verify with the key registered at ledger seq {key_entry.seq}",
            key_entry,
        )
    return SignoffCheck(
        True, f"verified with the key registered at ledger seq {key_entry.seq}", key_entry
    )
