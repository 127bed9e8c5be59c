"""Limits cannot be loosened; device fitting never rounds up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.observations import SpeedRange
from treadctl.safety import limits as L
from treadctl.safety.device import check_range, fit_down, ramp_step
from treadctl.safety.errors import DeviceRangeError


def test_default_caps_are_the_reference_numbers() -> None:
    assert L.ABSOLUTE_SPEED_CAP == 400
    assert L.Limits().speed_cap == 300
    assert L.Limits(handrails=False).speed_cap == 200
    assert L.Limits(handrails=False).block_max_s == 600
    assert L.Limits().block_max_s is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_speed_cap", 301),
        ("user_speed_cap", 401),
        ("user_speed_cap", 0),
        ("acceleration_centi_per_s", 11),
        ("incline_cap", 101),
        ("incline_ramp_deci_per_min", 11),
        ("stale_telemetry_s", 3.5),
        ("stale_telemetry_s", 0.0),
    ],
)
def test_limits_cannot_be_loosened(field: str, value: float) -> None:
    with pytest.raises(L.LimitsError) as info:
        L.Limits(**{field: value})  # type: ignore[arg-type]
    assert info.value.name == field


def test_limits_can_be_gentler() -> None:
    limits = L.Limits(user_speed_cap=150, acceleration_centi_per_s=5, stale_telemetry_s=2.0)
    assert limits.speed_cap == 150


ranges = st.builds(
    SpeedRange,
    minimum=st.integers(0, 300),
    maximum=st.integers(300, 2000),
    increment=st.integers(1, 100),
)


@given(rng=ranges, value=st.integers(-100, 3000))
def test_fit_down_never_raises_and_never_rounds_up_to_the_minimum(
    rng: SpeedRange, value: int
) -> None:
    fitted = fit_down(value, rng)
    if value < rng.minimum:
        assert fitted is None
        return
    assert fitted is not None
    assert rng.minimum <= fitted <= min(value, rng.maximum)
    assert (fitted - rng.minimum) % rng.increment == 0
    # it is the highest such value
    assert fitted + rng.increment > min(value, rng.maximum)


def test_walking_pad_grid() -> None:
    pad = SpeedRange(100, 600, 50)
    assert fit_down(149, pad) == 100
    assert fit_down(150, pad) == 150
    assert fit_down(99, pad) is None
    assert fit_down(900, pad) == 600


@pytest.mark.parametrize(
    ("increment", "step"), [(50, 50), (10, 10), (1, 10), (3, 9), (25, 25), (100, 100)]
)
def test_ramp_step_is_whole_increments_within_the_rate(increment: int, step: int) -> None:
    assert ramp_step(increment, L.ACCELERATION_CENTI_PER_S, L.MIN_WRITE_INTERVAL_S) == step


def test_unusable_ranges_are_rejected() -> None:
    with pytest.raises(DeviceRangeError):
        check_range(SpeedRange(100, 600, 0), "speed")
    with pytest.raises(DeviceRangeError):
        check_range(SpeedRange(600, 100, 10), "speed")
