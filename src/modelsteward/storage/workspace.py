"""The workspace folder: its id, the ledger key pair, the blob store and (by default) the database.

Layout::

    STEWARD_HOME/
      workspace.json        {"format": "steward.workspace/v1", "id": "…", "origin": "…"}
      steward.db            SQLite (unless STEWARD_DATABASE_URL points elsewhere)
      blobs/sha256/ab/cdef…
      keys/ledger.key       Ed25519 private key, PKCS#8 PEM, mode 0600
      keys/ledger.pub       public key, PEM
      keys/ledger.vkey      public key, C2SP verifier-key form
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from modelsteward.errors import InvalidInput, WorkspaceMissing
from modelsteward.ledger.checkpoint import NoteSigner, NoteVerifier
from modelsteward.storage.blobs import BlobStore

__all__ = ["WORKSPACE_FORMAT", "Workspace"]

WORKSPACE_FORMAT = "steward.workspace/v1"


@dataclass(frozen=True)
class Workspace:
    """An initialised workspace folder."""

    home: Path
    id: str
    origin: str

    @property
    def keys_dir(self) -> Path:
        """Folder of the ledger key pair."""
        return self.home / "keys"

    @property
    def blobs(self) -> BlobStore:
        """The content-addressed blob store."""
        return BlobStore(self.home / "blobs")

    @classmethod
    def create(cls, home: Path) -> tuple[Workspace, bool]:
        """Create the folder, id and key pair unless present. Returns ``(workspace, created)``."""
        marker = home / "workspace.json"
        if marker.exists():
            return cls.load(home), False
        if home.exists() and not home.is_dir():
            raise InvalidInput(f"{home} exists and is not a folder", hint="choose another --home")
        ws_id = uuid.uuid4().hex
        workspace = cls(home, ws_id, f"steward.local/ledger/{ws_id}")
        (home / "blobs").mkdir(parents=True, exist_ok=True)
        workspace.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(workspace.keys_dir, 0o700)
        signer = NoteSigner.generate(workspace.origin)
        _write_private(workspace.keys_dir / "ledger.key", signer.private_pem())
        (workspace.keys_dir / "ledger.pub").write_bytes(signer.verifier().public_pem())
        (workspace.keys_dir / "ledger.vkey").write_text(signer.verifier().to_vkey() + "\n")
        body = {"format": WORKSPACE_FORMAT, "id": ws_id, "origin": workspace.origin}
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        os.replace(tmp, marker)  # the marker appears last: a half-made workspace is not one
        return workspace, True

    @classmethod
    def load(cls, home: Path) -> Workspace:
        """Open an existing workspace.

        Raises:
            WorkspaceMissing: no ``workspace.json`` under ``home``.
            InvalidInput: the marker file is damaged.
        """
        marker = home / "workspace.json"
        try:
            data = json.loads(marker.read_text())
        except FileNotFoundError as exc:
            raise WorkspaceMissing(
                f"no Steward workspace at {home}",
                hint="run `steward init` (or set STEWARD_HOME / --home)",
            ) from exc
        except ValueError as exc:
            raise InvalidInput(f"{marker} is not valid JSON") from exc
        if not isinstance(data, dict) or data.get("format") != WORKSPACE_FORMAT:
            raise InvalidInput(f"{marker} is not a {WORKSPACE_FORMAT} file")
        return cls(home, str(data["id"]), str(data["origin"]))

    def signer(self) -> NoteSigner:
        """The ledger's checkpoint signing key."""
        return NoteSigner.from_pem(self.origin, (self.keys_dir / "ledger.key").read_bytes())

    def verifier(self) -> NoteVerifier:
        """The ledger's public key."""
        return NoteVerifier.from_vkey((self.keys_dir / "ledger.vkey").read_text())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
