"""Rich progress bars for hashing and scanning (on stderr, so ``--json`` stdout stays clean)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from modelsteward.cli._common import err_console

__all__ = ["FileProgress", "episode_bar", "file_progress"]


@dataclass
class FileProgress:
    """Callbacks the hashing and scanning code calls (from worker threads)."""

    on_plan: Callable[[int, int], None]
    on_bytes: Callable[[int], None]
    on_scan: Callable[[str], None]


@contextmanager
def file_progress(quiet: bool = False) -> Iterator[FileProgress]:
    """A hashing bar (bytes, speed, time left) and a scanning line; silent when ``quiet``."""
    if quiet or not err_console.is_terminal:
        yield FileProgress(lambda _n, _b: None, lambda _n: None, lambda _p: None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def plan(files: int, total: int) -> None:
        tasks["hash"] = progress.add_task(f"hashing {files} files", total=total)

    def advance(n: int) -> None:
        progress.advance(tasks["hash"], n)

    def scanning(path: str) -> None:
        if "scan" not in tasks:
            tasks["scan"] = progress.add_task("scanning", total=None)
        progress.update(tasks["scan"], description=f"scanning {path}")

    with progress:
        yield FileProgress(plan, advance, scanning)


@contextmanager
def episode_bar(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """Episodes done as ``update(done, total)`` (stderr, transient); silent when ``quiet`` (for
    ``--json``) or off a terminal."""
    if quiet or not err_console.is_terminal:
        yield lambda _done, _total: None
        return
    progress = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("episodes"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield update
