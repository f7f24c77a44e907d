"""Responsibility-Sensitive Safety: the minimal safe distances the runtime gate enforces.

The formulas of Shalev-Shwartz, Shammah & Shashua (2017), "On a Formal Model of Safe and Scalable
Self-driving Cars", computed as Intel's ad-rss-lib 5 computes them
(``ad::rss::structured::calculateSafe*Distance*``), so both agree to floating-point rounding.
Each formula comes three ways: a pure-Python scalar function for the control loop, a validated
numpy ``_array`` variant that broadcasts, for replaying logged decisions in bulk, and the
unchecked ``_kernel`` under it for callers whose inputs are already validated.

    >>> p = RssParameters()
    >>> longitudinal_same_direction(20.0, 10.0, response_time=p.response_time_ego,
    ...     accel_max=p.accel_max, brake_min=p.brake_min, brake_max=p.brake_max)
    84.53125

SI units throughout (m, s, m/s, m/s²). Speeds, accelerations and braking values are magnitudes,
except the signed lateral velocities of :func:`lateral`. Results are distances ≥ 0; an argument
out of its domain (NaN and ±inf included) raises :class:`ValueError` naming it.

Where ad-rss departs from the paper these functions follow ad-rss: response times are per
vehicle; laterally the margin μ sits inside the clamp, ``[μ + Δ]₊`` rather than ``μ + [Δ]₊``, and
a vehicle's braking phase counts only while it still moves towards the other (both differ from
the paper only for vehicles moving apart). Two ad-rss extensions are left out, so compare with
them off: ``min_longitudinal_safety_distance`` (an additive constant, 0 by default) and
``max_speed_on_acceleration`` (caps the speed reached during ρ; no effect while ``v + a·ρ``
stays under it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "FloatArray",
    "RssParameters",
    "Operand",
    "lateral",
    "lateral_array",
    "lateral_kernel",
    "longitudinal_opposite_direction",
    "longitudinal_opposite_direction_array",
    "longitudinal_same_direction",
    "longitudinal_same_direction_array",
    "opposite_kernel",
    "same_direction_kernel",
]

FloatArray = npt.NDArray[np.float64]
#: What a kernel computes on: float64 arrays and plain floats, broadcast together.
Operand = FloatArray | float

_INF = math.inf
_NON_NEGATIVE = "a finite number >= 0"
_POSITIVE = "a finite number > 0"
_FINITE = "a finite number"
# The domain of every argument name in this module, one table for the scalar and the array path,
# so a name means the same in every function. Speeds, response times, accelerations and margins
# are >= 0; the signed lateral velocities and the braking values are the exceptions.
_DOMAINS = {
    **dict.fromkeys(("v_left", "v_right"), _FINITE),
    **dict.fromkeys(
        ("brake_min", "brake_max", "brake_min_correct", "lateral_brake_min"), _POSITIVE
    ),
}


@dataclass(frozen=True, slots=True)
class RssParameters:
    """The RSS dynamics of one vehicle class, defaulting to ad-rss-lib's reference values.

    The defaults are those of ad-rss-lib's reference dynamics (ego response time 1 s, others 2 s,
    longitudinal 3.5 / 4 / 8 / 3 m/s², lateral 0.2 / 0.8 m/s², fluctuation margin 0.1 m). ad-rss
    stores braking values as negative accelerations; here every braking value is a magnitude.

    Attributes:
        response_time_ego: ρ of the vehicle the gate controls, seconds.
        response_time_other: ρ assumed for every other road user, seconds.
        accel_max: Longitudinal acceleration during the response time, m/s².
        brake_min: Braking the rear (or opposite-lane) vehicle is guaranteed to apply, m/s².
        brake_max: Strongest braking the front vehicle can apply, m/s².
        brake_min_correct: Braking of the vehicle in its correct lane, m/s².
        lateral_brake_min: Lateral braking after the response time, m/s².
        lateral_accel_max: Lateral acceleration during the response time, m/s².
        lateral_fluctuation_margin: μ, the lateral slack of lane keeping, metres.

    Raises:
        ValueError: A value is out of its domain, or the braking values are not ordered
            ``brake_max >= brake_min >= brake_min_correct`` (ad-rss rejects such dynamics too).
    """

    response_time_ego: float = 1.0
    response_time_other: float = 2.0
    accel_max: float = 3.5
    brake_min: float = 4.0
    brake_max: float = 8.0
    brake_min_correct: float = 3.0
    lateral_brake_min: float = 0.8
    lateral_accel_max: float = 0.2
    lateral_fluctuation_margin: float = 0.1

    def __post_init__(self) -> None:
        for name in self.__slots__:
            _check(name, getattr(self, name), _DOMAINS.get(name, _NON_NEGATIVE))
        if self.brake_min > self.brake_max:
            raise ValueError(f"brake_min ({self.brake_min}) must not exceed brake_max")
        if self.brake_min_correct > self.brake_min:
            raise ValueError(
                f"brake_min_correct ({self.brake_min_correct}) must not exceed brake_min"
            )


def longitudinal_same_direction(
    v_rear: float,
    v_front: float,
    *,
    response_time: float,
    accel_max: float,
    brake_min: float,
    brake_max: float,
) -> float:
    """Minimal safe gap between two vehicles driving one behind the other (paper, Def. 1).

    The rear vehicle accelerates at ``accel_max`` for its response time ρ, then brakes at
    ``brake_min``; the front vehicle brakes at ``brake_max`` at once. With ``v_ρ = v_rear + a·ρ``::

        d_min = [ (v_rear + v_ρ)/2 · ρ  +  v_ρ² / (2·brake_min)  -  v_front² / (2·brake_max) ]₊

    Args:
        v_rear: Speed of the rear vehicle, m/s, ≥ 0.
        v_front: Speed of the front vehicle, m/s, ≥ 0.
        response_time: ρ of the rear vehicle, s, ≥ 0.
        accel_max: Rear vehicle's acceleration during ρ, m/s², ≥ 0.
        brake_min: Rear vehicle's braking after ρ, m/s², > 0.
        brake_max: Front vehicle's braking, m/s², > 0.

    Returns:
        The minimal safe longitudinal distance, metres, ≥ 0.

    Raises:
        ValueError: An argument is out of its domain; the message names it.
    """
    if not (
        0.0 <= v_rear < _INF
        and 0.0 <= v_front < _INF
        and 0.0 <= response_time < _INF
        and 0.0 <= accel_max < _INF
        and 0.0 < brake_min < _INF
        and 0.0 < brake_max < _INF
    ):
        _reject(locals())
    v_resp = v_rear + accel_max * response_time
    distance = (
        (v_rear + v_resp) * 0.5 * response_time
        + v_resp * v_resp / (2.0 * brake_min)
        - v_front * v_front / (2.0 * brake_max)
    )
    return distance if distance > 0.0 else 0.0


def longitudinal_opposite_direction(
    v_correct: float,
    v_opposite: float,
    *,
    response_time_correct: float,
    response_time_opposite: float,
    accel_max: float,
    brake_min_correct: float,
    brake_min: float,
) -> float:
    """Minimal safe gap between two vehicles driving towards each other (paper, Def. 2).

    Both vehicles accelerate at ``accel_max`` for their own response time, then brake: the one in
    its correct lane at ``brake_min_correct``, the one in the opposite direction's lane at
    ``brake_min``. With ``v_c,ρ = v_correct + a·ρ_c`` and ``v_o,ρ = v_opposite + a·ρ_o``::

        d_min = (v_correct + v_c,ρ)/2 · ρ_c   + v_c,ρ² / (2·brake_min_correct)
              + (v_opposite + v_o,ρ)/2 · ρ_o  + v_o,ρ² / (2·brake_min)

    Args:
        v_correct: Speed of the vehicle in its correct lane, m/s, ≥ 0, towards the other.
        v_opposite: Speed of the vehicle driving against its lane's direction, m/s, ≥ 0.
        response_time_correct: ρ_c, s, ≥ 0.
        response_time_opposite: ρ_o, s, ≥ 0.
        accel_max: Acceleration of either vehicle during its response time, m/s², ≥ 0.
        brake_min_correct: Braking of the vehicle in its correct lane, m/s², > 0.
        brake_min: Braking of the other vehicle, m/s², > 0.

    Returns:
        The minimal safe longitudinal distance, metres, ≥ 0.

    Raises:
        ValueError: An argument is out of its domain; the message names it.
    """
    if not (
        0.0 <= v_correct < _INF
        and 0.0 <= v_opposite < _INF
        and 0.0 <= response_time_correct < _INF
        and 0.0 <= response_time_opposite < _INF
        and 0.0 <= accel_max < _INF
        and 0.0 < brake_min_correct < _INF
        and 0.0 < brake_min < _INF
    ):
        _reject(locals())
    v_c = v_correct + accel_max * response_time_correct
    v_o = v_opposite + accel_max * response_time_opposite
    return (
        (v_correct + v_c) * 0.5 * response_time_correct
        + v_c * v_c / (2.0 * brake_min_correct)
        + ((v_opposite + v_o) * 0.5 * response_time_opposite + v_o * v_o / (2.0 * brake_min))
    )


def lateral(
    v_left: float,
    v_right: float,
    *,
    response_time_left: float,
    response_time_right: float,
    accel_max: float,
    brake_min: float,
    fluctuation_margin: float,
) -> float:
    """Minimal safe lateral gap between a vehicle on the left and one on the right (Def. 4).

    Sign convention (ad-rss's): lateral velocities are positive **towards the right**, i.e. a
    positive ``v_left`` closes the gap and a positive ``v_right`` opens it. During its response
    time each vehicle accelerates at ``accel_max`` towards the other, then brakes laterally at
    ``brake_min``; the braking phase counts only while it still moves towards the other. With
    ``v_l,ρ = v_left + a·ρ_l`` and ``v_r,ρ = v_right - a·ρ_r``::

        d_l   = (v_left + v_l,ρ)/2 · ρ_l   + max(v_l,ρ, 0)² / (2·brake_min)
        d_r   = (v_right + v_r,ρ)/2 · ρ_r  - min(v_r,ρ, 0)² / (2·brake_min)
        d_min = [ μ + d_l - d_r ]₊

    Args:
        v_left: Lateral velocity of the left vehicle, m/s, positive towards the right.
        v_right: Lateral velocity of the right vehicle, m/s, positive towards the right.
        response_time_left: ρ_l, s, ≥ 0.
        response_time_right: ρ_r, s, ≥ 0.
        accel_max: Lateral acceleration during the response time, m/s², ≥ 0.
        brake_min: Lateral braking after the response time, m/s², > 0.
        fluctuation_margin: μ, metres, ≥ 0.

    Returns:
        The minimal safe lateral distance, metres, ≥ 0.

    Raises:
        ValueError: An argument is out of its domain; the message names it.
    """
    if not (
        -_INF < v_left < _INF
        and -_INF < v_right < _INF
        and 0.0 <= response_time_left < _INF
        and 0.0 <= response_time_right < _INF
        and 0.0 <= accel_max < _INF
        and 0.0 < brake_min < _INF
        and 0.0 <= fluctuation_margin < _INF
    ):
        _reject(locals())
    v_l = v_left + accel_max * response_time_left
    v_r = v_right - accel_max * response_time_right
    s_l = v_l if v_l > 0.0 else 0.0
    s_r = v_r if v_r < 0.0 else 0.0
    two_b = 2.0 * brake_min
    distance = (
        fluctuation_margin
        + ((v_left + v_l) * 0.5 * response_time_left + s_l * s_l / two_b)
        - ((v_right + v_r) * 0.5 * response_time_right - s_r * s_r / two_b)
    )
    return distance if distance > 0.0 else 0.0


def longitudinal_same_direction_array(
    v_rear: npt.ArrayLike,
    v_front: npt.ArrayLike,
    *,
    response_time: npt.ArrayLike,
    accel_max: npt.ArrayLike,
    brake_min: npt.ArrayLike,
    brake_max: npt.ArrayLike,
) -> FloatArray:
    """:func:`longitudinal_same_direction` over arrays; the arguments broadcast together.

    Returns:
        float64 distances of the broadcast shape (0-d when every argument is a scalar).

    Raises:
        ValueError: An element is out of its argument's domain; the message names the argument.
    """
    return same_direction_kernel(*_arrays(locals()))


def longitudinal_opposite_direction_array(
    v_correct: npt.ArrayLike,
    v_opposite: npt.ArrayLike,
    *,
    response_time_correct: npt.ArrayLike,
    response_time_opposite: npt.ArrayLike,
    accel_max: npt.ArrayLike,
    brake_min_correct: npt.ArrayLike,
    brake_min: npt.ArrayLike,
) -> FloatArray:
    """:func:`longitudinal_opposite_direction` over arrays; the arguments broadcast together.

    Returns:
        float64 distances of the broadcast shape (0-d when every argument is a scalar).

    Raises:
        ValueError: An element is out of its argument's domain; the message names the argument.
    """
    return opposite_kernel(*_arrays(locals()))


def lateral_array(
    v_left: npt.ArrayLike,
    v_right: npt.ArrayLike,
    *,
    response_time_left: npt.ArrayLike,
    response_time_right: npt.ArrayLike,
    accel_max: npt.ArrayLike,
    brake_min: npt.ArrayLike,
    fluctuation_margin: npt.ArrayLike,
) -> FloatArray:
    """:func:`lateral` over arrays (same sign convention); the arguments broadcast together.

    Returns:
        float64 distances of the broadcast shape (0-d when every argument is a scalar).

    Raises:
        ValueError: An element is out of its argument's domain; the message names the argument.
    """
    return lateral_kernel(*_arrays(locals()))


# The kernels: the same formulas with no checks, positional, for callers that have already
# validated their inputs (an envelope's RssParameters, a world state's checked columns) and
# cannot afford two reductions per argument per cycle. Out-of-domain input gives garbage, not
# an error. Arguments are float64 arrays or floats and broadcast together.


def same_direction_kernel(
    v_rear: Operand,
    v_front: Operand,
    response_time: Operand,
    accel_max: Operand,
    brake_min: Operand,
    brake_max: Operand,
) -> FloatArray:
    """Unchecked :func:`longitudinal_same_direction_array`; arguments in the same order."""
    v_resp = v_rear + accel_max * response_time
    distance = (
        (v_rear + v_resp) * 0.5 * response_time
        + v_resp * v_resp / (2.0 * brake_min)
        - v_front * v_front / (2.0 * brake_max)
    )
    return _clamped(distance)


def opposite_kernel(
    v_correct: Operand,
    v_opposite: Operand,
    response_time_correct: Operand,
    response_time_opposite: Operand,
    accel_max: Operand,
    brake_min_correct: Operand,
    brake_min: Operand,
) -> FloatArray:
    """Unchecked :func:`longitudinal_opposite_direction_array`; arguments in the same order."""
    v_c = v_correct + accel_max * response_time_correct
    v_o = v_opposite + accel_max * response_time_opposite
    distance = (
        (v_correct + v_c) * 0.5 * response_time_correct
        + v_c * v_c / (2.0 * brake_min_correct)
        + ((v_opposite + v_o) * 0.5 * response_time_opposite + v_o * v_o / (2.0 * brake_min))
    )
    return np.asarray(distance, dtype=np.float64)


def lateral_kernel(
    v_left: Operand,
    v_right: Operand,
    response_time_left: Operand,
    response_time_right: Operand,
    accel_max: Operand,
    brake_min: Operand,
    fluctuation_margin: Operand,
) -> FloatArray:
    """Unchecked :func:`lateral_array`; arguments in the same order, same sign convention."""
    v_l = v_left + accel_max * response_time_left
    v_r = v_right - accel_max * response_time_right
    s_l = np.maximum(v_l, 0.0)
    s_r = np.minimum(v_r, 0.0)
    two_b = 2.0 * brake_min
    distance = (
        fluctuation_margin
        + ((v_left + v_l) * 0.5 * response_time_left + s_l * s_l / two_b)
        - ((v_right + v_r) * 0.5 * response_time_right - s_r * s_r / two_b)
    )
    return _clamped(distance)


def _in_domain(value: float, domain: str) -> bool:
    """Whether ``value`` lies in ``domain`` (NaN lies in none)."""
    if domain == _POSITIVE:
        return 0.0 < value < _INF
    if domain == _NON_NEGATIVE:
        return 0.0 <= value < _INF
    return -_INF < value < _INF


def _check(name: str, value: float, domain: str) -> None:
    """Raise :class:`ValueError` naming ``name`` unless ``value`` lies in ``domain``."""
    if not _in_domain(value, domain):
        raise ValueError(f"{name} must be {domain}, got {value!r}")


def _reject(arguments: dict[str, float]) -> None:
    """The scalar path's slow half: find the argument that failed the combined test, and raise."""
    for name, value in arguments.items():
        _check(name, value, _DOMAINS.get(name, _NON_NEGATIVE))


def _arrays(arguments: dict[str, npt.ArrayLike]) -> list[FloatArray]:
    """Each argument as a float64 array (no copy if it is one), checked with two reductions."""
    arrays = []
    for name, value in arguments.items():
        array = np.asarray(value, dtype=np.float64)
        domain = _DOMAINS.get(name, _NON_NEGATIVE)
        # min() propagates NaN, and NaN fails every domain test, so two reductions catch it too.
        if array.size and not (
            _in_domain(float(array.min()), domain) and _in_domain(float(array.max()), domain)
        ):
            bad = next(float(x) for x in array.flat if not _in_domain(float(x), domain))
            raise ValueError(f"{name} must be {domain} everywhere, got {bad!r}")
        arrays.append(array)
    return arrays


def _clamped(distance: FloatArray | float) -> FloatArray:
    """``[distance]₊`` as a float64 array, reusing the buffer when there is one."""
    if isinstance(distance, np.ndarray):
        return np.maximum(distance, 0.0, out=distance)
    return np.asarray(max(float(distance), 0.0), dtype=np.float64)
