"""Several processes appending to one workspace at once get unique, contiguous, durable seqs.

Each worker process (``_append_worker.py``) opens the same workspace — the same SQLite file, or the
same PostgreSQL database when ``STEWARD_DATABASE_URL`` is set — and appends through its own group
committer from several threads. No timing is asserted: the timeouts only stop a hung run.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import IO

import pytest

from modelsteward.bootstrap import Steward, open_workspace
from modelsteward.config import Settings
from modelsteward.ledger.entry import Entry
from modelsteward.ledger.merkle import leaf_hash, root_from_leaf_hashes
from modelsteward.storage.ledger_store import LedgerReader

pytestmark = [pytest.mark.storage, pytest.mark.xdist_group("storage-subprocesses")]

WORKER = Path(__file__).with_name("_append_worker.py")
STARTUP_TIMEOUT_S = 180
RUN_TIMEOUT_S = 600


class _Worker:
    """A worker process whose stdout lines are collected by a reader thread."""

    def __init__(self, settings: Settings, number: int, threads: int, appends: int, logs: Path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        if settings.database_url:
            env["STEWARD_DATABASE_URL"] = settings.database_url
        self.number = number
        self.stderr_path = logs / f"worker-{number}.stderr"
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-W",
                    "error",
                    str(WORKER),
                    "--home",
                    str(settings.resolved_home()),
                ]
                + ["--worker", str(number), "--threads", str(threads), "--appends", str(appends)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env=env,
            )
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def wait_ready(self) -> None:
        line = self.lines.get(timeout=STARTUP_TIMEOUT_S)
        assert line == "ready\n", f"worker {self.number} did not start: {self.stderr()}"

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.close()

    def finish(self) -> list[str]:
        """Wait for the process to exit; its output lines (after ``ready``)."""
        returncode = self.proc.wait(timeout=RUN_TIMEOUT_S)
        self._reader.join(timeout=RUN_TIMEOUT_S)
        self.proc.stdout.close()  # type: ignore[union-attr]
        assert returncode == 0, f"worker {self.number} exited {returncode}: {self.stderr()}"
        lines = []
        while (line := self.lines.get_nowait()) is not None:
            lines.append(line)
        return lines

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-4000:]


def _run_workers(
    settings: Settings, logs: Path, *, workers: int, threads: int, appends: int
) -> list[tuple[int, int, int, int]]:
    """Run the workers together; every acknowledged ``(seq, worker, thread, index)``."""
    started = [_Worker(settings, n, threads, appends, logs) for n in range(workers)]
    try:
        for worker in started:
            worker.wait_ready()
        for worker in started:
            worker.go()
        acks = []
        for worker in started:
            for line in worker.finish():
                seq, number, thread, index = (int(part) for part in line.split())
                acks.append((seq, number, thread, index))
        return acks
    finally:
        for worker in started:
            worker.kill()


def _stored(steward: Steward) -> tuple[list[Entry], list[bytes], bytes]:
    """Every stored entry, its stored leaf hash, and the root of the stored tree state."""
    with steward.db.read() as conn:
        reader = LedgerReader(conn)
        entries, leaves = [], []
        for _seq, body, leaf in reader.bodies():
            entries.append(Entry.from_bytes(body))
            leaves.append(leaf)
        return entries, leaves, reader.state().root()


@pytest.mark.parametrize(("workers", "threads", "appends"), [(4, 3, 40)])
def test_concurrent_processes_get_unique_contiguous_durable_seqs(
    steward: Steward, settings: Settings, tmp_path: Path, workers: int, threads: int, appends: int
) -> None:
    acks = _run_workers(settings, tmp_path, workers=workers, threads=threads, appends=appends)

    total = 1 + workers * threads * appends  # plus the workspace.init entry
    assert len(acks) == total - 1
    seq_counts = Counter(seq for seq, *_ in acks)
    assert [seq for seq, n in seq_counts.items() if n > 1] == []
    assert set(seq_counts) == set(range(1, total))
    assert len({(w, t, i) for _, w, t, i in acks}) == len(acks)

    reopened = open_workspace(settings)
    try:
        entries, leaves, state_root = _stored(reopened)
        assert [e.seq for e in entries] == list(range(total))
        for seq, worker, thread, index in acks:
            entry = entries[seq]
            assert entry.actor == f"worker-{worker}"
            assert entry.payload == {"worker": worker, "thread": thread, "index": index}
        assert [leaf_hash(e.to_bytes()) for e in entries] == leaves
        assert state_root == root_from_leaf_hashes(leaves)
        times = [e.time for e in entries]
        assert times == sorted(times)

        checkpoint = reopened.ledger.checkpoint()
        report = reopened.ledger.verify(deep=True)
        assert checkpoint.size == report.size == report.entries_seen == total
        assert checkpoint.root == report.root == state_root
    finally:
        reopened.close()


def test_each_producer_thread_sees_its_appends_in_submission_order(
    steward: Steward, settings: Settings, tmp_path: Path
) -> None:
    acks = _run_workers(settings, tmp_path, workers=2, threads=4, appends=20)

    by_producer: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for seq, worker, thread, index in acks:
        by_producer.setdefault((worker, thread), []).append((index, seq))
    assert len(by_producer) == 8
    for pairs in by_producer.values():
        seqs_in_index_order = [seq for _, seq in sorted(pairs)]
        assert seqs_in_index_order == sorted(seqs_in_index_order)
    assert steward.ledger.size() == 1 + 2 * 4 * 20
