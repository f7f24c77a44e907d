"""The reference runtime envelope for the reference driving stack in highway-env.

:func:`reference_envelope` explains each value; ``steward gate demo`` uses it unless given a
signed envelope, and :func:`write_reference_envelope` writes it as YAML for
``steward envelope sign``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from modelsteward.runtime.envelope import ENVELOPE_SCHEMA, example_envelope

__all__ = ["reference_envelope", "write_reference_envelope"]


def reference_envelope() -> dict[str, Any]:
    """The runtime envelope for the reference stack in highway-env, as a document.

    highway-env's traffic is much denser than a real motorway: IDM drivers keep 1.5 s plus 10 m
    and react within one 0.2 s simulation step. ad-rss-lib's reference dynamics (ρ 1 s / 2 s,
    a_max 3.5, b_min 4 m/s²) ask for ~90 m behind a car at 25 m/s and would veto nearly every
    step, so the RSS parameters describe the simulated vehicles instead:

    - ``response_time_ego_s`` 0.3 — one 0.2 s decision step plus the start of the speed
      controller's response; ``response_time_other_s`` 0.5 — IDM reacts within a step.
    - ``accel_max_mps2`` 2 — FASTER raises the set-point by 3 m/s, which highway-env's
      controller (time constant 0.6 s) reaches at ~2 m/s² within the response time.
    - ``brake_min_mps2`` 5 — what repeated SLOWER commands guarantee (3 m/s per 0.6 s);
      ``brake_max_mps2`` 8 — the hardest any simulated driver brakes (they reach 6).
    - ``lateral_brake_min_mps2`` 2 and ``actions.lateral_speed_mps`` 3 — a highway-env lane
      change crosses 4 m in about a second (peaks near 6 m/s), so a lane change is unsafe
      whenever a car in the target lane is inside its longitudinal safe distance, while cars
      two lanes away are not.

    At 25 m/s behind a car at 25 m/s that is a 34 m gap (1.4 s); closing at 30 m/s on 20 m/s,
    78 m. Time to collision must stay above 1.5 s; confidence above 0.35 (the reference
    policies' argmax probability; lower means the network is guessing between actions). Speed
    caps: 30 m/s normally, 25 reduced, 15 supervised, 0 fail-closed; the mode steps down after
    10 clean cycles (2 s at 5 Hz); ``decide`` (~0.25 ms here) must finish within 50 ms, a
    quarter of the 0.2 s cycle: a stalled gate is caught, a busy machine's scheduling jitter
    mostly is not (a missed deadline is a wall-clock veto, the one thing a seed cannot repeat).
    The geofence covers highway-v0's straight road — x from 0 to
    10 km, up to five 4 m lanes — in the gate's right-handed map frame (``y`` = −highway-env's
    ``y``).
    """
    return {
        "schema": ENVELOPE_SCHEMA,
        "name": "reference-highway-env",
        "vehicle": {"length_m": 5.0, "width_m": 2.0},
        "odd": {
            "geofence": [[[-100.0, -22.0], [10100.0, -22.0], [10100.0, 6.0], [-100.0, 6.0]]],
            "road_types": ["motorway"],
            "weather": ["clear"],
            "time_of_day": ["day"],
            "max_speed_mps": 30.0,
        },
        "speed": {
            "mode_caps_mps": {
                "normal": 30.0,
                "reduced": 25.0,
                "supervised": 15.0,
                "fail_closed": 0,
            },
            "tolerance_mps": 0.5,
        },
        "kinematics": {
            "max_accel_mps2": 3.0,
            "max_decel_mps2": 8.0,
            "max_lateral_accel_mps2": 4.0,
            "max_jerk_mps3": 15.0,
            "max_curvature_per_m": 0.2,
            "max_steering_rate_radps": 0.7,
            "wheelbase_m": 2.8,
        },
        "rss": {
            "response_time_ego_s": 0.3,
            "response_time_other_s": 0.5,
            "accel_max_mps2": 2.0,
            "brake_min_mps2": 5.0,
            "brake_max_mps2": 8.0,
            "brake_min_correct_mps2": 3.0,
            "lateral_brake_min_mps2": 2.0,
            "lateral_accel_max_mps2": 0.2,
            "lateral_fluctuation_margin_m": 0.1,
        },
        "ttc": {"min_s": 1.5},
        "confidence": {"min": 0.35},
        "inputs": {"max_age_s": 0.3, "max_objects": 64},
        "plausibility": {
            "max_speed_mps": 45.0,
            "max_accel_mps2": 12.0,
            "max_range_m": 300.0,
            "max_speed_mismatch_mps": 3.0,
        },
        "watchdog": {"heartbeat_timeout_s": 0.5, "deadline_ms": 50.0},
        "modes": {"deescalate_after_cycles": 10},
        "fallback": {"last_valid_max_age_s": 0.4},
        # highway-env's DiscreteMetaAction, as in the example envelope; lane changes are fast.
        "actions": {**example_envelope()["actions"], "lateral_speed_mps": 3.0},
    }


def write_reference_envelope(path: Path) -> Path:
    """Write :func:`reference_envelope` as YAML (to sign with ``steward envelope sign``)."""
    header = (
        "# Runtime envelope of the Steward reference driving stack in highway-env.\n"
        "# Why these values: modelsteward.evaluation.guarded.reference_envelope.\n"
    )
    text = yaml.safe_dump(reference_envelope(), sort_keys=False, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + text, encoding="utf-8")
    return path
