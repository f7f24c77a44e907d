"""ad-rss (Intel's reference RSS library) as the benchmark's peer; optional, test extras only.

The structured safe-distance calls take fully populated ``RelativeObjectState`` objects; this
module builds them from our :class:`~modelsteward.runtime.rss.RssParameters` and calls the two
formulas the gate's RSS rule evaluates per object.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from modelsteward.runtime.rss import RssParameters

__all__ = ["ad_object", "ad_state", "lateral_distance", "same_direction"]


def ad_state(ad: ModuleType, p: RssParameters, *, v_lon: float, v_lat: float, ego: bool) -> Any:
    """A valid ad-rss object state with our dynamics and an exact speed."""
    return ad_object(
        ad,
        v_lon=abs(v_lon),
        v_lat=v_lat,
        response_time=p.response_time_ego if ego else p.response_time_other,
        accel_max=p.accel_max,
        brake_min=p.brake_min,
        brake_max=p.brake_max,
        brake_min_correct=p.brake_min_correct,
        lateral_accel_max=p.lateral_accel_max,
        lateral_brake_min=p.lateral_brake_min,
        fluctuation_margin=p.lateral_fluctuation_margin,
    )


def ad_object(
    ad: ModuleType,
    *,
    v_lon: float = 0.0,
    v_lat: float = 0.0,
    response_time: float = 1.0,
    accel_max: float = 3.5,
    brake_min: float = 4.0,
    brake_max: float = 8.0,
    brake_min_correct: float = 3.0,
    lateral_accel_max: float = 0.2,
    lateral_brake_min: float = 0.8,
    fluctuation_margin: float = 0.1,
) -> Any:
    """An ad-rss ``RelativeObjectState`` with exact speeds and the given dynamics (all valid)."""
    phys = ad.physics
    obj = ad.rss.core.RelativeObjectState()
    obj.object_type = ad.rss.world.ObjectType.OtherVehicle
    dyn = obj.dynamics
    # ad-rss stores braking as negative accelerations.
    dyn.alpha_lon.accel_max = phys.Acceleration(accel_max)
    dyn.alpha_lon.brake_max = phys.Acceleration(-brake_max)
    dyn.alpha_lon.brake_min = phys.Acceleration(-brake_min)
    dyn.alpha_lon.brake_min_correct = phys.Acceleration(-brake_min_correct)
    dyn.alpha_lat.accel_max = phys.Acceleration(lateral_accel_max)
    dyn.alpha_lat.brake_min = phys.Acceleration(-lateral_brake_min)
    dyn.lateral_fluctuation_margin = phys.Distance(fluctuation_margin)
    dyn.response_time = phys.Duration(response_time)
    # Off: 100 m/s is the largest valid cap; ad-rss-only extras are set to no effect.
    dyn.max_speed_on_acceleration = phys.Speed(100.0)
    dyn.min_longitudinal_safety_distance = phys.Distance(0.0)
    _valid_shape(phys, obj)
    state = obj.structured_object_state
    # A speed range collapsed to one value: the formulas take its worst end.
    state.velocity.speed_lon_min = state.velocity.speed_lon_max = phys.Speed(v_lon)
    state.velocity.speed_lat_min = state.velocity.speed_lat_max = phys.Speed(v_lat)
    return obj


def _valid_shape(phys: Any, obj: Any) -> None:
    """The unstructured settings and shape ad-rss validates even for the structured formulas."""
    settings = obj.dynamics.unstructured_settings
    settings.pedestrian_turning_radius = phys.Distance(2.0)
    settings.drive_away_max_angle = phys.Angle(2.4)
    settings.vehicle_yaw_rate_change = phys.AngularAcceleration(0.3)
    settings.vehicle_min_radius = phys.Distance(3.5)
    settings.vehicle_trajectory_calculation_step = phys.Duration(0.2)
    shape = obj.unstructured_object_state
    shape.yaw = phys.Angle(0.0)
    shape.yaw_rate = phys.AngularVelocity(0.0)
    shape.steering_angle = phys.Angle(0.0)
    shape.dimension.length = phys.Distance(5.0)
    shape.dimension.width = phys.Distance(2.0)
    shape.center_point.x = phys.Distance(0.0)
    shape.center_point.y = phys.Distance(0.0)
    shape.speed_range.minimum = phys.Speed(0.0)
    shape.speed_range.maximum = phys.Speed(100.0)
    state = obj.structured_object_state
    state.distance_to_enter_intersection = phys.Distance(100.0)
    state.distance_to_leave_intersection = phys.Distance(100.0)


def same_direction(ad: ModuleType, leading: Any, following: Any) -> float:
    """``calculateSafeLongitudinalDistanceSameDirection``, metres."""
    out = ad.physics.Distance(0.0)
    ad.rss.structured.calculateSafeLongitudinalDistanceSameDirection(leading, following, out)
    return float(out.mDistance)


def lateral_distance(ad: ModuleType, left: Any, right: Any) -> float:
    """``calculateSafeLateralDistance``, metres."""
    out = ad.physics.Distance(0.0)
    ad.rss.structured.calculateSafeLateralDistance(left, right, out)
    return float(out.mDistance)
