"""Real-device rules of the link as pure functions (no I/O): device range, mph check.

The governor applies the user-facing limits (cap, ramps); these rules protect against what real
treadmills do (``docs/references.md#ftms-devices``) and are
enforced by the link on every command regardless of who sent it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from treadctl.ble.errors import InclineOutOfRange, SpeedOutOfRange
from treadctl.observations import InclineRange, SpeedRange
from treadctl.units import KMH_PER_MPH, floor_to_grid


def device_speed(requested: int, speed_range: SpeedRange | None) -> int:
    """The speed to send for ``requested`` (0.01 km/h), never above what was asked.

    Above the device maximum: the maximum (lower is the safe side). Between grid points: the
    grid point below (FTMS §4.16.2.3 asks for a multiple of the Supported Speed Range increment).
    Below the device minimum: refused with :class:`SpeedOutOfRange`, never rounded up (many pads
    cannot go below 0.5-1.0 km/h and silently revert a lower target;
    docs/references.md#ftms-devices).
    """
    if speed_range is None:
        raise SpeedOutOfRange(requested, None, None)
    if requested < speed_range.minimum:
        raise SpeedOutOfRange(requested, speed_range.minimum, speed_range.maximum)
    capped = min(requested, speed_range.maximum)
    return floor_to_grid(capped, speed_range.minimum, speed_range.increment)


def device_incline(requested: int, incline_range: InclineRange | None) -> int:
    """The incline to send for ``requested`` (0.1 %): clamped down to the maximum, floored to
    the increment grid, refused below the minimum or when 0x2AD5 is missing (FTMS §4.16.2.4)."""
    if incline_range is None:
        raise InclineOutOfRange(requested, None, None)
    if requested < incline_range.minimum:
        raise InclineOutOfRange(requested, incline_range.minimum, incline_range.maximum)
    capped = min(requested, incline_range.maximum)
    return floor_to_grid(capped, incline_range.minimum, incline_range.increment)


MPH_RATIO = KMH_PER_MPH
"""Reported/requested speed ratio of a device that reads targets as 0.01 mph
(docs/references.md#ftms-devices)."""
MPH_TOLERANCE = 0.06
"""Accepted deviation from 1.609 (or 1/1.609): belts settle within a few percent of target."""
MPH_STABLE_READINGS = 3
"""Consecutive readings that must agree before a ratio is judged (a belt ramping through a
speed must not trip the check)."""
MPH_STABLE_SPREAD = 5
"""Readings within 0.05 km/h of each other count as settled: a belt ramping at the slowest rate
seen (0.3 km/h per second, docs/references.md#ftms-devices) with a reading every ~190 ms moves 0.11
km/h over three."""


@dataclass
class MphCheck:
    """Watches reported speeds after a Set Target Speed for a ~1.609 ratio (either direction).

    ``expect(target)`` after each accepted speed change; ``observe(speed)`` per reading returns
    the ratio once when it settles near 1.609 or 1/1.609, else None.
    """

    target: int | None = None
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=MPH_STABLE_READINGS))

    def expect(self, target: int) -> None:
        self.target = target if target > 0 else None
        self.recent.clear()

    def observe(self, speed: int) -> float | None:
        if self.target is None:
            return None
        self.recent.append(speed)
        if len(self.recent) < MPH_STABLE_READINGS:
            return None
        if max(self.recent) - min(self.recent) > MPH_STABLE_SPREAD:
            return None
        ratio = speed / self.target
        for suspect in (MPH_RATIO, 1 / MPH_RATIO):
            if abs(ratio - suspect) <= MPH_TOLERANCE * suspect:
                self.target = None  # report once per speed change
                return ratio
        if abs(ratio - 1.0) <= MPH_TOLERANCE:
            self.target = None  # settled at the request: nothing more to check
        return None
