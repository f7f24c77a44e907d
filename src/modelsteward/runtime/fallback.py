"""The fallback ladder: what the gate sends when it vetoes a proposal.

Rungs, tried in order, each re-checked against the proposal rules before it is used:

1. **clamp** — the proposal brought inside the envelope: a discrete action replaced by the
   envelope's ``hold`` or ``comfortable_stop`` action; a trajectory's speed profile capped and
   rate-limited along the same path. Only when every veto is one a clamp can fix (speed cap,
   kinematics, RSS, TTC) and the mode is not ``FAIL_CLOSED``.
2. **last_valid** — the last command the gate accepted, if younger than
   ``fallback.last_valid_max_age_s`` (a trajectory is shifted to the current time).
3. **comfortable_stop** — brake in lane at ``comfortable_decel_mps2`` (or the ``comfortable_stop``
   action).
4. **minimal_risk** — brake in lane at ``minimal_risk_decel_mps2`` (or the ``minimal_risk``
   action). Never re-checked: it is the floor.

    >>> from modelsteward.runtime.envelope import Envelope, example_envelope
    >>> stop = braking_trajectory(20.0, 4.0, 3.0)
    >>> round(float(stop.t[0]), 3), round(float(stop.v[0]), 3), round(float(stop.v[-1]), 3)
    (0.2, 19.2, 8.0)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from modelsteward.runtime.envelope import Envelope
from modelsteward.runtime.modes import Mode
from modelsteward.runtime.rules import (
    PROPOSAL_RULES,
    CycleState,
    intent_of,
)
from modelsteward.runtime.world import Proposal, Trajectory, WorldState

__all__ = ["CLAMPABLE", "Command", "Rung", "braking_trajectory", "clamp_trajectory", "descend"]

Command = int | Trajectory | None
"""What the actuators receive: an action index, a trajectory, or ``None`` — no trustworthy
envelope, so the platform's own minimal-risk manoeuvre takes over."""
Rung = tuple[str, Command]
CLAMPABLE = frozenset({"speed_cap", "kinematics", "rss", "ttc"})
_STEP = 0.2


def braking_trajectory(speed: float, decel: float, horizon: float) -> Trajectory:
    """Straight ahead in lane, braking at ``decel`` from ``speed`` until stopped or ``horizon``."""
    t = np.arange(_STEP, horizon + 1e-9, _STEP)
    v = np.maximum(speed - decel * t, 0.0)
    stop = speed / decel
    x = np.where(t < stop, speed * t - 0.5 * decel * t * t, speed * stop * 0.5)
    return Trajectory.from_points(np.stack((t, x, np.zeros_like(t), v), axis=1).tolist())


def clamp_trajectory(path: Trajectory, cap: float, speed: float, env: Envelope) -> Trajectory:
    """The same path driven no faster than ``cap`` and within the acceleration limits.

    An ego already above ``cap`` slows down to it at up to ``max_decel`` from its own ``speed``.
    """
    limits = env.kinematics
    t = np.concatenate(((0.0,), path.t))
    # Start from the speed the ego has, even above the cap: the limits apply from there.
    v = np.concatenate(((speed,), np.minimum(path.v, cap)))
    dt = np.diff(t)
    for i in range(1, v.shape[0]):  # a handful of waypoints: a plain loop is clearest
        v[i] = min(v[i], v[i - 1] + limits.max_accel * dt[i - 1])
        v[i] = max(v[i], v[i - 1] - limits.max_decel * dt[i - 1], 0.0)
    travelled = np.concatenate(((0.0,), np.cumsum((v[1:] + v[:-1]) * 0.5 * dt)))
    x0 = np.concatenate(((0.0,), path.x))
    y0 = np.concatenate(((0.0,), path.y))
    arc = np.concatenate(((0.0,), np.cumsum(np.hypot(np.diff(x0), np.diff(y0)))))
    x = np.interp(travelled, arc, x0)
    y = np.interp(travelled, arc, y0)
    return Trajectory.from_points(np.stack((t, x, y, v), axis=1)[1:].tolist())


def _passes(env: Envelope, world: WorldState, candidate: Proposal, state: CycleState) -> bool:
    intent = intent_of(env, world, candidate)
    return all(rule(env, world, candidate, intent, state).ok for rule in PROPOSAL_RULES)


def descend(
    env: Envelope,
    world: WorldState | None,
    proposal: Proposal | None,
    vetoes: Iterable[str],
    state: CycleState,
    last_valid: tuple[float, Command] | None,
    discrete: bool,
) -> Rung:
    """Walk the ladder and return ``(rung, command)``.

    Args:
        env: The envelope.
        world: The world, or ``None`` when it failed input integrity (nothing can be re-checked).
        proposal: The proposal when well-formed, else ``None``.
        vetoes: The rule ids that vetoed.
        state: The cycle state (mode, clock).
        last_valid: ``(time, command)`` of the last accepted command, if any.
        discrete: Whether commands are action indices (else trajectories).
    """
    vetoed = set(vetoes)
    usable = state.mode is not Mode.FAIL_CLOSED
    if usable and world is not None and proposal is not None and vetoed <= CLAMPABLE:
        clamped = _clamp(env, world, proposal, state)
        if clamped is not None:
            return "clamp", clamped
    if (
        usable
        and last_valid is not None
        and state.now - last_valid[0] <= (env.fallback.last_valid_max_age)
    ):
        command = _shifted(last_valid, state.now)
        if command is not None and (
            world is None or _passes(env, world, _as_proposal(command, state.now), state)
        ):
            return "last_valid", command
    if world is not None:
        stop = _stop(env, world, discrete, env.fallback.comfortable_decel, "comfortable_stop")
        if _passes(env, world, _as_proposal(stop, state.now), state):
            return "comfortable_stop", stop
    if world is not None:
        speed = world.ego.speed
    else:  # no usable world this cycle: brake from the last speed the gate trusted
        speed = state.prev_speed if state.prev_speed == state.prev_speed else 0.0
    if discrete:
        assert env.actions is not None
        return "minimal_risk", env.actions.minimal_risk
    return "minimal_risk", braking_trajectory(
        speed, env.fallback.minimal_risk_decel, env.fallback.horizon
    )


def _clamp(env: Envelope, world: WorldState, proposal: Proposal, state: CycleState) -> Command:
    if proposal.trajectory is None:
        assert env.actions is not None
        for action in (env.actions.hold, env.actions.comfortable_stop):
            if action != proposal.action:
                candidate = Proposal(state.now, 1.0, action=action)
                if _passes(env, world, candidate, state):
                    return action
        return None
    cap = min(world.context.speed_limit, env.odd.max_speed, env.speed_caps[state.mode])
    path = clamp_trajectory(proposal.trajectory, cap, world.ego.speed, env)
    if _passes(env, world, Proposal(state.now, 1.0, trajectory=path), state):
        return path
    return None


def _shifted(last_valid: tuple[float, Command], now: float) -> Command:
    issued, command = last_valid
    if not isinstance(command, Trajectory):
        return command
    age = now - issued
    keep = command.t - age > 0
    if int(keep.sum()) < 3:
        return None
    rows = np.stack((command.t - age, command.x, command.y, command.v), axis=1)[keep]
    # The path starts where the ego was when it was issued: (0, 0, 0) precedes its waypoints.
    t0 = np.concatenate(((0.0,), command.t))
    offset = (
        np.interp(age, t0, np.concatenate(((0.0,), command.x))),
        np.interp(age, t0, np.concatenate(((0.0,), command.y))),
    )
    rows[:, 1] -= offset[0]
    rows[:, 2] -= offset[1]
    return Trajectory.from_points(rows.tolist())


def _stop(env: Envelope, world: WorldState, discrete: bool, decel: float, role: str) -> Command:
    if discrete:
        assert env.actions is not None
        chosen: int = getattr(env.actions, role)
        return chosen
    return braking_trajectory(world.ego.speed, decel, env.fallback.horizon)


def _as_proposal(command: Command, now: float) -> Proposal:
    if isinstance(command, Trajectory):
        return Proposal(now, 1.0, trajectory=command)
    return Proposal(now, 1.0, action=command)
