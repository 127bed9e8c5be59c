"""Bluetooth SIG assigned numbers of the Fitness Machine Service (FTMS v1.0 §3, §4)."""

from __future__ import annotations

FTMS_SERVICE_UUID16 = 0x1826
"""Fitness Machine Service (FTMS v1.0 §3)."""
FEATURE_UUID16 = 0x2ACC
"""Fitness Machine Feature (§4.3)."""
TREADMILL_DATA_UUID16 = 0x2ACD
"""Treadmill Data (§4.4)."""
TRAINING_STATUS_UUID16 = 0x2AD3
"""Training Status (§4.10)."""
SPEED_RANGE_UUID16 = 0x2AD4
"""Supported Speed Range (§4.11)."""
INCLINE_RANGE_UUID16 = 0x2AD5
"""Supported Inclination Range (§4.12)."""
CONTROL_POINT_UUID16 = 0x2AD9
"""Fitness Machine Control Point (§4.16)."""
MACHINE_STATUS_UUID16 = 0x2ADA
"""Fitness Machine Status (§4.17)."""

_BASE_SUFFIX = "-0000-1000-8000-00805f9b34fb"


def uuid128(u16: int) -> str:
    """The full 128-bit UUID string of a 16-bit SIG UUID (Core spec Vol 3 Part B §2.5.1).

    >>> uuid128(0x2ACD)
    '00002acd-0000-1000-8000-00805f9b34fb'
    """
    if not 0 <= u16 <= 0xFFFF:
        raise ValueError(f"a 16-bit UUID is 0..0xFFFF, got {u16!r}")
    return f"0000{u16:04x}{_BASE_SUFFIX}"
