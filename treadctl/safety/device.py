"""Fitting values to a device's supported range and increment (FTMS v1.0 §4.11, §4.12).

Allowed values are ``minimum + k * increment`` up to ``maximum``. Rounding is always *down*
(a conversion never raises a speed) and a value below the minimum is never rounded up: the
caller gets ``None`` and must refuse the request or stop the belt. Pure module.
"""

from __future__ import annotations

from treadctl.observations import InclineRange, SpeedRange
from treadctl.safety.errors import DeviceRangeError
from treadctl.units import floor_to_grid

Range = SpeedRange | InclineRange


def check_range(rng: Range, quantity: str) -> None:
    """Raise DeviceRangeError when a reported range cannot be commanded safely."""
    if rng.increment <= 0:
        raise DeviceRangeError(quantity, f"increment {rng.increment} is not positive")
    if rng.maximum < rng.minimum:
        raise DeviceRangeError(quantity, f"maximum {rng.maximum} < minimum {rng.minimum}")


def fit_down(value: int, rng: Range) -> int | None:
    """The highest allowed device value <= ``value``, or None when ``value`` < minimum."""
    if value < rng.minimum:
        return None
    return floor_to_grid(min(value, rng.maximum), rng.minimum, rng.increment)


def ramp_step(increment: int, per_second: float, min_interval_s: float) -> int:
    """The size of one ramp step: whole device increments, at least one, no more than the
    limit allows in ``min_interval_s`` (so coarse devices take one increment every
    ``increment / per_second`` seconds, e.g. 0.5 km/h every 5 s at 0.1 km/h/s)."""
    inc = max(increment, 1)
    return inc * max(1, int(per_second * min_interval_s) // inc)
