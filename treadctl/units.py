"""Exact units shared by the pure core.

Speeds are integers in 0.01 km/h ("centi-km/h"), inclines integers in 0.1 % ("deci-percent"),
as FTMS carries them on the wire (FTMS v1.0 §4.4, §4.16). Keeping integers everywhere means the
safety arithmetic (caps, increments, ramps) is exact and never rounds a speed up by accident.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

KMH_PER_MPH = 1.609344
"""Statute mile in kilometres (international definition, 1959)."""


def _scaled_toward_zero(value: float, factor: int, what: str) -> int:
    """``value * factor`` rounded toward zero, computed on the number's shortest decimal form.

    The decimal form is what a person typed (``2.3`` is 2.3, not 2.2999999999999998), so 2.3 km/h
    gives exactly 230, while 0.09999999999999999 gives 9: never more than the number written."""
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    scaled = Decimal(repr(float(value))) * factor
    return int(scaled.to_integral_value(rounding=ROUND_DOWN))


def kmh_to_centi(kmh: float) -> int:
    """km/h to 0.01 km/h, rounding toward zero so that a conversion never raises a speed."""
    return _scaled_toward_zero(kmh, 100, "speed")


def centi_to_kmh(centi: int) -> float:
    """0.01 km/h to km/h (for display and JSON only; never for safety arithmetic)."""
    return centi / 100


def percent_to_deci(percent: float) -> int:
    """Percent to 0.1 %, rounding toward zero."""
    return _scaled_toward_zero(percent, 10, "incline")


def deci_to_percent(deci: int) -> float:
    """0.1 % to percent (for display and JSON only)."""
    return deci / 10


def floor_to_grid(value: int, minimum: int, increment: int) -> int:
    """The highest point of the grid ``minimum + k * increment`` (integer ``k``) at or below
    ``value``: rounding to a device's increment goes down, never up (docs/safety.md).

    An increment of 0 or less means "any value" (a device that reports none): the grid is every
    integer. ``value`` below ``minimum`` gives a point below ``minimum``; range checks (refuse,
    clamp to the maximum) belong to the caller.
    """
    step = max(increment, 1)
    return minimum + (value - minimum) // step * step
