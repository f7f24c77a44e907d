"""Checkpoints as C2SP signed notes, and the Ed25519 keys that sign them.

A checkpoint (c2sp.org/tlog-checkpoint) is ``origin\\nsize\\nbase64(root)\\n``; it is signed as a
C2SP signed note: the text, a blank line, then ``— <key name> base64(key id ‖ signature)``.
The key id is ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``; a verifier key is written
``name+hex(key id)+base64(0x01 ‖ public key)`` (the ``vkey`` format of Go's sumdb note package).

    >>> signer = NoteSigner.generate("example.com/log")
    >>> note = signer.sign(Checkpoint("example.com/log", 3, bytes(32)))
    >>> verifier = NoteVerifier.from_vkey(signer.verifier().to_vkey())
    >>> verifier.verify(note).size
    3

Depends on the standard library and ``cryptography`` only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from modelsteward.errors import BadSignature, MalformedEvidence

__all__ = ["Checkpoint", "NoteSigner", "NoteVerifier", "key_id"]

_ED25519 = b"\x01"
_DASH = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})$")
MAX_NOTE_BYTES = 64 * 1024


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte C2SP key id of an Ed25519 key."""
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEvidence(f"{what} is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement of the log's size and root hash."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The note text that is signed."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (already separated from its signatures)."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise MalformedEvidence("checkpoint needs origin, size and root lines")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not origin.isprintable():
            raise MalformedEvidence("checkpoint origin line is empty or not printable")
        if not _SIZE.match(size):
            raise MalformedEvidence(f"checkpoint size {size!r} is not a decimal tree size")
        root_bytes = _b64decode(root, "checkpoint root hash")
        if len(root_bytes) != 32:
            raise MalformedEvidence("checkpoint root hash is not 32 bytes")
        if any(not line for line in extensions):
            raise MalformedEvidence("checkpoint has an empty extension line")
        return cls(origin, int(size), root_bytes, tuple(extensions))


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise MalformedEvidence("signed note is larger than 64 KiB")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise MalformedEvidence("signed note contains control characters")
    text, sep, sigblock = note.rpartition("\n\n")
    if not sep or not sigblock.endswith("\n"):
        raise MalformedEvidence("signed note has no signature block")
    signatures: list[tuple[str, bytes]] = []
    for line in sigblock[:-1].split("\n"):
        if not line.startswith(_DASH):
            raise MalformedEvidence(f"malformed signature line {line[:40]!r}")
        name, _, sig = line[len(_DASH) :].partition(" ")
        if not _NAME.match(name) or not sig:
            raise MalformedEvidence(f"malformed signature line {line[:40]!r}")
        raw = _b64decode(sig, "note signature")
        if len(raw) < 5:
            raise MalformedEvidence("note signature is too short")
        signatures.append((name, raw))
    if len(signatures) > 16:
        raise MalformedEvidence("signed note carries more than 16 signatures")
    return text + "\n", signatures


class NoteSigner:
    """An Ed25519 key that signs notes under a key name (Steward uses the log origin)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not _NAME.match(name):
            raise ValueError(f"key name {name!r} must be non-empty without spaces or '+'")
        self.name = name
        self._key = private_key

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh key pair."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> NoteSigner:
        """Load a PKCS#8 PEM private key."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise MalformedEvidence("the ledger signing key is not an Ed25519 key")
        return cls(name, key)

    def private_pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted (the workspace stores it with mode 0600)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self._key.public_key())

    def sign(self, checkpoint: Checkpoint) -> str:
        """The checkpoint as a signed note."""
        text = checkpoint.body()
        raw = self._key.sign(text.encode("utf-8"))
        kid = key_id(self.name, self.verifier().public_bytes())
        return f"{text}\n{_DASH}{self.name} {base64.b64encode(kid + raw).decode()}\n"


class NoteVerifier:
    """A trusted Ed25519 public key with its name; verifies signed checkpoints."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        self.name = name
        self._key = public_key

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        """The 4-byte C2SP key id."""
        return key_id(self.name, self.public_bytes())

    def to_vkey(self) -> str:
        """``name+keyid+base64(0x01‖key)``."""
        raw = base64.b64encode(_ED25519 + self.public_bytes()).decode()
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    def public_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key string."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _NAME.match(parts[0]):
            raise MalformedEvidence("verifier key must look like name+keyid+base64key")
        name, kid_hex, raw_b64 = parts
        raw = _b64decode(raw_b64, "verifier key")
        if len(raw) != 33 or raw[:1] != _ED25519:
            raise MalformedEvidence("verifier key is not an Ed25519 (type 0x01) key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        if verifier.key_id.hex() != kid_hex.lower():
            raise MalformedEvidence("verifier key id does not match its name and key")
        return verifier

    @classmethod
    def from_file_text(cls, text: str, *, name: str | None = None) -> NoteVerifier:
        """Load a vkey, or a PEM public key (whose name is then ``name`` or the note's)."""
        if "-----BEGIN" not in text:
            return cls.from_vkey(text)
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise MalformedEvidence("public key PEM cannot be parsed") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise MalformedEvidence("public key is not an Ed25519 key")
        return cls(name or "", key)

    def verify(self, note: str) -> Checkpoint:
        """Verify a signed checkpoint note and return the checkpoint it signs.

        Raises:
            MalformedEvidence: the note or checkpoint cannot be parsed.
            BadSignature: no signature by this key, or this key's signature is invalid.
        """
        text, signatures = _split_note(note)
        checkpoint = Checkpoint.parse_body(text)
        found = False
        for name, raw in signatures:
            candidate = self.name or name  # a PEM key without a name trusts the note's name
            if name != candidate or raw[:4] != key_id(candidate, self.public_bytes()):
                continue  # C2SP: signatures by unknown keys are ignored
            found = True
            try:
                self._key.verify(raw[4:], text.encode("utf-8"))
            except InvalidSignature as exc:
                raise BadSignature(
                    f"checkpoint signature by {name} does not verify",
                    hint="the checkpoint text was altered or signed with another key",
                ) from exc
        if not found:
            names = ", ".join(n for n, _ in signatures)
            raise BadSignature(
                f"checkpoint is not signed by the trusted key ({self.name or 'PEM key'}); "
                f"signed by: {names}",
                hint="check you were given the right public key",
            )
        return checkpoint
