"""Bounded-autonomy modes and the hysteresis that moves between them.

``NORMAL → REDUCED → SUPERVISED → FAIL_CLOSED``: a vetoing rule escalates the mode *at once* to
the level its envelope entry names; the mode steps back down one level only after
``deescalate_after`` consecutive clean cycles, so a flickering fault cannot make the vehicle
oscillate between modes. While the kill switch is engaged the mode is pinned at ``FAIL_CLOSED``.

    >>> machine = ModeMachine(deescalate_after=2)
    >>> machine.update(Mode.SUPERVISED), machine.update(None), machine.update(None)
    (<Mode.SUPERVISED: 2>, <Mode.SUPERVISED: 2>, <Mode.REDUCED: 1>)
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Mode", "ModeMachine"]


class Mode(IntEnum):
    """How much authority the model has; higher is more restricted."""

    NORMAL = 0
    REDUCED = 1
    SUPERVISED = 2
    FAIL_CLOSED = 3

    @classmethod
    def parse(cls, text: str) -> Mode:
        """``"reduced"`` or ``"REDUCED"`` → :attr:`REDUCED`; :class:`ValueError` otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(mode.name for mode in cls)
            raise ValueError(f"unknown mode {text!r}; expected one of {names}") from None


class ModeMachine:
    """Escalate at once, de-escalate one level per ``deescalate_after`` clean cycles."""

    __slots__ = ("_clean", "deescalate_after", "mode")

    def __init__(self, deescalate_after: int, mode: Mode = Mode.NORMAL) -> None:
        if deescalate_after < 1:
            raise ValueError("deescalate_after must be at least 1")
        self.deescalate_after = deescalate_after
        self.mode = mode
        self._clean = 0

    @property
    def clean_cycles(self) -> int:
        """Consecutive clean cycles counted towards the next step down."""
        return self._clean

    def update(self, demand: Mode | None, *, pinned: bool = False) -> Mode:
        """Apply one cycle's outcome and return the mode for the *next* cycle.

        Args:
            demand: The most restrictive mode any vetoing rule asked for, or ``None`` when none
                vetoed. A cycle counts towards stepping down when ``demand`` is below the current
                mode.
            pinned: True while the kill switch is engaged: the mode stays ``FAIL_CLOSED`` and no
                clean cycles are counted.
        """
        if pinned:
            self.mode = Mode.FAIL_CLOSED
            self._clean = 0
        elif demand is not None and demand >= self.mode:
            self._clean = 0
            self.mode = demand
        elif self.mode is not Mode.NORMAL:
            # Clean for this mode: nothing asked for it or anything stricter (a veto that only
            # demands a lower mode, e.g. a speed-cap clamp, does not hold the mode up).
            self._clean += 1
            if self._clean >= self.deescalate_after:
                self.mode = Mode(self.mode - 1)  # demand < mode, so never below it
                self._clean = 0
        return self.mode
