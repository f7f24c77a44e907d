"""One appending process for test_storage_concurrency.py (not a test module).

Opens an existing workspace, appends ``--appends`` entries from each of ``--threads`` producer
threads through one group committer, and prints ``seq worker thread index`` for every append once
its receipt resolved (that is, once the commit is durable). It prints ``ready`` once the workspace
is open and starts appending when it reads ``go`` on stdin, so that all workers contend.

    [STEWARD_DATABASE_URL=…] python _append_worker.py --home WS --worker 3 --threads 4 --appends 25
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from modelsteward.bootstrap import open_workspace
from modelsteward.config import Settings
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import GroupCommitter

_stdout_lock = threading.Lock()


def _acknowledge(line: str) -> None:
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _produce(
    committer: GroupCommitter,
    actor: str,
    worker: int,
    thread: int,
    appends: int,
    errors: list[BaseException],
) -> None:
    try:
        for index in range(appends):
            draft = EntryDraft(
                "test.append",
                actor,
                f"worker:{worker}",
                {"worker": worker, "thread": thread, "index": index},
            )
            entry = committer.submit(draft).result(timeout=300)
            _acknowledge(f"{entry.seq} {worker} {thread} {index}")
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--appends", type=int, default=25)
    args = parser.parse_args(argv)

    actor = f"worker-{args.worker}"
    # STEWARD_DATABASE_URL (if set) comes from the environment, as it would for `steward`
    steward = open_workspace(Settings(home=args.home, actor=actor))
    errors: list[BaseException] = []
    try:
        # start together with the other workers, so their commits really contend
        _acknowledge("ready")
        if sys.stdin.readline().strip() != "go":
            return 2
        with steward.ledger.group_committer() as committer:
            threads = [
                threading.Thread(
                    target=_produce,
                    args=(committer, actor, args.worker, t, args.appends, errors),
                )
                for t in range(args.threads)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        steward.close()
    if errors:
        raise errors[0]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
