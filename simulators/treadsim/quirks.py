"""Named real-device quirks the simulator can reproduce (see docs/simulator.md).

Each flag copies a behaviour reported for real FTMS treadmills (``docs/references.md#ftms-devices``
and the CITYSPORTS captures). Without flags the simulator
follows the FTMS v1.0 specification strictly.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Quirk(StrEnum):
    """One named deviation from FTMS v1.0."""

    START_IS_A_TOGGLE = "start-is-a-toggle"
    """Start or Resume (0x07) while the belt runs stops it (answered Success)."""
    TARGET_SPEED_IN_MPH = "target-speed-in-mph"
    """Set Target Speed is read as 0.01 mph: the belt runs 1.609 times faster than asked."""
    SPEED_RANGE_IN_MPH = "speed-range-in-mph"
    """Supported Speed Range (0x2AD4) is reported in 0.01 mph, data stays in km/h."""
    MIN_SPEED_REVERT = "min-speed-revert"
    """A target below the minimum is answered Success and the belt silently goes to the minimum."""
    COLD_START_DISCONNECT = "cold-start-disconnect"
    """A speed written while the motor spins up after Start (belt still at 0) drops the link."""
    INDICATE_BEFORE_WRITE_RESPONSE = "indicate-before-write-response"
    """Status notifications and the indication are sent before the ATT Write Response."""
    BARE_RESULT_BYTE = "bare-result-byte"
    """The control point indication is only the result byte (no 0x80, no op code)."""
    VENDOR_STEP_COUNT = "vendor-step-count"
    """Treadmill Data carries a u24 step count under the reserved flag bit 13."""
    ZERO_FRAME_SPAM = "zero-frame-spam"
    """While the belt stands still, Treadmill Data frames are all zero bytes, 4 times as often."""
    NO_INCLINATION_RANGE = "no-inclination-range"
    """No Supported Inclination Range characteristic (0x2AD5) and no incline control."""
    TRAINING_STATUS_READ_FAILS = "training-status-read-fails"
    """Reading Training Status (0x2AD3) fails with ATT error 0x0E (Unlikely Error)."""
    CONSOLE_LOCK_WHILE_CONTROLLED = "console-lock-while-controlled"
    """Console start/pause/stop/speed buttons do nothing while a client holds control."""
    NO_SERVICE_DATA = "no-service-data"
    """Advertising carries the 0x1826 UUID but no FTMS Service Data."""
    PADDED_STATUS_FRAMES = "padded-status-frames"
    """Machine Status frames are padded with zero bytes to at least 3 bytes (04 00 00)."""
    EMPTY_TRAINING_STRING = "empty-training-string"
    """Training Status sets flag bit 0 (string present) with an empty string (01 0e)."""
    PERMISSIVE_CONTROL = "permissive-control"
    """Procedures succeed without Request Control (no 0x05 answer)."""
    START_WHILE_RUNNING_SUCCEEDS = "start-while-running-succeeds"
    """Start while already started is answered Success instead of Operation Failed."""


def parse_quirks(names: Iterable[str]) -> frozenset[Quirk]:
    """Quirk names (as in presets and on the command line) to flags; unknown names raise."""
    result: set[Quirk] = set()
    for name in names:
        try:
            result.add(Quirk(name.strip()))
        except ValueError:
            known = ", ".join(q.value for q in Quirk)
            raise ValueError(f"unknown quirk {name!r}; known: {known}") from None
    return frozenset(result)
