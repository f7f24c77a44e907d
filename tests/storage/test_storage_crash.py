"""Killing a writer at a random moment loses nothing it acknowledged and never breaks the ledger.

Each round starts ``_crash_writer.py`` on the same workspace, reads its acknowledgements for a short
random time, then SIGKILLs it mid-load. After every kill the workspace is reopened and must hold
every acknowledged entry with the same leaf hash, contiguous seqs, a tree state whose root matches
the entries, and must still checkpoint and verify (against every earlier checkpoint as well).

SIGKILL tests process crashes: the database's own commit protocol (SQLite WAL, PostgreSQL) has to
make an acknowledged commit survive. It does not simulate power loss (the page cache survives).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from modelsteward.bootstrap import Steward, open_workspace
from modelsteward.config import Settings
from modelsteward.ledger.merkle import leaf_hash, root_from_leaf_hashes
from modelsteward.storage.ledger_store import LedgerReader

pytestmark = [pytest.mark.storage, pytest.mark.xdist_group("storage-subprocesses")]

WRITER = Path(__file__).with_name("_crash_writer.py")
FIRST_ACK_TIMEOUT_S = 180
MAX_RUN_AFTER_FIRST_ACK_S = 0.6


class _Round:
    """One writer process, its acknowledgements, and its death."""

    def __init__(self, settings: Settings, stderr_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        if settings.database_url:
            env["STEWARD_DATABASE_URL"] = settings.database_url
        self.stderr_path = stderr_path
        with stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(WRITER), "--home", str(settings.resolved_home())]
                + ["--threads", "4", "--window", "8"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env=env,
            )
        self.lines: list[bytes] = []
        self.first_ack = threading.Event()
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.lines.append(line)
            self.first_ack.set()
        self.first_ack.set()  # EOF: the writer died on its own; the caller finds out why

    def kill_after(self, delay_s: float) -> dict[int, str]:
        """SIGKILL the writer ``delay_s`` after its first ack; every ``seq → leaf hex`` it acked."""
        try:
            if not self.first_ack.wait(FIRST_ACK_TIMEOUT_S):
                pytest.fail(f"the writer acknowledged nothing in time: {self._stderr()}")
            time.sleep(delay_s)
            self.proc.send_signal(signal.SIGKILL)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self._reader.join(FIRST_ACK_TIMEOUT_S)
            self.proc.stdout.close()  # type: ignore[union-attr]
        assert self.proc.returncode == -signal.SIGKILL, (
            f"the writer exited {self.proc.returncode} before it was killed: {self._stderr()}"
        )
        acks: dict[int, str] = {}
        for line in self.lines:
            if not line.endswith(b"\n"):
                continue  # cut short by the kill; never a whole acknowledgement
            seq, leaf = line.decode().split()
            assert int(seq) not in acks, f"seq {seq} was acknowledged twice"
            acks[int(seq)] = leaf
        assert acks, "the writer was killed before its first acknowledgement was read"
        return acks

    def _stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]


def _check_after_crash(settings: Settings, acked: dict[int, str], context: str) -> int:
    """Reopen the workspace and check everything a crash must not break; the ledger size."""
    steward = open_workspace(settings)
    try:
        with steward.db.read() as conn:
            reader = LedgerReader(conn)
            state = reader.state()
            seqs, leaves = [], []
            for seq, body, stored_leaf in reader.bodies():
                assert leaf_hash(body) == stored_leaf, f"{context}: seq {seq} leaf hash"
                seqs.append(seq)
                leaves.append(stored_leaf)

        assert seqs == list(range(len(seqs))), f"{context}: seqs are not contiguous from 0"
        assert state.size == len(seqs), f"{context}: tree state size {state.size} != {len(seqs)}"
        lost = sorted(seq for seq in acked if seq >= len(leaves))
        assert lost == [], f"{context}: acknowledged seqs missing after the crash: {lost[:10]}"
        changed = sorted(seq for seq, leaf in acked.items() if leaves[seq].hex() != leaf)
        assert changed == [], f"{context}: acknowledged entries changed: {changed[:10]}"
        assert state.root() == root_from_leaf_hashes(leaves), f"{context}: stored root is wrong"

        checkpoint = steward.ledger.checkpoint()
        report = steward.ledger.verify()
        assert checkpoint.size == report.size == report.entries_seen == len(seqs), context
        assert checkpoint.root == report.root == state.root(), context
        return len(seqs)
    finally:
        steward.close()


def _crash_rounds(settings: Settings, logs: Path, rounds: int) -> None:
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acked: dict[int, str] = {}
    size = 1
    for n in range(rounds):
        context = f"round {n} (seed {seed})"
        delay = rng.uniform(0, MAX_RUN_AFTER_FIRST_ACK_S)
        new_acks = _Round(settings, logs / f"writer-{n}.stderr").kill_after(delay)
        for seq, leaf in new_acks.items():
            assert acked.setdefault(seq, leaf) == leaf, f"{context}: seq {seq} acked twice"
        new_size = _check_after_crash(settings, acked, context)
        assert new_size > size, f"{context}: the ledger did not grow"
        size = new_size


def test_killed_writers_never_lose_acknowledged_entries(
    steward: Steward, settings: Settings, tmp_path: Path
) -> None:
    _crash_rounds(settings, tmp_path, rounds=12)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("STEWARD_SLOW") != "1", reason="set STEWARD_SLOW=1 to run")
def test_killed_writers_never_lose_acknowledged_entries_over_many_rounds(
    steward: Steward, settings: Settings, tmp_path: Path
) -> None:
    _crash_rounds(settings, tmp_path, rounds=60)
