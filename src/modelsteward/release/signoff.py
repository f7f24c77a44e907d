"""Digest-bound sign-offs: a person's signed approval (or rejection) of one release decision.

The statement names the model digest, the target stage, the evidence snapshot digest and the
policy bundle digest, so a change to any of them leaves the signature valid but *void*: the gate
counts only sign-offs whose digests equal the ones it is judging. The signature is ECDSA P-256 /
SHA-256 over the DSSE pre-authentication encoding of the statement's canonical JSON.

>>> import pathlib, tempfile
>>> from modelsteward.artifacts.signing import generate_key_pair
>>> keys = generate_key_pair(pathlib.Path(tempfile.mkdtemp()) / "sam.pem")
>>> statement = SignOffStatement(
...     model="m@1", model_digest="sha256:" + "1" * 64, stage="shadow", role="safety",
...     person="sam", verdict="approve", comment="ok", accepts={},
...     evidence_digest="sha256:" + "2" * 64, policy_digest="sha256:" + "3" * 64,
...     signed_at="2026-11-22T10:00:00.000000Z")
>>> signed = SignedSignOff.sign(statement, keys.private_key)
>>> signed.verify(keys.public_key.read_text())
True
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from modelsteward.artifacts.signing import key_fingerprint, load_private_key, pae
from modelsteward.errors import InvalidInput

__all__ = ["PAYLOAD_TYPE", "SCHEMA", "SignOffStatement", "SignedSignOff", "Verdict"]

SCHEMA = "steward.signoff/v1"
PAYLOAD_TYPE = "application/vnd.steward.signoff+json"


class Verdict:
    """The two verdicts a sign-off can carry."""

    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class SignOffStatement:
    """What a signer signs.

    Attributes:
        model: ``NAME@VERSION``.
        model_digest: The version's digest.
        stage: The stage the decision promotes to.
        role: The role the person signs in.
        person: The signer's Steward name.
        verdict: ``approve`` or ``reject``.
        comment: Why, in the signer's words.
        accepts: Gaps the signer explicitly accepts: item → digest of that evidence item.
        evidence_digest: The evidence snapshot the signer saw.
        policy_digest: The policy bundle that judges the decision.
        signed_at: When (ledger time format).
    """

    model: str
    model_digest: str
    stage: str
    role: str
    person: str
    verdict: str
    comment: str
    accepts: Mapping[str, str]
    evidence_digest: str
    policy_digest: str
    signed_at: str
    schema: str = field(default=SCHEMA)

    def canonical(self) -> bytes:
        """The signed bytes: canonical JSON (sorted keys, no spaces, UTF-8)."""
        body = asdict(self)
        body["accepts"] = dict(sorted(self.accepts.items()))
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data: dict[str, Any] = json.loads(self.canonical())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignOffStatement:
        """Read :meth:`to_dict` output; ``InvalidInput`` names a missing or foreign field."""
        names = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - names
        missing = names - set(data)
        if unknown or missing:
            raise InvalidInput(
                f"sign-off statement: unknown {sorted(unknown)}, missing {sorted(missing)}",
                hint=f"a {SCHEMA} statement has exactly: {', '.join(sorted(names))}",
            )
        if data["schema"] != SCHEMA:
            raise InvalidInput(f"sign-off statement: schema {data['schema']!r} is not {SCHEMA}")
        values = {k: data[k] for k in names}
        values["accepts"] = {str(k): str(v) for k, v in dict(data["accepts"]).items()}
        return cls(**values)


@dataclass(frozen=True)
class SignedSignOff:
    """A statement with its signature and the signing key's fingerprint."""

    statement: SignOffStatement
    signature: str  # base64
    key_id: str

    @classmethod
    def sign(cls, statement: SignOffStatement, private_key: Path) -> SignedSignOff:
        """Sign with a PEM EC private key (``steward keys new``)."""
        key = load_private_key(private_key)
        raw = key.sign(pae(statement.canonical(), PAYLOAD_TYPE), ec.ECDSA(hashes.SHA256()))
        return cls(statement, base64.b64encode(raw).decode(), key_fingerprint(key.public_key()))

    def verify(self, public_key_pem: str) -> bool:
        """Whether the signature verifies under ``public_key_pem`` (never raises on bad data)."""
        try:
            key = serialization.load_pem_public_key(public_key_pem.encode())
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False
            raw = base64.b64decode(self.signature, validate=True)
            key.verify(
                raw, pae(self.statement.canonical(), PAYLOAD_TYPE), ec.ECDSA(hashes.SHA256())
            )
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        """The ``release.signoff`` ledger payload."""
        return {
            "statement": self.statement.to_dict(),
            "signature": self.signature,
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedSignOff:
        """Read :meth:`to_dict` output."""
        return cls(
            SignOffStatement.from_dict(data["statement"]),
            str(data["signature"]),
            str(data["key_id"]),
        )
