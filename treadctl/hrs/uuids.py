"""Bluetooth SIG assigned numbers of the Heart Rate and Battery services.

Sources: docs/references.md#journey-heart-rate.
"""

from __future__ import annotations

HEART_RATE_SERVICE_UUID16 = 0x180D
"""Heart Rate Service (HRS v1.0)."""
HEART_RATE_MEASUREMENT_UUID16 = 0x2A37
"""Heart Rate Measurement (HRS v1.0 §3.1; notify)."""
BODY_SENSOR_LOCATION_UUID16 = 0x2A38
"""Body Sensor Location (HRS v1.0 §3.2; read)."""
HEART_RATE_CONTROL_POINT_UUID16 = 0x2A39
"""Heart Rate Control Point (HRS v1.0 §3.3; write: 0x01 resets Energy Expended)."""
BATTERY_SERVICE_UUID16 = 0x180F
"""Battery Service (BAS v1.0)."""
BATTERY_LEVEL_UUID16 = 0x2A19
"""Battery Level (BAS v1.0 §3.1; read, optionally notify), percent 0-100."""
