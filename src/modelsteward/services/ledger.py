"""Ledger use cases: append, note, tail, checkpoint, export, verify, prove.

>>> import tempfile, pathlib
>>> from modelsteward.config import Settings
>>> from modelsteward.bootstrap import init_workspace
>>> app = init_workspace(Settings(home=pathlib.Path(tempfile.mkdtemp()), actor="ada"))
>>> app.ledger.note("looked at the intake queue").kind
'note'
>>> app.ledger.verify().entries_seen
2
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from modelsteward.errors import InconsistentCheckpoints, InvalidInput, NotFound, RootMismatch
from modelsteward.ledger.checkpoint import Checkpoint
from modelsteward.ledger.entry import Entry, EntryDraft
from modelsteward.ledger.log import GroupCommitter, append_entries
from modelsteward.ledger.merkle import consistency_proof, inclusion_proof, leaf_hash
from modelsteward.ledger.verify import (
    PROOF_FORMAT,
    LogVerifier,
    VerifyReport,
    verify_checkpoint_consistency,
)
from modelsteward.services.witness import WitnessFolder
from modelsteward.storage.db import Database
from modelsteward.storage.ledger_store import (
    LedgerReader,
    SqlLedgerTxn,
    StoredCheckpoint,
    save_checkpoint,
)
from modelsteward.storage.workspace import Workspace
from modelsteward.types import format_time, utc_now

__all__ = ["LedgerService"]


class LedgerService:
    """The workspace ledger."""

    def __init__(
        self,
        db: Database,
        workspace: Workspace,
        *,
        actor: str,
        witness: WitnessFolder | None = None,
        max_batch: int = 2048,
        max_wait_s: float = 0.002,
    ) -> None:
        self.db = db
        self.workspace = workspace
        self.actor = actor
        self.witness = witness
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s

    # -- writing -------------------------------------------------------------------------------

    def commit_batch(self, drafts: Sequence[EntryDraft]) -> list[Entry]:
        """Append ``drafts`` in one durable transaction."""
        with self.db.write() as conn:
            return append_entries(SqlLedgerTxn(conn), drafts)

    def append(self, kind: str, subject: str, payload: dict[str, Any]) -> Entry:
        """Record one state change by the configured actor."""
        return self.commit_batch([EntryDraft(kind, self.actor, subject, payload)])[0]

    def group_committer(self) -> GroupCommitter:
        """A writer thread that batches concurrent appends (use as a context manager)."""
        return GroupCommitter(
            self.commit_batch, max_batch=self._max_batch, max_wait_s=self._max_wait_s
        )

    def note(self, text: str) -> Entry:
        """An auditor's annotation."""
        if not text.strip():
            raise InvalidInput("a note needs some text", hint='steward ledger note "…"')
        return self.append("note", f"workspace:{self.workspace.id}", {"text": text})

    # -- reading -------------------------------------------------------------------------------

    def tail(self, n: int) -> list[Entry]:
        """The last ``n`` entries."""
        if n < 1:
            raise InvalidInput("-n must be at least 1")
        with self.db.read() as conn:
            return LedgerReader(conn).tail(n)

    def size(self) -> int:
        """Number of entries."""
        with self.db.read() as conn:
            return LedgerReader(conn).state().size

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The newest signed checkpoint."""
        with self.db.read() as conn:
            return LedgerReader(conn).latest_checkpoint()

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(self) -> StoredCheckpoint:
        """Sign a checkpoint of the current tree, unless the latest one already covers it.

        Refuses (``InconsistentCheckpoints``) when the tree is not an extension of the last signed
        checkpoint or of the newest one in the witness folder: Steward never signs a fork.
        """
        verifier = self.workspace.verifier()
        with self.db.write() as conn:
            state = SqlLedgerTxn(conn).read_state()
            reader = LedgerReader(conn)
            latest = reader.latest_checkpoint()
            current = Checkpoint(self.workspace.origin, state.size, state.root())
            # checked even when the latest stored checkpoint covers the tree: a store restored
            # from an old copy holds old checkpoints too, and only the witness remembers
            earlier = [verifier.verify(latest.note)] if latest else []
            earlier += [verifier.verify(note) for note in self._witness_notes()[-1:]]
            for older in earlier:
                proof = (
                    consistency_proof(older.size, current.size, reader.node)
                    if 0 < older.size <= current.size
                    else []
                )
                try:
                    verify_checkpoint_consistency(older, current, proof)
                except InconsistentCheckpoints as exc:
                    raise InconsistentCheckpoints(
                        f"refusing to sign: {exc.message}",
                        hint="the store changed under the ledger; run `steward ledger verify`",
                    ) from exc
            if latest and latest.size == current.size and latest.root == current.root:
                self._send_to_witness(latest)
                return latest
            stored = StoredCheckpoint(
                current.size,
                current.root,
                self.workspace.signer().sign(current),
                format_time(utc_now()),
            )
            save_checkpoint(conn, stored)
        self._send_to_witness(stored)
        return stored

    def _witness_notes(self) -> list[str]:
        return self.witness.notes() if self.witness else []

    def _send_to_witness(self, checkpoint: StoredCheckpoint) -> None:
        if self.witness:
            self.witness.record(checkpoint.size, checkpoint.root, checkpoint.note)

    # -- export, verify, prove -----------------------------------------------------------------

    def export(self, out: Path) -> int:
        """Write every entry as JSON Lines ``{"entry": base64, "seq": n}``; returns the count."""
        out = out.expanduser()
        if out.is_dir():
            raise InvalidInput(f"{out} is a folder", hint="give a file name for --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".export-")
        count = 0
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle, self.db.read() as conn:
                for seq, body, _ in LedgerReader(conn).bodies():
                    entry = base64.b64encode(body).decode()
                    handle.write(f'{{"entry":"{entry}","seq":{seq}}}\n')
                    count += 1
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return count

    def verify(self, *, deep: bool = False) -> VerifyReport:
        """Verify the workspace ledger against its latest checkpoint, all earlier checkpoints and
        the witness folder; also check stored leaf hashes and the stored tree state."""
        verifier = self.workspace.verifier()
        with self.db.read() as conn:
            reader = LedgerReader(conn)
            checkpoints = reader.checkpoints()
            if not checkpoints:
                raise NotFound(
                    "the ledger has no signed checkpoint yet",
                    hint="run `steward ledger checkpoint`",
                )
            previous = [c.note for c in checkpoints[:-1]] + self._witness_notes()
            log = LogVerifier(verifier, checkpoints[-1].note, previous)
            state = reader.state()

            def source() -> Iterator[tuple[int, bytes]]:
                for seq, body, stored_leaf in reader.bodies():
                    if leaf_hash(body) != stored_leaf:
                        raise RootMismatch(
                            f"entry seq {seq} no longer matches its stored leaf hash",
                            hint="the entry's bytes were edited in the database",
                        )
                    yield seq, body

            report = log.run(source, deep=deep)
            if report.entries_seen != state.size:
                raise RootMismatch(
                    f"the tree state says {state.size} entries but {report.entries_seen} are stored"
                )
        return report

    def prove(self, seq: int) -> dict[str, Any]:
        """A self-contained inclusion proof of entry ``seq`` against a fresh checkpoint."""
        if seq < 0:
            raise InvalidInput("SEQ must be ≥ 0")
        with self.db.read() as conn:
            if seq >= LedgerReader(conn).state().size:
                raise NotFound(f"ledger has no entry with seq {seq}")
        checkpoint = self.checkpoint()
        with self.db.read() as conn:
            reader = LedgerReader(conn)
            body = reader.entry_body(seq)
            path = inclusion_proof(seq, checkpoint.size, reader.node)
        return {
            "format": PROOF_FORMAT,
            "seq": seq,
            "entry": base64.b64encode(body).decode(),
            "inclusion": [base64.b64encode(h).decode() for h in path],
            "checkpoint": checkpoint.note,
        }
