"""The plain facts a dossier is built from, collected by the application layer.

The dossier package never touches storage: the service reads the registry, the ledger and the
blob store, and hands over these frozen records plus a :class:`BlobSource` (the one seam through
which the builder reads evidence blobs by digest).

>>> blobs = MemoryBlobs({"sha256:" + "0" * 64: b"{}"})
>>> blobs.exists("sha256:" + "0" * 64), blobs.read("sha256:" + "1" * 64)
(True, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from modelsteward.ledger.entry import Entry

__all__ = [
    "BlobSource",
    "CheckpointFacts",
    "DatasetFacts",
    "DossierFacts",
    "EnvelopeFacts",
    "MemoryBlobs",
]


class BlobSource(Protocol):
    """Read-only access to the content-addressed blob store."""

    def exists(self, digest: str) -> bool:
        """True when the blob named ``digest`` (``sha256:…``) is stored."""
        ...  # pragma: no cover - protocol

    def read(self, digest: str) -> bytes | None:
        """The blob's bytes (verified against the digest), or ``None`` when it is not stored."""
        ...  # pragma: no cover - protocol


class MemoryBlobs:
    """A :class:`BlobSource` over a mapping (for examples and tests of the builder)."""

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self._blobs = dict(blobs)

    def exists(self, digest: str) -> bool:
        """True when ``digest`` is in the mapping."""
        return digest in self._blobs

    def read(self, digest: str) -> bytes | None:
        """The bytes, or ``None``."""
        return self._blobs.get(digest)


@dataclass(frozen=True)
class CheckpointFacts:
    """The signed checkpoint every inclusion proof in the dossier leads to.

    Attributes:
        origin: The log's origin line (``steward.local/ledger/<workspace id>``).
        size: Entries the checkpoint covers.
        root: The signed Merkle root.
        note: The C2SP signed note, verbatim.
        public_key: The ledger's verifier key (``sumdb/note`` vkey form).
    """

    origin: str
    size: int
    root: bytes
    note: str
    public_key: str


@dataclass(frozen=True)
class DatasetFacts:
    """One training dataset, as declared and as registered (if it is).

    Attributes:
        name: The name as declared (card ``datasets`` entry, or the run input's name).
        declared_by: ``card`` and/or ``run``.
        snapshot: ``DatasetSnapshot.to_dict()``, or ``None`` when none by that name is registered.
        expired: Whether the retention period has ended (as of the day the facts were collected).
    """

    name: str
    declared_by: tuple[str, ...]
    snapshot: dict[str, Any] | None = None
    expired: bool | None = None


@dataclass(frozen=True)
class EnvelopeFacts:
    """One signed runtime envelope of the model.

    Attributes:
        record: The ``envelope.signed`` payload as ``EnvelopeRecord.to_dict()`` (with ``seq``).
        document: The envelope document read from the signed file, or ``None``.
        problem: Why the document could not be read (blob missing or unreadable).
    """

    record: dict[str, Any]
    document: dict[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class DossierFacts:
    """Everything the dossier states, as plain data.

    Attributes:
        model: ``ModelVersion.to_dict()`` of the version the dossier is about.
        lineage: ``Lineage.to_dict()`` (declared ancestors, descendants, producing runs).
        runs: ``TrainingRun.to_dict()`` of every recorded run that produced the version.
        datasets: The training datasets (card-declared and run inputs).
        licence: ``LicenseDecision.to_dict()`` for the requested use and distribution.
        legal_register: Every legal-register approval recorded for the version (with ``seq``).
        baselines: Baseline locks that concern the version (with ``seq``).
        envelopes: Signed runtime envelopes of the version.
        entries: Every ledger entry the dossier may cite (model subject, deployments, people,
            datasets, runs, baselines).
        proofs: Audit path per entry ``seq`` against :attr:`checkpoint`.
        checkpoint: The checkpoint the proofs lead to.
        use: Intended use the licence review assumed.
        distribution: Distribution the licence review assumed.
    """

    model: dict[str, Any]
    lineage: dict[str, Any]
    licence: dict[str, Any]
    checkpoint: CheckpointFacts
    use: str
    distribution: str
    runs: tuple[dict[str, Any], ...] = ()
    datasets: tuple[DatasetFacts, ...] = ()
    legal_register: tuple[dict[str, Any], ...] = ()
    baselines: tuple[dict[str, Any], ...] = ()
    envelopes: tuple[EnvelopeFacts, ...] = ()
    entries: tuple[Entry, ...] = ()
    proofs: Mapping[int, tuple[bytes, ...]] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """The model version's digest (``sha256:…``)."""
        return str(self.model["digest"])
