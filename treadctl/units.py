"""Exact units shared by the pure core.

Speeds are integers in 0.01 km/h ("centi-km/h"), inclines integers in 0.1 % ("deci-percent"),
as FTMS carries them on the wire (FTMS v1.0 §4.4, §4.16). Keeping integers everywhere means the
safety arithmetic (caps, increments, ramps) is exact and never rounds a speed up by accident.
"""

from __future__ import annotations

import math

KMH_PER_MPH = 1.609344
"""Statute mile in kilometres (international definition, 1959)."""


def kmh_to_centi(kmh: float) -> int:
    """km/h to 0.01 km/h, rounding toward zero so that a conversion never raises a speed."""
    if not math.isfinite(kmh):
        raise ValueError(f"speed must be a finite number, got {kmh!r}")
    # The small epsilon absorbs binary noise (2.3 * 100 == 229.99999999999997).
    return math.floor(kmh * 100 + 1e-6) if kmh >= 0 else -math.floor(-kmh * 100 + 1e-6)


def centi_to_kmh(centi: int) -> float:
    """0.01 km/h to km/h (for display and JSON only; never for safety arithmetic)."""
    return centi / 100


def percent_to_deci(percent: float) -> int:
    """Percent to 0.1 %, rounding toward zero."""
    if not math.isfinite(percent):
        raise ValueError(f"incline must be a finite number, got {percent!r}")
    sign = 1 if percent >= 0 else -1
    return sign * math.floor(abs(percent) * 10 + 1e-6)


def deci_to_percent(deci: int) -> float:
    """0.1 % to percent (for display and JSON only)."""
    return deci / 10
