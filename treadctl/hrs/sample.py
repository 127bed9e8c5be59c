"""Heart-rate observations as the rest of treadctl sees them, whatever their source (pure).

A :class:`HeartRateSample` is one value from a sensor with its time and contact state; a
:class:`SensorStatus` says that a sensor came, went, or reported its battery. The strap link
(treadctl/ble/strap.py) and the treadmill's Treadmill Data heart-rate field both produce
samples; the heart-rate guard (treadctl/safety/heart_rate.py) consumes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from treadctl.hrs.measurement import SensorContact


class HeartRateSource(enum.Enum):
    STRAP = "strap"
    """A Heart Rate Service sensor (chest strap, arm band, watch broadcasting HRS)."""
    TREADMILL = "treadmill"
    """The treadmill's own Treadmill Data heart-rate field (hand grips or a paired sensor)."""


@dataclass(frozen=True, slots=True)
class HeartRateSample:
    """One heart-rate value. ``at``: monotonic seconds; ``bpm`` as the sensor sent it."""

    at: float
    bpm: int
    contact: SensorContact
    source: HeartRateSource
    rr_intervals: tuple[int, ...] = ()
    """1/1024 s each, as sent (HRS v1.0 §3.1)."""
    energy_kj: int | None = None


@dataclass(frozen=True, slots=True)
class SensorStatus:
    """A heart-rate sensor connected, disconnected (``retry_in_s``: next attempt), or reported
    its battery (``battery_percent``) or location (``location``, e.g. ``chest``)."""

    at: float
    source: HeartRateSource
    connected: bool
    reason: str = ""
    battery_percent: int | None = None
    location: str | None = None
    retry_in_s: float | None = None


HeartRateItem = HeartRateSample | SensorStatus
