"""Builders for ODD files and scenario libraries (the issue's draft formats, written for real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["HIGHWAY_ODD", "REPLAY_CRITERIA", "SCENARIO", "write_odd", "write_scenario"]

HIGHWAY_ODD = """\
odd: highway-pilot
version: 1
description: Motorway pilot, daytime or night, dry or wet.
scenery:
  road_type: {values: [motorway, rural, urban]}
  lanes: {values: [2, 3, 4]}
  merge: {values: [none, on-ramp]}
environment:
  weather: {values: [clear, rain, fog]}
  time_of_day: {values: [day, night]}
dynamic_elements:
  traffic_density: {values: [light, medium, dense]}
  ego_speed_mps: {range: {min: 0, max: 36}, bins: [0, 20, 30, 36], unit: m/s}
  lead_vehicle: {values: [none, steady, braking]}
  cut_in: {values: [none, gentle, aggressive]}
include:
  - {scenery.road_type: [motorway, rural]}
exclude:
  - {environment.weather: fog}
conditional:
  - when: {environment.weather: rain}
    then: {dynamic_elements.ego_speed_mps: {max: 25}}
"""

SCENARIO: dict[str, Any] = {
    "id": "cut-in-aggressive-dense",
    "title": "Aggressive cut-in in dense motorway traffic",
    "description": "A vehicle from the right lane cuts in 15 m ahead at a lower speed.",
    "odd": {
        "scenery.road_type": "motorway",
        "scenery.lanes": 3,
        "environment.weather": "clear",
        "environment.time_of_day": "day",
        "dynamic_elements.traffic_density": "dense",
        "dynamic_elements.ego_speed_mps": 28,
        "dynamic_elements.cut_in": "aggressive",
    },
    "hazard": {"severity": "S3", "exposure": "E3", "controllability": "C2"},
    "environment": {
        "simulator": "highway-env",
        "env_id": "highway-v0",
        "config": {
            "lanes_count": 3,
            "vehicles_count": 40,
            "vehicles_density": 2.0,
            "duration": 30,
            "policy_frequency": 5,
            "other_vehicles_type": "highway_env.vehicle.behavior.AggressiveVehicle",
        },
    },
    "criteria": {
        "no_collision": True,
        "min_ttc_s": 1.5,
        "min_headway_s": 0.8,
        "max_decel_mps2": 6.0,
        "max_lane_departures": 0,
        "min_route_completion": 0.9,
    },
    "tolerances": {"min_ttc_s": 0.3},
    "repetitions": 4,
    "seed": 1000,
}


REPLAY_CRITERIA: dict[str, Any] = {"min_accuracy": 0.8, "min_slice_accuracy": 0.6}
"""Criteria a replay scenario gets from :func:`write_scenario` unless given."""


def write_odd(folder: Path, text: str = HIGHWAY_ODD, name: str = "odd.yaml") -> Path:
    """Write an ODD file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def write_scenario(folder: Path, name: str | None = None, **changes: Any) -> Path:
    """Write the example scenario with ``changes`` (a value of ``None`` removes the key)."""
    data = {**SCENARIO, **changes}
    if changes.get("replay") is not None:
        data["criteria"] = changes.get("criteria", dict(REPLAY_CRITERIA))
        default = None if "criteria" in changes else {"min_accuracy": 0.05}
        data["tolerances"] = changes.get("tolerances", default)
    data = {k: v for k, v in data.items() if v is not None}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{data.get('id', 'scenario')}.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
