"""Creating Gymnasium environments quietly: no pygame banner, no stray deprecation warnings.

Steward prints JSON on stdout, so pygame's support banner must never appear; and the test suite
turns warnings into errors, so the one deprecation Gymnasium raises for highway-env's older ids
("The environment merge-v0 is out of date") is silenced here, narrowly, around creation only.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Mapping
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium  # noqa: E402
import highway_env  # noqa: E402, F401  (registers the highway-env ids with Gymnasium)

from modelsteward.errors import InvalidInput  # noqa: E402
from modelsteward.evaluation._kinematics import install_numpy_kinematics  # noqa: E402

__all__ = [
    "DEFAULT_ACTION",
    "DEFAULT_OBSERVATION",
    "TARGET_SPEEDS_MPS",
    "make_env",
    "reset_env",
    "with_defaults",
]

TARGET_SPEEDS_MPS: tuple[float, ...] = tuple(float(speed) for speed in range(0, 31, 3))
"""Speeds the ego can hold with ``DiscreteMetaAction``, 0–30 m/s in 3 m/s steps. highway-env's
default (20, 25, 30 m/s) cannot stop behind slow traffic; and since its speed controller answers
a set-point jump Δ with Δ / 0.6 s of acceleration, 3 m/s steps keep repeated SLOWER commands at
5–7.5 m/s² — hard, but physically possible braking."""

DEFAULT_OBSERVATION: dict[str, Any] = {
    "type": "Kinematics",
    "vehicles_count": 5,
    "features": ["presence", "x", "y", "vx", "vy"],
    "normalize": True,
}
DEFAULT_ACTION: dict[str, Any] = {
    "type": "DiscreteMetaAction",
    "target_speeds": list(TARGET_SPEEDS_MPS),
}


def with_defaults(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with Steward's default observation and action filled in (a deep copy).

    An ``observation`` or ``action`` of the default's type is completed key by key (so
    ``{"type": "DiscreteMetaAction"}`` keeps the default target speeds); another type replaces
    the default whole.
    """
    merged = copy.deepcopy(dict(config))
    for key, default in (("observation", DEFAULT_OBSERVATION), ("action", DEFAULT_ACTION)):
        given = merged.get(key)
        if given is None:
            merged[key] = copy.deepcopy(default)
        elif isinstance(given, Mapping) and given.get("type") == default["type"]:
            merged[key] = {**copy.deepcopy(default), **given}
    return merged


def make_env(env_id: str, config: Mapping[str, Any]) -> Any:
    """Create ``env_id`` and apply ``config`` (with defaults) through ``configure``.

    Raises:
        InvalidInput: ``env_id`` is not a registered Gymnasium id, or the config is rejected.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is out of date", category=DeprecationWarning)
        try:
            env = gymnasium.make(env_id)
        except gymnasium.error.Error as exc:
            raise InvalidInput(
                f"environment {env_id!r}: {exc}",
                hint="use a registered Gymnasium id such as highway-v0 or merge-v0",
            ) from exc
    unwrapped = env.unwrapped
    if not hasattr(unwrapped, "configure"):
        env.close()
        raise InvalidInput(
            f"environment {env_id!r} has no configure(config) method",
            hint="closed-loop scenarios need a highway-env style environment",
        )
    unwrapped.configure(with_defaults(config))
    return env


def reset_env(env: Any, seed: int) -> Any:
    """Reset ``env`` with ``seed`` and return the first observation.

    Raises:
        InvalidInput: The environment rejected its configuration while building the scene.
    """
    try:
        observation, _info = env.reset(seed=seed)
    except (KeyError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise InvalidInput(
            f"environment {env.spec.id if env.spec else '?'} rejected its config: {exc!r}",
            hint="check the scenario's environment.config keys against highway-env's",
        ) from exc
    install_numpy_kinematics(env.unwrapped)
    return observation
