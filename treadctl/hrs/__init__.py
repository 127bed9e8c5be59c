"""The Heart Rate Service codec: heart-rate strap wire types (pure, stdlib only).

Heart Rate Measurement 0x2A37, Body Sensor Location 0x2A38 (Heart Rate Service 0x180D) and
Battery Level 0x2A19 (Battery Service 0x180F), each a frozen dataclass with ``from_bytes`` /
``__bytes__`` / ``decode`` like :mod:`treadctl.ftms`. See docs/heart-rate.md.
"""

from treadctl.hrs.errors import HrsDecodeError
from treadctl.hrs.measurement import HeartRateMeasurement, SensorContact
from treadctl.hrs.sample import HeartRateItem, HeartRateSample, HeartRateSource, SensorStatus
from treadctl.hrs.sensor import BatteryLevel, BodySensorLocation
from treadctl.hrs.uuids import (
    BATTERY_LEVEL_UUID16,
    BATTERY_SERVICE_UUID16,
    BODY_SENSOR_LOCATION_UUID16,
    HEART_RATE_CONTROL_POINT_UUID16,
    HEART_RATE_MEASUREMENT_UUID16,
    HEART_RATE_SERVICE_UUID16,
)

__all__ = [
    "BATTERY_LEVEL_UUID16",
    "BATTERY_SERVICE_UUID16",
    "BODY_SENSOR_LOCATION_UUID16",
    "HEART_RATE_CONTROL_POINT_UUID16",
    "HEART_RATE_MEASUREMENT_UUID16",
    "HEART_RATE_SERVICE_UUID16",
    "BatteryLevel",
    "BodySensorLocation",
    "HeartRateItem",
    "HeartRateMeasurement",
    "HeartRateSample",
    "HeartRateSource",
    "HrsDecodeError",
    "SensorContact",
    "SensorStatus",
]
