"""The reference ODD and scenario library, as plain data (written out as YAML).

Weather and time of day: highway-env simulates neither. The ODD lists rain and night because the
pilot is meant for them, and every closed-loop scenario declares ``clear`` and ``day`` — the only
conditions the simulator can honestly stand for — so rain and night stay gaps in the coverage
register until logged drives cover them. Likewise lane drops: highway-env 1.12 has none to offer
on a motorway, so the ODD leaves them out rather than claim them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ODD", "SCENARIOS", "ScenarioSpec", "scenario_document", "write_library"]

_HE = "highway_env.vehicle.behavior."
_REF = "modelsteward.evaluation.reference.traffic."

ODD: dict[str, Any] = {
    "odd": "reference-highway-pilot",
    "version": 1,
    "description": (
        "Motorway pilot of the Steward reference driving stack: two to four lanes, on-ramps, "
        "light to dense traffic, up to 30 m/s. Weather and time of day are declared by "
        "scenarios, not simulated: highway-env renders neither, so closed-loop scenarios cover "
        "clear daylight only."
    ),
    "scenery": {
        "road_type": {"values": ["motorway"]},
        "lanes": {"values": [2, 3, 4]},
        "merge": {"values": ["none", "on-ramp"]},
    },
    "environment": {
        "weather": {"values": ["clear", "rain"]},
        "time_of_day": {"values": ["day", "night"]},
    },
    "dynamic_elements": {
        "traffic_density": {"values": ["light", "medium", "dense"]},
        "ego_speed_mps": {"range": {"min": 0, "max": 30}, "bins": [0, 20, 27, 30], "unit": "m/s"},
        "lead_vehicle": {"values": ["none", "steady", "slow", "braking"]},
        "cut_in": {"values": ["none", "gentle", "aggressive"]},
    },
    "exclude": [{"environment.weather": "rain", "environment.time_of_day": "night"}],
    "conditional": [
        {
            "when": {"environment.weather": "rain"},
            "then": {"dynamic_elements.ego_speed_mps": {"max": 27}},
        }
    ],
}

_NOMINAL = {
    "no_collision": True,
    "min_ttc_s": 3.0,
    "min_headway_s": 0.8,
    "max_decel_mps2": 8.0,
    "max_lane_departures": 0,
    "min_route_completion": 0.95,
}
_BUSY = {**_NOMINAL, "min_ttc_s": 2.0, "min_headway_s": 0.4, "min_route_completion": 0.75}
_HAZARD = {**_NOMINAL, "min_ttc_s": 1.0, "min_headway_s": 0.2, "min_route_completion": 0.5}
_HAZARD_TOLERANCES = {"min_ttc_s": 0.5, "min_headway_s": 0.2, "min_route_completion": 0.1}
_TOLERANCES = {"min_ttc_s": 1.0, "min_headway_s": 0.3, "min_route_completion": 0.1}


@dataclass(frozen=True)
class ScenarioSpec:
    """One reference scenario before it becomes YAML."""

    id: str
    title: str
    description: str
    hazard: tuple[str, str, str]
    tags: dict[str, Any]
    config: dict[str, Any]
    criteria: dict[str, Any]
    tolerances: dict[str, Any] = field(default_factory=lambda: dict(_TOLERANCES))
    repetitions: int = 3
    env_id: str = "highway-fast-v0"


def _road(
    lanes: int, vehicles: int, density: float, other: str = _HE + "IDMVehicle", duration: int = 20
) -> dict[str, Any]:
    return {
        "lanes_count": lanes,
        "vehicles_count": vehicles,
        "vehicles_density": density,
        "other_vehicles_type": other,
        "duration": duration,
        "policy_frequency": 5,
        "simulation_frequency": 5,
    }


def _tags(
    lanes: int, density: str, speed: int, lead: str = "steady", cut_in: str = "none",
    merge: str = "none",
) -> dict[str, Any]:  # fmt: skip
    return {
        "scenery.road_type": "motorway",
        "scenery.lanes": lanes,
        "scenery.merge": merge,
        "environment.weather": "clear",
        "environment.time_of_day": "day",
        "dynamic_elements.traffic_density": density,
        "dynamic_elements.ego_speed_mps": speed,
        "dynamic_elements.lead_vehicle": lead,
        "dynamic_elements.cut_in": cut_in,
    }


def _nominal() -> list[ScenarioSpec]:
    return [
        ScenarioSpec(
            "nominal-light-four-lane", "Light traffic on a four-lane motorway",
            "Free-flowing traffic at 21-24 m/s; the ego cruises at up to 30 m/s and overtakes.",
            ("S2", "E4", "C1"), _tags(4, "light", 29, lead="none"), _road(4, 7, 0.5), _NOMINAL,
            repetitions=4,
        ),
        ScenarioSpec(
            "nominal-light-three-lane", "Light traffic on a three-lane motorway",
            "Free-flowing traffic; fewer lanes to overtake in.",
            ("S2", "E4", "C1"), _tags(3, "light", 28, lead="none"), _road(3, 8, 0.6), _NOMINAL,
        ),
        ScenarioSpec(
            "light-two-lane", "Light traffic on a two-lane motorway",
            "One overtaking lane; slower vehicles must be followed until the left lane is free.",
            ("S2", "E3", "C1"), _tags(2, "light", 27), _road(2, 8, 0.6), _NOMINAL,
        ),
        ScenarioSpec(
            "nominal-medium-four-lane", "Medium traffic on a four-lane motorway",
            "Steady traffic with courteous (MOBIL) lane changes around the ego.",
            ("S2", "E4", "C1"), _tags(4, "medium", 25), _road(4, 16, 1.2), _BUSY,
        ),
        ScenarioSpec(
            "nominal-medium-three-lane", "Medium traffic on a three-lane motorway",
            "Steady traffic; gaps for lane changes are shorter.",
            ("S2", "E4", "C1"), _tags(3, "medium", 24), _road(3, 16, 1.2), _BUSY,
        ),
        ScenarioSpec(
            "medium-two-lane", "Medium traffic on a two-lane motorway",
            "Platoons form behind slower vehicles; the ego mostly follows.",
            ("S2", "E3", "C2"), _tags(2, "medium", 22), _road(2, 14, 1.2), _BUSY,
        ),
    ]  # fmt: skip


def _dense() -> list[ScenarioSpec]:
    return [
        ScenarioSpec(
            "dense-four-lane", "Dense traffic on a four-lane motorway",
            "Short gaps in every lane; the ego must keep its distance at changing speeds.",
            ("S3", "E3", "C2"), _tags(4, "dense", 18), _road(4, 22, 2.0), _HAZARD,
            _HAZARD_TOLERANCES, repetitions=4,
        ),
        ScenarioSpec(
            "dense-three-lane", "Dense traffic on a three-lane motorway",
            "Short gaps in every lane.",
            ("S3", "E3", "C2"), _tags(3, "dense", 18), _road(3, 20, 2.0), _HAZARD,
            _HAZARD_TOLERANCES, repetitions=4,
        ),
        ScenarioSpec(
            "dense-two-lane", "Dense traffic on a two-lane motorway",
            "Queues in both lanes; hardly any room to change lanes.",
            ("S3", "E3", "C2"), _tags(2, "dense", 15), _road(2, 18, 2.0), _HAZARD,
            _HAZARD_TOLERANCES, repetitions=4,
        ),
        ScenarioSpec(
            "aggressive-drivers-three-lane", "Aggressive drivers on a three-lane motorway",
            "highway-env's AggressiveVehicle: short following gaps and hard acceleration.",
            ("S2", "E3", "C2"), _tags(3, "medium", 22, cut_in="gentle"),
            _road(3, 18, 1.6, _HE + "AggressiveVehicle"), _BUSY,
        ),
    ]  # fmt: skip


def _leads() -> list[ScenarioSpec]:
    slow, braking = _REF + "SlowTrafficVehicle", _REF + "BrakingTrafficVehicle"
    return [
        ScenarioSpec(
            "slow-lead-three-lane", "Slow traffic ahead on a three-lane motorway",
            "Every other vehicle settles at 12-17 m/s: the ego closes in at 8-18 m/s.",
            ("S3", "E3", "C2"), _tags(3, "medium", 15, lead="slow"), _road(3, 14, 1.0, slow),
            _HAZARD, _HAZARD_TOLERANCES,
        ),
        ScenarioSpec(
            "slow-lead-two-lane", "Slow traffic ahead on a two-lane motorway",
            "Slow traffic in both lanes: there is no way past, only behind.",
            ("S3", "E3", "C2"), _tags(2, "medium", 15, lead="slow"), _road(2, 12, 1.0, slow),
            _HAZARD, _HAZARD_TOLERANCES,
        ),
        ScenarioSpec(
            "high-speed-approach-slow-traffic", "High-speed approach to slow traffic",
            "Light traffic at 12-17 m/s on four lanes; the ego arrives at up to 30 m/s.",
            ("S3", "E3", "C2"), _tags(4, "light", 29, lead="slow"), _road(4, 8, 0.6, slow),
            _HAZARD, _HAZARD_TOLERANCES,
        ),
        ScenarioSpec(
            "braking-lead-three-lane", "Braking lead vehicles on a three-lane motorway",
            "Vehicles cruise, then brake at up to 6 m/s² to 5-10 m/s for 3 s, again and again.",
            ("S3", "E2", "C3"), _tags(3, "medium", 20, lead="braking"),
            _road(3, 14, 1.2, braking), _HAZARD, _HAZARD_TOLERANCES,
        ),
        ScenarioSpec(
            "braking-lead-dense-four-lane", "Stop-and-go waves in dense four-lane traffic",
            "Braking vehicles in dense traffic: waves of hard braking travel down the lanes.",
            ("S3", "E2", "C3"), _tags(4, "dense", 15, lead="braking"),
            _road(4, 20, 1.8, braking), _HAZARD, _HAZARD_TOLERANCES,
        ),
    ]  # fmt: skip


def _cut_ins() -> list[ScenarioSpec]:
    gentle, aggressive = _REF + "GentleCutInVehicle", _REF + "AggressiveCutInVehicle"
    return [
        ScenarioSpec(
            "cut-in-gentle-three-lane", "Gentle cut-ins on a three-lane motorway",
            "Drivers move into the ego's lane 25-40 m ahead, at most 3 m/s slower.",
            ("S2", "E4", "C1"), _tags(3, "medium", 24, cut_in="gentle"),
            _road(3, 16, 1.4, gentle, duration=25), _BUSY,
        ),
        ScenarioSpec(
            "cut-in-aggressive-three-lane", "Aggressive cut-ins on a three-lane motorway",
            "Drivers move into the ego's lane 12-20 m ahead, up to 5 m/s slower.",
            ("S3", "E3", "C2"), _tags(3, "medium", 24, cut_in="aggressive"),
            _road(3, 16, 1.4, aggressive, duration=25), _HAZARD, _HAZARD_TOLERANCES,
            repetitions=5,
        ),
        ScenarioSpec(
            "cut-in-aggressive-dense-four-lane", "Aggressive cut-ins in dense four-lane traffic",
            "Cut-ins 12-20 m ahead while every lane is busy: little room to escape.",
            ("S3", "E3", "C3"), _tags(4, "dense", 18, cut_in="aggressive"),
            _road(4, 22, 2.0, aggressive, duration=25), _HAZARD, _HAZARD_TOLERANCES,
            repetitions=5,
        ),
        ScenarioSpec(
            "cut-in-aggressive-two-lane", "Aggressive cut-ins on a two-lane motorway",
            "Overtaking drivers squeeze back in 12-20 m ahead of the ego.",
            ("S3", "E2", "C2"), _tags(2, "medium", 22, cut_in="aggressive"),
            _road(2, 14, 1.4, aggressive, duration=25), _HAZARD, _HAZARD_TOLERANCES,
        ),
    ]  # fmt: skip


def _merges() -> list[ScenarioSpec]:
    merge = {"duration": 20, "policy_frequency": 5, "simulation_frequency": 5}
    return [
        ScenarioSpec(
            "merge-on-ramp", "Vehicle merging from an on-ramp",
            "highway-env merge-v0: a vehicle joins from the ramp at 20 m/s next to the ego.",
            ("S2", "E4", "C2"), _tags(2, "light", 28, merge="on-ramp"),
            {**merge, "other_vehicles_type": _HE + "IDMVehicle"}, _BUSY, env_id="merge-v0",
            repetitions=4,
        ),
        ScenarioSpec(
            "merge-on-ramp-aggressive", "Aggressive drivers at an on-ramp",
            "merge-v0 with highway-env's AggressiveVehicle on the highway and the ramp.",
            ("S3", "E3", "C2"), _tags(2, "light", 28, cut_in="gentle", merge="on-ramp"),
            {**merge, "other_vehicles_type": _HE + "AggressiveVehicle"}, _BUSY,
            env_id="merge-v0", repetitions=4,
        ),
    ]  # fmt: skip


SCENARIOS: tuple[ScenarioSpec, ...] = (*_nominal(), *_dense(), *_leads(), *_cut_ins(), *_merges())


def scenario_document(spec: ScenarioSpec, index: int) -> dict[str, Any]:
    """The scenario file's content (scenario ``index`` starts at seed ``1000 + 100 * index``)."""
    severity, exposure, controllability = spec.hazard
    return {
        "id": spec.id,
        "title": spec.title,
        "description": spec.description,
        "odd": dict(spec.tags),
        "hazard": {
            "severity": severity,
            "exposure": exposure,
            "controllability": controllability,
        },
        "environment": {"simulator": "highway-env", "env_id": spec.env_id, "config": spec.config},
        "criteria": dict(spec.criteria),
        "tolerances": dict(spec.tolerances),
        "repetitions": spec.repetitions,
        "seed": 1000 + 100 * index,
    }


def write_library(root: Path) -> tuple[Path, Path]:
    """Write ``odd.yaml`` and ``scenarios/*.yaml`` under ``root``; returns their paths."""
    odd = root / "odd.yaml"
    odd.write_text(_dump(ODD), encoding="utf-8")
    scenarios = root / "scenarios"
    scenarios.mkdir()
    for index, spec in enumerate(SCENARIOS):
        path = scenarios / f"{spec.id}.yaml"
        path.write_text(_dump(scenario_document(spec, index)), encoding="utf-8")
    return odd, scenarios


def _dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
