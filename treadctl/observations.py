"""What a treadmill (or the link to it) reports: the vocabulary every layer shares.

Device ranges, merged Treadmill Data readings and device events, as the BLE link produces them
and as the governor, the session runner, the arming policy, MQTT and the tests consume them.
This is the bottom layer: it imports nothing from treadctl, so ``safety`` and ``workout`` can
use it without importing ``control``.

All values are in exact wire units: speed in 0.01 km/h, incline in 0.1 %.
Pure module: standard library only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpeedRange:
    """Supported Speed Range (FTMS 0x2AD4), 0.01 km/h."""

    minimum: int
    maximum: int
    increment: int


@dataclass(frozen=True, slots=True)
class InclineRange:
    """Supported Inclination Range (FTMS 0x2AD5), 0.1 %."""

    minimum: int
    maximum: int
    increment: int


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The Device Information Service (0x180A) strings a treadmill offers; None for each it
    does not have (docs/references.md#ble-dis)."""

    manufacturer: str | None = None
    """Manufacturer Name String (0x2A29)."""
    model_number: str | None = None
    """Model Number String (0x2A24)."""
    serial_number: str | None = None
    """Serial Number String (0x2A25)."""
    hardware_revision: str | None = None
    """Hardware Revision String (0x2A27)."""
    firmware_revision: str | None = None
    """Firmware Revision String (0x2A26)."""
    software_revision: str | None = None
    """Software Revision String (0x2A28)."""


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the link learned about the treadmill when it connected."""

    address: str
    name: str | None
    speed_range: SpeedRange | None
    """None when the device did not report one (the governor then refuses to command speed)."""
    incline_range: InclineRange | None
    """None when the device has no 0x2AD5 or its read failed: incline is not commanded."""
    identity: DeviceIdentity | None = None
    """From the Device Information Service; None when the treadmill has none."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One merged Treadmill Data record, reduced to what control and MQTT use.

    ``at`` is a monotonic timestamp (seconds, ``time.monotonic()``) of when it was received.
    Fields the device did not send are None.
    """

    at: float
    speed: int | None = None
    incline: int | None = None
    distance_m: int | None = None
    elapsed_s: int | None = None
    remaining_s: int | None = None
    energy_kcal: int | None = None
    heart_rate_bpm: int | None = None
    steps: int | None = None


class EventKind(enum.Enum):
    """Things a treadmill or the link can report that matter for safety."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    SAFETY_KEY = "safety_key"  # FTMS status 0x03, Stopped by Safety Key
    CONSOLE_STOP = "console_stop"  # FTMS status 0x02 with parameter 0x01
    CONSOLE_PAUSE = "console_pause"  # FTMS status 0x02 with parameter 0x02
    CONSOLE_START = "console_start"  # FTMS status 0x04
    CONTROL_LOST = "control_lost"  # FTMS status 0xFF
    RESET = "reset"  # FTMS status 0x01
    TARGET_SPEED_CHANGED = "target_speed_changed"  # FTMS status 0x05 (value in ``value``)
    TARGET_INCLINE_CHANGED = "target_incline_changed"  # FTMS status 0x06
    MPH_SUSPECTED = "mph_suspected"  # reported/requested speed ratio near 1.609
    TRAINING_STATUS = "training_status"  # FTMS 0x2AD3 (value: status code)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """An event with its monotonic time and an optional integer value in wire units."""

    at: float
    kind: EventKind
    value: int | None = None
    detail: str = ""
    echo: bool = False
    """The link judged this status to be the device's echo of our own procedure
    (``treadctl.ftms.control_session``), not something a person did at the console."""


Observation = Reading | DeviceEvent
