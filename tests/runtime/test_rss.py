"""RSS safe distances: equal to Intel's ad-rss-lib on random situations, and right by hand."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from modelsteward._ad_rss_peer import ad_object
from modelsteward.runtime.rss import (
    RssParameters,
    lateral,
    lateral_array,
    lateral_kernel,
    longitudinal_opposite_direction,
    longitudinal_opposite_direction_array,
    longitudinal_same_direction,
    longitudinal_same_direction_array,
    opposite_kernel,
    same_direction_kernel,
)

SITUATIONS = 2_000
# ad-rss computes in double precision too; the two differ only in the order of operations.
ABS_TOL = 1e-6
REL_TOL = 1e-9


# --- ad-rss, the peer ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ad_rss() -> ModuleType:
    """The ad-rss-lib Python bindings (a test-only dependency; the runtime never imports them)."""
    with warnings.catch_warnings():
        # Boost.Python warns that a std::vector converter is registered twice; harmless.
        warnings.simplefilter("ignore")
        return pytest.importorskip("ad_rss")


_ad_object = ad_object  # the builder the benchmark's peer uses too


def _ad_distance(ad: ModuleType, function: Callable[..., bool], first: Any, second: Any) -> float:
    """Call an ad-rss ``calculateSafe*`` function: it fills a Distance passed by reference."""
    out = ad.physics.Distance(0.0)
    assert function(first, second, out), "ad-rss rejected the situation as invalid input"
    # ad-rss clamps with std::max on ad-physics Distances, whose comparisons treat values within
    # 1e-3 m as equal, so a result in (-1e-3, 0) comes back unclamped; ours returns 0 there.
    return max(float(out.mDistance), 0.0)


def _ad_same_direction(ad: ModuleType, s: dict[str, float]) -> float:
    dynamics = {
        "response_time": s["response_time"],
        "accel_max": s["accel_max"],
        "brake_min": s["brake_min"],
        "brake_max": s["brake_max"],
        "brake_min_correct": s["brake_min"],
    }
    leading = _ad_object(ad, v_lon=s["v_front"], **dynamics)
    following = _ad_object(ad, v_lon=s["v_rear"], **dynamics)
    calculate = ad.rss.structured.calculateSafeLongitudinalDistanceSameDirection
    return _ad_distance(ad, calculate, leading, following)


def _ad_opposite_direction(ad: ModuleType, s: dict[str, float]) -> float:
    dynamics = {
        "accel_max": s["accel_max"],
        "brake_min": s["brake_min"],
        "brake_max": s["brake_min"],
        "brake_min_correct": s["brake_min_correct"],
    }
    rho_correct, rho_opposite = s["response_time_correct"], s["response_time_opposite"]
    correct = _ad_object(ad, v_lon=s["v_correct"], response_time=rho_correct, **dynamics)
    opposite = _ad_object(ad, v_lon=s["v_opposite"], response_time=rho_opposite, **dynamics)
    calculate = ad.rss.structured.calculateSafeLongitudinalDistanceOppositeDirection
    return _ad_distance(ad, calculate, correct, opposite)


def _ad_lateral(ad: ModuleType, s: dict[str, float]) -> float:
    dynamics = {
        "lateral_accel_max": s["accel_max"],
        "lateral_brake_min": s["brake_min"],
        # ad-rss adds the mean of the two vehicles' margins; equal margins make it μ.
        "fluctuation_margin": s["fluctuation_margin"],
    }
    left = _ad_object(ad, v_lat=s["v_left"], response_time=s["response_time_left"], **dynamics)
    right = _ad_object(ad, v_lat=s["v_right"], response_time=s["response_time_right"], **dynamics)
    return _ad_distance(ad, ad.rss.structured.calculateSafeLateralDistance, left, right)


# --- random situations, valid for ad-rss as well ----------------------------------------------


def _with_zeros(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One value in ten set to exactly zero, so that boundary is always exercised."""
    return np.where(rng.random(values.shape) < 0.1, 0.0, values)


def _accelerations(rng: np.random.Generator, n: int, high: float) -> np.ndarray:
    """Uniform accelerations, one in ten exactly zero, none in (0, 1e-3).

    ad-rss compares accelerations with a 1e-4 precision, and below it integrates the response
    time as if the speed jumped at once, overestimating by up to a·ρ²/2.
    """
    return _with_zeros(rng, rng.uniform(1e-3, high, n))


def _response_times(rng: np.random.Generator, n: int) -> np.ndarray:
    # ad-rss accepts 0 < ρ <= 10 s.
    return rng.uniform(0.01, 5.0, n)


def _same_direction(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    brake_max = rng.uniform(1.0, 12.0, n)
    return {
        # v + a·ρ stays below 100 m/s, ad-rss's largest max_speed_on_acceleration.
        "v_rear": _with_zeros(rng, rng.uniform(0.0, 40.0, n)),
        "v_front": _with_zeros(rng, rng.uniform(0.0, 40.0, n)),
        "response_time": _response_times(rng, n),
        "accel_max": _accelerations(rng, n, 6.0),
        # ad-rss insists on brake_max >= brake_min >= brake_min_correct.
        "brake_min": rng.uniform(0.3, 1.0, n) * brake_max,
        "brake_max": brake_max,
    }


def _opposite_direction(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    brake_min = rng.uniform(0.5, 12.0, n)
    return {
        "v_correct": _with_zeros(rng, rng.uniform(0.0, 40.0, n)),
        "v_opposite": _with_zeros(rng, rng.uniform(0.0, 40.0, n)),
        "response_time_correct": _response_times(rng, n),
        "response_time_opposite": _response_times(rng, n),
        "accel_max": _accelerations(rng, n, 6.0),
        "brake_min_correct": rng.uniform(0.3, 1.0, n) * brake_min,
        "brake_min": brake_min,
    }


def _lateral(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "v_left": _with_zeros(rng, rng.uniform(-3.0, 3.0, n)),
        "v_right": _with_zeros(rng, rng.uniform(-3.0, 3.0, n)),
        "response_time_left": _response_times(rng, n),
        "response_time_right": _response_times(rng, n),
        "accel_max": _accelerations(rng, n, 1.5),
        "brake_min": rng.uniform(0.1, 3.0, n),
        # ad-rss accepts margins up to 1 m.
        "fluctuation_margin": rng.uniform(0.0, 1.0, n),
    }


def _rows(columns: dict[str, np.ndarray]) -> list[dict[str, float]]:
    return [
        dict(zip(columns, map(float, row), strict=True))
        for row in zip(*columns.values(), strict=True)
    ]


def _call(function: Callable[..., Any], arguments: dict[str, Any]) -> Any:
    """Call with the two speeds positional, as the API requires, and the rest by keyword."""
    first, second, *_ = arguments
    keywords = {key: value for key, value in arguments.items() if key not in (first, second)}
    return function(arguments[first], arguments[second], **keywords)


def _assert_matches_peer(
    ours: Callable[..., float],
    peer: Callable[[dict[str, float]], float],
    situations: list[dict[str, float]],
) -> list[float]:
    """Every situation within tolerance of ad-rss; returns our distances."""
    distances = [_call(ours, situation) for situation in situations]
    wrong = [
        (situation, mine, theirs)
        for situation, mine in zip(situations, distances, strict=True)
        if not math.isclose(mine, theirs := peer(situation), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    ]
    assert not wrong, f"{len(wrong)} situations differ from ad-rss, e.g. {wrong[:3]}"
    return distances


def test_same_direction_matches_ad_rss_on_random_situations(ad_rss: ModuleType) -> None:
    situations = _rows(_same_direction(np.random.default_rng(20170821), SITUATIONS))
    distances = _assert_matches_peer(
        longitudinal_same_direction, lambda s: _ad_same_direction(ad_rss, s), situations
    )
    assert distances.count(0.0) > SITUATIONS // 20, "too few situations safe at any gap"


def test_opposite_direction_matches_ad_rss_on_random_situations(ad_rss: ModuleType) -> None:
    situations = _rows(_opposite_direction(np.random.default_rng(20170822), SITUATIONS))
    _assert_matches_peer(
        longitudinal_opposite_direction, lambda s: _ad_opposite_direction(ad_rss, s), situations
    )


def test_lateral_matches_ad_rss_on_random_situations(ad_rss: ModuleType) -> None:
    situations = _rows(_lateral(np.random.default_rng(20170823), SITUATIONS))
    distances = _assert_matches_peer(lateral, lambda s: _ad_lateral(ad_rss, s), situations)
    assert distances.count(0.0) > SITUATIONS // 20, "too few vehicles moving apart"


# --- the array variants ----------------------------------------------------------------------

SCALAR_AND_ARRAY = [
    pytest.param(longitudinal_same_direction, longitudinal_same_direction_array, _same_direction),
    pytest.param(
        longitudinal_opposite_direction,
        longitudinal_opposite_direction_array,
        _opposite_direction,
    ),
    pytest.param(lateral, lateral_array, _lateral),
]


@pytest.mark.parametrize(("scalar", "array", "situations"), SCALAR_AND_ARRAY)
def test_array_variant_equals_scalar_function_elementwise(
    scalar: Callable[..., float],
    array: Callable[..., np.ndarray],
    situations: Callable[[np.random.Generator, int], dict[str, np.ndarray]],
) -> None:
    columns = situations(np.random.default_rng(7), 5_000)
    distances = _call(array, columns)
    assert distances.dtype == np.float64
    assert distances.shape == (5_000,)
    np.testing.assert_array_equal(distances, [_call(scalar, row) for row in _rows(columns)])


def test_array_variants_broadcast_and_return_float64_arrays() -> None:
    p = RssParameters()
    rear = np.array([[0.0], [10.0], [30.0]])
    front = np.array([0.0, 5.0, 10.0, 20.0])
    grid = longitudinal_same_direction_array(
        rear, front, response_time=1.0, accel_max=3.5, brake_min=4.0, brake_max=8.0
    )
    assert grid.shape == (3, 4)
    assert grid[1, 2] == longitudinal_same_direction(
        10.0, 10.0, response_time=1.0, accel_max=3.5, brake_min=4.0, brake_max=8.0
    )
    single = lateral_array(
        0.0,
        0.0,
        response_time_left=p.response_time_ego,
        response_time_right=p.response_time_other,
        accel_max=p.lateral_accel_max,
        brake_min=p.lateral_brake_min,
        fluctuation_margin=p.lateral_fluctuation_margin,
    )
    assert isinstance(single, np.ndarray)
    assert single.shape == ()
    assert single.dtype == np.float64
    opposite = longitudinal_opposite_direction_array(
        [1, 2],
        3,
        response_time_correct=1,
        response_time_opposite=2,
        accel_max=0,
        brake_min_correct=3,
        brake_min=4,
    )
    assert opposite.dtype == np.float64
    assert opposite.shape == (2,)
    empty = longitudinal_same_direction_array(
        [], [], response_time=1.0, accel_max=3.5, brake_min=4.0, brake_max=8.0
    )
    assert empty.shape == (0,)


def test_kernels_are_the_array_variants_without_checks() -> None:
    columns = _lateral(np.random.default_rng(8), 1_000)
    np.testing.assert_array_equal(lateral_kernel(*columns.values()), _call(lateral_array, columns))
    columns = _same_direction(np.random.default_rng(9), 1_000)
    np.testing.assert_array_equal(
        same_direction_kernel(*columns.values()), _call(longitudinal_same_direction_array, columns)
    )
    columns = _opposite_direction(np.random.default_rng(10), 1_000)
    np.testing.assert_array_equal(
        opposite_kernel(*columns.values()), _call(longitudinal_opposite_direction_array, columns)
    )


# --- values by hand ----------------------------------------------------------------------------


def test_same_direction_textbook_example() -> None:
    # Rear at 20 m/s, front at 10 m/s, ad-rss reference dynamics with the ego's ρ = 1 s:
    # response: 20·1 + ½·3.5·1² = 21.75 m, reaching 23.5 m/s; braking 23.5²/(2·4) = 69.03125 m;
    # the front car stops within 10²/(2·8) = 6.25 m.  21.75 + 69.03125 − 6.25 = 84.53125.
    p = RssParameters()
    d = longitudinal_same_direction(
        20.0,
        10.0,
        response_time=p.response_time_ego,
        accel_max=p.accel_max,
        brake_min=p.brake_min,
        brake_max=p.brake_max,
    )
    assert d == pytest.approx(84.53125, abs=1e-12)


def test_same_direction_stationary_cars_need_only_the_response_margin() -> None:
    common = {"response_time": 1.0, "brake_min": 4.0, "brake_max": 8.0}
    assert longitudinal_same_direction(0.0, 0.0, accel_max=0.0, **common) == 0.0
    # Allowed to pull away for 1 s at 3.5 m/s²: ½·3.5 + 3.5²/(2·4) = 1.75 + 1.53125.
    assert longitudinal_same_direction(0.0, 0.0, accel_max=3.5, **common) == 3.28125


def test_same_direction_is_zero_when_the_front_car_is_much_faster() -> None:
    # 10 + 1.75 + 13.5²/8 = 34.53125 m against 30²/16 = 56.25 m: the gap only grows.
    d = longitudinal_same_direction(
        10.0, 30.0, response_time=1.0, accel_max=3.5, brake_min=4.0, brake_max=8.0
    )
    assert d == 0.0


def test_same_direction_without_response_time_is_the_difference_of_stopping_distances() -> None:
    d = longitudinal_same_direction(
        20.0, 10.0, response_time=0.0, accel_max=3.5, brake_min=4.0, brake_max=8.0
    )
    assert d == 400.0 / 8.0 - 100.0 / 16.0


def test_opposite_direction_textbook_example() -> None:
    # Correct lane: 10 m/s, ρ = 1 s → 10 + 1.75 = 11.75 m, then 13.5²/(2·3) = 30.375 m.
    # Opposite:     15 m/s, ρ = 2 s → 30 + 7 = 37 m, then 22²/(2·4) = 60.5 m.  Sum 139.625 m.
    p = RssParameters()
    d = longitudinal_opposite_direction(
        10.0,
        15.0,
        response_time_correct=p.response_time_ego,
        response_time_opposite=p.response_time_other,
        accel_max=p.accel_max,
        brake_min_correct=p.brake_min_correct,
        brake_min=p.brake_min,
    )
    assert d == pytest.approx(139.625, abs=1e-12)


def test_opposite_direction_stationary_cars_without_acceleration_need_no_gap() -> None:
    d = longitudinal_opposite_direction(
        0.0,
        0.0,
        response_time_correct=1.0,
        response_time_opposite=2.0,
        accel_max=0.0,
        brake_min_correct=3.0,
        brake_min=4.0,
    )
    assert d == 0.0


def _lateral_defaults(v_left: float, v_right: float, **overrides: float) -> float:
    p = RssParameters()
    kwargs = {
        "response_time_left": p.response_time_ego,
        "response_time_right": p.response_time_other,
        "accel_max": p.lateral_accel_max,
        "brake_min": p.lateral_brake_min,
        "fluctuation_margin": p.lateral_fluctuation_margin,
    } | overrides
    return lateral(v_left, v_right, **kwargs)


def test_lateral_stationary_vehicles_without_acceleration_need_only_the_margin() -> None:
    assert _lateral_defaults(0.0, 0.0, accel_max=0.0) == pytest.approx(0.1, abs=1e-15)


def test_lateral_textbook_example() -> None:
    # Left (ρ = 1 s) drifts right: ½·0.2·1² = 0.1 m, reaching 0.2 m/s, braking 0.2²/1.6 = 0.025 m.
    # Right (ρ = 2 s) drifts left: ½·0.2·2² = 0.4 m, reaching 0.4 m/s, braking 0.4²/1.6 = 0.1 m.
    # 0.125 + 0.5 + μ 0.1 = 0.725 m.
    assert _lateral_defaults(0.0, 0.0) == pytest.approx(0.725, abs=1e-12)


def test_lateral_velocity_is_positive_towards_the_right() -> None:
    still = _lateral_defaults(0.0, 0.0)
    assert _lateral_defaults(1.0, 0.0) > still > _lateral_defaults(-0.1, 0.0)
    assert _lateral_defaults(0.0, -1.0) > still > _lateral_defaults(0.0, 0.1)


def test_lateral_margin_is_inside_the_clamp_as_in_ad_rss() -> None:
    # Moving apart at 1 m/s each: 0.1 − 0.9 − 0.9 < 0, so 0 (the paper's μ + [Δ]₊ would be 0.1).
    assert _lateral_defaults(-1.0, 1.0, response_time_right=1.0) == 0.0


# --- monotonicity -------------------------------------------------------------------------------


def test_same_direction_gap_grows_with_the_rear_speed_and_shrinks_with_the_front_speed() -> None:
    rng = np.random.default_rng(4)
    columns = _same_direction(rng, 20_000)
    faster = rng.uniform(0.0, 5.0, 20_000)
    base = _call(longitudinal_same_direction_array, columns)
    rear = columns | {"v_rear": columns["v_rear"] + faster}
    front = columns | {"v_front": columns["v_front"] + faster}
    assert (_call(longitudinal_same_direction_array, rear) >= base).all()
    assert (_call(longitudinal_same_direction_array, front) <= base).all()
    assert (_call(longitudinal_same_direction_array, rear) > base).any()


def test_opposite_direction_gap_grows_with_either_speed() -> None:
    rng = np.random.default_rng(5)
    columns = _opposite_direction(rng, 20_000)
    faster = rng.uniform(0.0, 5.0, 20_000)
    base = _call(longitudinal_opposite_direction_array, columns)
    for speed in ("v_correct", "v_opposite"):
        closing = columns | {speed: columns[speed] + faster}
        assert (_call(longitudinal_opposite_direction_array, closing) >= base).all()


def test_lateral_gap_grows_as_either_vehicle_moves_towards_the_other() -> None:
    rng = np.random.default_rng(6)
    columns = _lateral(rng, 20_000)
    closer = rng.uniform(0.0, 1.0, 20_000)
    base = _call(lateral_array, columns)
    left_closing = columns | {"v_left": columns["v_left"] + closer}
    right_closing = columns | {"v_right": columns["v_right"] - closer}
    assert (_call(lateral_array, left_closing) >= base).all()
    assert (_call(lateral_array, right_closing) >= base).all()


# --- bad arguments ------------------------------------------------------------------------------

VALID_ARGUMENTS: dict[Callable[..., Any], dict[str, float]] = {
    longitudinal_same_direction: {
        "v_rear": 10.0,
        "v_front": 5.0,
        "response_time": 1.0,
        "accel_max": 3.5,
        "brake_min": 4.0,
        "brake_max": 8.0,
    },
    longitudinal_opposite_direction: {
        "v_correct": 10.0,
        "v_opposite": 5.0,
        "response_time_correct": 1.0,
        "response_time_opposite": 2.0,
        "accel_max": 3.5,
        "brake_min_correct": 3.0,
        "brake_min": 4.0,
    },
    lateral: {
        "v_left": 0.5,
        "v_right": -0.5,
        "response_time_left": 1.0,
        "response_time_right": 2.0,
        "accel_max": 0.2,
        "brake_min": 0.8,
        "fluctuation_margin": 0.1,
    },
}
ARRAY_VARIANT: dict[Callable[..., Any], Callable[..., Any]] = {
    longitudinal_same_direction: longitudinal_same_direction_array,
    longitudinal_opposite_direction: longitudinal_opposite_direction_array,
    lateral: lateral_array,
}
BAD_ARGUMENTS = [
    pytest.param(function, name, value, id=f"{function.__name__}-{name}={value}")
    for function, bad in [
        (
            longitudinal_same_direction,
            [
                ("v_rear", -1.0),
                ("v_front", -0.001),
                ("v_rear", math.nan),
                ("v_front", math.inf),
                ("response_time", -0.5),
                ("accel_max", -1.0),
                ("brake_min", 0.0),
                ("brake_max", -8.0),
            ],
        ),
        (
            longitudinal_opposite_direction,
            [
                ("v_correct", -3.0),
                ("v_opposite", math.nan),
                ("response_time_correct", -1.0),
                ("response_time_opposite", math.nan),
                ("accel_max", -0.1),
                ("brake_min_correct", 0.0),
                ("brake_min", -4.0),
            ],
        ),
        (
            lateral,
            [
                ("v_left", math.nan),
                ("v_right", -math.inf),
                ("response_time_left", -1.0),
                ("response_time_right", math.nan),
                ("accel_max", -0.2),
                ("brake_min", 0.0),
                ("fluctuation_margin", -0.1),
            ],
        ),
    ]
    for name, value in bad
]


@pytest.mark.parametrize(("function", "name", "value"), BAD_ARGUMENTS)
def test_bad_argument_raises_value_error_naming_it(
    function: Callable[..., float], name: str, value: float
) -> None:
    arguments = VALID_ARGUMENTS[function]
    assert _call(function, arguments) >= 0.0
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        _call(function, arguments | {name: value})
    with pytest.raises(ValueError, match=rf"^{name} must be .* everywhere"):
        _call(ARRAY_VARIANT[function], arguments | {name: np.array([1.0, value, 2.0])})


def test_lateral_accepts_negative_velocities() -> None:
    assert _lateral_defaults(-2.0, -3.0) > 0.0


# --- parameters -------------------------------------------------------------------------------


def test_parameters_default_to_ad_rss_reference_dynamics() -> None:
    # ad-rss-lib's reference constants (as magnitudes; ad-rss stores braking negative) and the
    # 0.1 m fluctuation margin of its reference object dynamics.
    assert dataclasses.asdict(RssParameters()) == {
        "response_time_ego": 1.0,
        "response_time_other": 2.0,
        "accel_max": 3.5,
        "brake_min": 4.0,
        "brake_max": 8.0,
        "brake_min_correct": 3.0,
        "lateral_brake_min": 0.8,
        "lateral_accel_max": 0.2,
        "lateral_fluctuation_margin": 0.1,
    }


def test_parameters_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RssParameters().accel_max = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("response_time_ego", -1.0),
        ("response_time_other", math.nan),
        ("accel_max", -3.5),
        ("brake_min", 0.0),
        ("brake_max", math.inf),
        ("lateral_brake_min", -0.8),
        ("lateral_accel_max", -0.2),
        ("lateral_fluctuation_margin", -0.1),
    ],
)
def test_parameters_reject_values_out_of_domain(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        RssParameters(**{name: value})


def test_parameters_require_ordered_braking() -> None:
    with pytest.raises(ValueError, match="^brake_min "):
        RssParameters(brake_min=9.0)
    with pytest.raises(ValueError, match="^brake_min_correct "):
        RssParameters(brake_min_correct=5.0)
