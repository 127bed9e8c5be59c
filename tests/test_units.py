"""Unit conversions never raise a speed or incline above the number written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.units import floor_to_grid, kmh_to_centi, percent_to_deci

finite = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False)


@given(finite)
def test_speed_conversion_never_exceeds_the_written_number(kmh: float) -> None:
    centi = kmh_to_centi(kmh)
    written = Decimal(repr(kmh))
    assert abs(Decimal(centi) / 100) <= abs(written)
    assert abs(written) - abs(Decimal(centi) / 100) < Decimal("0.01")


@given(st.integers(min_value=-100_000, max_value=100_000))
def test_two_decimal_speeds_are_exact(centi: int) -> None:
    assert kmh_to_centi(centi / 100) == centi


@pytest.mark.parametrize(
    ("kmh", "centi"),
    [(2.3, 230), (0.09999999999999999, 9), (4.0, 400), (1.239, 123), (-1.239, -123)],
)
def test_known_speeds(kmh: float, centi: int) -> None:
    assert kmh_to_centi(kmh) == centi


@given(finite)
def test_incline_conversion_never_exceeds_the_written_number(percent: float) -> None:
    deci = percent_to_deci(percent)
    assert abs(Decimal(deci) / 10) <= abs(Decimal(repr(percent)))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True])
def test_non_numbers_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        kmh_to_centi(bad)


@given(
    value=st.integers(-10_000, 10_000),
    minimum=st.integers(-1_000, 1_000),
    increment=st.integers(-5, 200),
)
def test_floor_to_grid_is_the_highest_grid_point_not_above(
    value: int, minimum: int, increment: int
) -> None:
    step = max(increment, 1)
    got = floor_to_grid(value, minimum, increment)
    assert got <= value < got + step
    assert (got - minimum) % step == 0


def test_floor_to_grid_on_a_walking_pad() -> None:
    # A pad's 1.0-6.0 km/h in 0.5 steps: 1.4 km/h goes down to 1.0, never up to 1.5.
    assert [floor_to_grid(v, 100, 50) for v in (100, 140, 149, 150, 151, 600)] == [
        100,
        100,
        100,
        150,
        150,
        600,
    ]
    assert floor_to_grid(123, 100, 0) == 123
