"""The kill switch: a file flag, a POSIX signal or a call, polled once per cycle.

Any of the three engages it; the gate sees it at the start of the next cycle and goes to
``FAIL_CLOSED`` in that same cycle. The file flag is what ``steward kill DEPLOYMENT`` writes: its
presence engages the switch and its text (JSON with a ``reason``, or plain text) is the reason;
deleting it (``steward resume``) releases it. A signal or a call is released by :meth:`release`.

    >>> switch = KillSwitch()
    >>> switch.poll() is None
    True
    >>> switch.engage("operator pressed stop")
    >>> switch.poll()
    'operator pressed stop'
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from types import FrameType

__all__ = ["KillSwitch"]


class KillSwitch:
    """Engaged by a flag file, a signal or :meth:`engage`; :meth:`poll` says why, or ``None``."""

    __slots__ = ("_file", "_file_reason", "_file_stamp", "_reason")

    def __init__(self, flag_file: Path | None = None) -> None:
        self._file = None if flag_file is None else os.fspath(flag_file)
        self._reason: str | None = None
        self._file_stamp: float | None = None
        self._file_reason = ""

    @property
    def flag_file(self) -> Path | None:
        """The flag file watched, if any."""
        return None if self._file is None else Path(self._file)

    def engage(self, reason: str) -> None:
        """Engage from this process (the local API)."""
        self._reason = reason or "engaged"

    def release(self) -> None:
        """Release an engagement made by :meth:`engage` or a signal (not the flag file)."""
        self._reason = None

    def install_signal(self, signum: int = signal.SIGUSR1) -> None:
        """Engage when the process receives ``signum`` (main thread only, as Python requires)."""

        def _handler(received: int, frame: FrameType | None) -> None:
            self._reason = f"signal {signal.Signals(received).name}"

        signal.signal(signum, _handler)

    def poll(self) -> str | None:
        """The reason the switch is engaged, or ``None``. One ``stat`` call when a file is set."""
        if self._reason is not None:
            return self._reason
        if self._file is None:
            return None
        try:
            stamp = os.stat(self._file).st_mtime_ns
        except FileNotFoundError:
            self._file_stamp = None
            return None
        except OSError as exc:  # an unreadable flag is treated as engaged: fail closed
            return f"kill flag unreadable ({exc.strerror})"
        if stamp != self._file_stamp:
            self._file_stamp = stamp
            self._file_reason = _flag_reason(self._file)
        return self._file_reason


def _flag_reason(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        return f"kill flag unreadable ({exc.strerror})"
    try:
        document = json.loads(text)
    except ValueError:
        return text or "kill flag present"
    if isinstance(document, dict) and isinstance(document.get("reason"), str):
        return f"kill flag: {document['reason']}"
    return text or "kill flag present"
