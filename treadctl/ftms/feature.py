"""Fitness Machine Feature characteristic 0x2ACC (FTMS v1.0 §4.3).

Two little-endian uint32 bit fields: the machine's features (§4.3.1.1) and its target-setting
features (§4.3.1.2). Real devices often get these wrong; parse data by its own flags.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import Self

from treadctl.ftms._wire import U32_MAX, BytesLike, check_int, require, trailing
from treadctl.ftms.diagnostics import Diagnostic

_FORMAT = struct.Struct("<II")


class MachineFeature(IntFlag):
    """Fitness Machine Features field (FTMS v1.0 §4.3.1.1, Table 4.2). Bits 17-31 reserved."""

    AVERAGE_SPEED = 1 << 0
    CADENCE = 1 << 1
    TOTAL_DISTANCE = 1 << 2
    INCLINATION = 1 << 3
    ELEVATION_GAIN = 1 << 4
    PACE = 1 << 5
    STEP_COUNT = 1 << 6
    RESISTANCE_LEVEL = 1 << 7
    STRIDE_COUNT = 1 << 8
    EXPENDED_ENERGY = 1 << 9
    HEART_RATE_MEASUREMENT = 1 << 10
    METABOLIC_EQUIVALENT = 1 << 11
    ELAPSED_TIME = 1 << 12
    REMAINING_TIME = 1 << 13
    POWER_MEASUREMENT = 1 << 14
    FORCE_ON_BELT_AND_POWER_OUTPUT = 1 << 15
    USER_DATA_RETENTION = 1 << 16


class TargetSettingFeature(IntFlag):
    """Target Setting Features field (FTMS v1.0 §4.3.1.2, Table 4.3). Bits 17-31 reserved."""

    SPEED_TARGET = 1 << 0
    INCLINATION_TARGET = 1 << 1
    RESISTANCE_TARGET = 1 << 2
    POWER_TARGET = 1 << 3
    HEART_RATE_TARGET = 1 << 4
    TARGETED_EXPENDED_ENERGY = 1 << 5
    TARGETED_STEP_NUMBER = 1 << 6
    TARGETED_STRIDE_NUMBER = 1 << 7
    TARGETED_DISTANCE = 1 << 8
    TARGETED_TRAINING_TIME = 1 << 9
    TARGETED_TIME_TWO_HR_ZONES = 1 << 10
    TARGETED_TIME_THREE_HR_ZONES = 1 << 11
    TARGETED_TIME_FIVE_HR_ZONES = 1 << 12
    INDOOR_BIKE_SIMULATION = 1 << 13
    WHEEL_CIRCUMFERENCE = 1 << 14
    SPIN_DOWN_CONTROL = 1 << 15
    TARGETED_CADENCE = 1 << 16


@dataclass(frozen=True, slots=True)
class FitnessMachineFeature:
    """Fitness Machine Feature value (FTMS v1.0 §4.3). Reserved bits are kept as sent."""

    machine: MachineFeature
    target_setting: TargetSettingFeature

    WHAT = "fitness machine feature (0x2acc)"

    def __post_init__(self) -> None:
        check_int("machine", int(self.machine), 0, U32_MAX)
        check_int("target_setting", int(self.target_setting), 0, U32_MAX)

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        """Decode; 8 bytes needed, extra bytes are a diagnostic."""
        data = bytes(data)
        require(data, 8, what=cls.WHAT, expected="two uint32 fields (8 bytes)")
        machine, target = _FORMAT.unpack_from(data)
        value = cls(MachineFeature(machine), TargetSettingFeature(target))
        return value, trailing(data, 8, cls.WHAT)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return _FORMAT.pack(int(self.machine), int(self.target_setting))
