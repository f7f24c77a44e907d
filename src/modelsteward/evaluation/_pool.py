"""Worker processes for simulation: a fork server that has imported the simulator once.

Workers are forked from a server process that preloaded highway-env and Steward's evaluation
modules, so each starts in milliseconds and shares nothing mutable with the caller (no fork of a
threaded parent). Where fork servers are unavailable, workers are spawned.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

__all__ = ["process_pool"]

_PRELOAD = ["modelsteward.evaluation.closed_loop", "modelsteward.evaluation.reference._collect"]


def process_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes (fork server with the simulator preloaded, or spawn)."""
    context: multiprocessing.context.BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        server.set_forkserver_preload(_PRELOAD)
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=initializer)
