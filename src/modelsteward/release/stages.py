"""Release stages and the only transitions between them.

A release (a model version, named by its digest) moves one stage at a time::

    registered → offline-validated → shadow → canary → production
                 (any live stage) → retired        shadow/canary/production → rolled-back

No stage can be skipped; ``retired`` and ``rolled-back`` are final.

>>> Stage.REGISTERED.next
<Stage.OFFLINE_VALIDATED: 'offline-validated'>
>>> check_transition(Stage.REGISTERED, Stage.SHADOW)
Traceback (most recent call last):
...
modelsteward.errors.PolicyDenied: cannot go from registered to shadow: stages cannot be skipped
"""

from __future__ import annotations

from enum import StrEnum

from modelsteward.errors import InvalidInput, PolicyDenied

__all__ = ["DEPLOYABLE", "LADDER", "Stage", "check_transition", "parse_stage"]


class Stage(StrEnum):
    """Where a release stands."""

    REGISTERED = "registered"
    OFFLINE_VALIDATED = "offline-validated"
    SHADOW = "shadow"
    CANARY = "canary"
    PRODUCTION = "production"
    RETIRED = "retired"
    ROLLED_BACK = "rolled-back"

    @property
    def next(self) -> Stage | None:
        """The one stage a promotion may go to next (``None`` at the top or when final)."""
        if self not in LADDER or self is Stage.PRODUCTION:
            return None
        return LADDER[LADDER.index(self) + 1]

    @property
    def final(self) -> bool:
        """Retired and rolled-back releases never move again."""
        return self in (Stage.RETIRED, Stage.ROLLED_BACK)


LADDER = (
    Stage.REGISTERED,
    Stage.OFFLINE_VALIDATED,
    Stage.SHADOW,
    Stage.CANARY,
    Stage.PRODUCTION,
)
"""The promotion ladder, lowest first."""

DEPLOYABLE = frozenset({Stage.SHADOW, Stage.CANARY, Stage.PRODUCTION})
"""Stages at which a release runs somewhere, so a promotion names a deployment."""


def parse_stage(text: str, *, option: str = "--to") -> Stage:
    """A stage from its name, or ``InvalidInput`` naming the option and the choices."""
    try:
        return Stage(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"{option} {text!r} is not a stage",
            hint="one of: " + ", ".join(s.value for s in Stage),
        ) from None


def check_transition(current: Stage, target: Stage) -> None:
    """Refuse anything but the next stage up, or retirement of a live release.

    Raises:
        PolicyDenied: The move skips a stage, goes backwards, or starts from a final stage.
    """
    if current.final:
        raise PolicyDenied(
            f"the release is {current.value}; it cannot move again",
            hint="register a new version to release again",
        )
    if target is Stage.RETIRED:
        return
    if target is Stage.ROLLED_BACK:
        raise PolicyDenied(
            "a release reaches rolled-back only through `steward rollback DEPLOYMENT`",
            hint="run steward rollback with the deployment's name",
        )
    if current.next is not target:
        expected = current.next.value if current.next else "nothing (it is at the top)"
        raise PolicyDenied(
            f"cannot go from {current.value} to {target.value}: stages cannot be skipped",
            hint=f"the next stage is {expected}",
        )
