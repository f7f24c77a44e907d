"""A ledger writer that runs until it is killed, for test_storage_crash.py (not a test module).

Opens an existing workspace and appends forever through one group committer from ``--threads``
producer threads, each keeping up to ``--window`` appends in flight. For every append whose receipt
resolved (its commit is durable) it prints ``seq leafhex`` and flushes, so whatever the parent has
read before it sends SIGKILL was acknowledged. A failed append ends the process with exit code 3.

    [STEWARD_DATABASE_URL=…] python _crash_writer.py --home WS --threads 4 --window 8
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import traceback
from collections import deque
from pathlib import Path

from modelsteward.bootstrap import open_workspace
from modelsteward.config import Settings
from modelsteward.ledger.entry import EntryDraft
from modelsteward.ledger.log import GroupCommitter, Receipt
from modelsteward.ledger.merkle import leaf_hash

_stdout_lock = threading.Lock()


def _acknowledge(seq: int, leaf: bytes) -> None:
    with _stdout_lock:
        sys.stdout.write(f"{seq} {leaf.hex()}\n")
        sys.stdout.flush()


def _produce(committer: GroupCommitter, producer: int, window: int) -> None:
    try:
        rng = random.Random(producer)
        in_flight: deque[Receipt] = deque()
        n = 0
        while True:
            while len(in_flight) < window:
                payload = {"producer": producer, "n": n, "pad": "x" * rng.randrange(0, 2048)}
                in_flight.append(committer.submit(EntryDraft("test.crash", "crasher", "", payload)))
                n += 1
            entry = in_flight.popleft().result()
            _acknowledge(entry.seq, leaf_hash(entry.to_bytes()))
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)  # a writer that cannot append must not look like one that was killed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--window", type=int, default=8)
    args = parser.parse_args(argv)

    # STEWARD_DATABASE_URL (if set) comes from the environment, as it would for `steward`
    steward = open_workspace(Settings(home=args.home, actor="crasher"))
    committer = steward.ledger.group_committer()
    threads = [
        threading.Thread(target=_produce, args=(committer, p, args.window), daemon=True)
        for p in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
