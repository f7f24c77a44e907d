"""Every error Steward raises, each with a user-facing message, a hint, an exit code and a status.

The library never prints or exits; the CLI catches :class:`StewardError` once at its root and the
API maps it to one JSON error shape. Exit codes are part of the public contract (``steward --help``
lists them)::

    StewardError                      1   500
    ├── InvalidInput                  3   400   malformed file, argument or request
    ├── NotFound                      4   404
    │   └── WorkspaceMissing          4   404   no workspace at STEWARD_HOME
    ├── Conflict                      5   409
    ├── PolicyDenied                  6   403
    ├── VerificationFailed            7   422   a digest or signature did not verify
    │   ├── BlobCorrupted             7   422   a stored blob no longer matches its digest
    │   └── LedgerTampered            8   422   the ledger failed verification (generic)
    │       ├── BadSignature         10   422   checkpoint signature invalid, or unknown key
    │       ├── RootMismatch         11   422   entries do not hash to the signed root
    │       ├── SequenceBroken       12   422   missing, duplicate or out-of-order seq
    │       ├── InconsistentCheckpoints 13 422  fork or rollback between checkpoints
    │       └── MalformedEvidence    14   422   unparseable entry, proof, checkpoint or key
    └── CommandFailed                15   500   a command Steward ran for a run exited non-zero

Example:
    >>> from modelsteward.errors import NotFound
    >>> err = NotFound("no model named 'x'", hint="run `steward model list`")
    >>> (err.exit_code, err.http_status)
    (4, 404)

This module depends on the standard library only: the offline verifier uses it.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "BadSignature",
    "BlobCorrupted",
    "CommandFailed",
    "Conflict",
    "InconsistentCheckpoints",
    "InvalidInput",
    "LedgerTampered",
    "MalformedEvidence",
    "NotFound",
    "PolicyDenied",
    "RootMismatch",
    "SequenceBroken",
    "StewardError",
    "VerificationFailed",
    "WorkspaceMissing",
]


class StewardError(Exception):
    """Root of every error Steward raises on purpose.

    Attributes:
        message: What went wrong, in the user's words.
        hint: What to do about it (may be empty).
    """

    exit_code: int = 1
    http_status: int = 500
    title: str = "error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, object]:
        """The one error shape shared by ``--json`` output and the API."""
        return {
            "error": self.title,
            "message": self.message,
            "hint": self.hint,
            "exit_code": self.exit_code,
        }


class InvalidInput(StewardError):
    """A file, argument or request is malformed; nothing was changed."""

    exit_code = 3
    http_status = 400
    title = "invalid-input"


class NotFound(StewardError):
    """The thing asked for does not exist."""

    exit_code = 4
    http_status = 404
    title = "not-found"


class WorkspaceMissing(NotFound):
    """``STEWARD_HOME`` holds no initialised workspace."""

    title = "workspace-missing"


class Conflict(StewardError):
    """The request conflicts with the current state (for example a concurrent change)."""

    exit_code = 5
    http_status = 409
    title = "conflict"


class PolicyDenied(StewardError):
    """A policy gate denied the action."""

    exit_code = 6
    http_status = 403
    title = "policy-denied"


class VerificationFailed(StewardError):
    """A digest, signature or proof did not verify."""

    exit_code = 7
    http_status = 422
    title = "verification-failed"


class BlobCorrupted(VerificationFailed):
    """A stored blob no longer hashes to the digest it is filed under."""

    title = "blob-corrupted"


class LedgerTampered(VerificationFailed):
    """The ledger failed verification. Subclasses name the failure class."""

    exit_code = 8
    title = "ledger-tampered"


class BadSignature(LedgerTampered):
    """A checkpoint signature is invalid, or made by a key the verifier does not trust."""

    exit_code = 10
    title = "bad-signature"


class RootMismatch(LedgerTampered):
    """The entries (or a proof) do not hash to the root the checkpoint signs."""

    exit_code = 11
    title = "root-mismatch"


class SequenceBroken(LedgerTampered):
    """Sequence numbers are missing, duplicated or out of order."""

    exit_code = 12
    title = "sequence-broken"


class InconsistentCheckpoints(LedgerTampered):
    """Two checkpoints cannot both be views of one append-only log (fork or rollback)."""

    exit_code = 13
    title = "inconsistent-checkpoints"


class MalformedEvidence(LedgerTampered):
    """An entry, proof, checkpoint or key cannot be parsed or is not in canonical form."""

    exit_code = 14
    title = "malformed-evidence"


class CommandFailed(StewardError):
    """A training or reproduction command Steward ran exited non-zero."""

    exit_code = 15
    http_status = 500
    title = "command-failed"


def _exit_codes() -> dict[int, str]:
    codes: dict[int, str] = {
        0: "success",
        1: "unexpected error (rerun with --verbose for the traceback)",
        2: "usage error: bad command-line arguments",
    }
    stack: list[type[StewardError]] = [StewardError]
    while stack:
        cls = stack.pop()
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        codes.setdefault(cls.exit_code, f"{cls.title}: {doc}")
        stack.extend(cls.__subclasses__())
    return dict(sorted(codes.items()))


EXIT_CODES: dict[int, str] = _exit_codes()
"""Exit code → meaning, as printed by ``steward --help``."""
