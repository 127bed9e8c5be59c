"""Fitness Machine Status 0x2ADA (FTMS v1.0 §4.17, Table 4.26).

Op code u8 + a parameter whose length depends on the op code. Lenient: real pads pad some
frames with zeros (``04 00 00``, ``02 01 00``): the padding is dropped with a diagnostic. A
frame shorter than its parameter keeps what was sent (the event itself, e.g. "stopped by the
user", must never be lost) and the typed accessors return None. Reserved op codes decode with
the rest of the frame as parameter and a diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Self

from treadctl.ftms._wire import U8_MAX, BytesLike, check_int
from treadctl.ftms.control_point import StopKind
from treadctl.ftms.diagnostics import PADDED_STATUS, SHORT_STATUS, UNKNOWN_STATUS_OP, Diagnostic
from treadctl.ftms.errors import FtmsDecodeError

WHAT: Final = "fitness machine status (0x2ada)"


class MachineStatusOp(IntEnum):
    """Fitness Machine Status op codes (FTMS v1.0 §4.17, Table 4.26). 0x16-0xFE reserved."""

    RESET = 0x01
    STOPPED_OR_PAUSED_BY_USER = 0x02
    STOPPED_BY_SAFETY_KEY = 0x03
    STARTED_OR_RESUMED_BY_USER = 0x04
    TARGET_SPEED_CHANGED = 0x05
    TARGET_INCLINE_CHANGED = 0x06
    TARGET_RESISTANCE_CHANGED = 0x07
    TARGET_POWER_CHANGED = 0x08
    TARGET_HEART_RATE_CHANGED = 0x09
    TARGETED_EXPENDED_ENERGY_CHANGED = 0x0A
    TARGETED_STEPS_CHANGED = 0x0B
    TARGETED_STRIDES_CHANGED = 0x0C
    TARGETED_DISTANCE_CHANGED = 0x0D
    TARGETED_TRAINING_TIME_CHANGED = 0x0E
    TARGETED_TIME_TWO_HR_ZONES_CHANGED = 0x0F
    TARGETED_TIME_THREE_HR_ZONES_CHANGED = 0x10
    TARGETED_TIME_FIVE_HR_ZONES_CHANGED = 0x11
    INDOOR_BIKE_SIMULATION_CHANGED = 0x12
    WHEEL_CIRCUMFERENCE_CHANGED = 0x13
    SPIN_DOWN_STATUS = 0x14
    TARGETED_CADENCE_CHANGED = 0x15
    CONTROL_PERMISSION_LOST = 0xFF


# Parameter length per op code (Table 4.26; resistance is u8 in FTMS v1.0).
PARAMETER_LENGTH: Final[dict[int, int]] = {
    0x01: 0,
    0x02: 1,  # u8: 0x01 stop, 0x02 pause
    0x03: 0,
    0x04: 0,
    0x05: 2,  # u16, 0.01 km/h
    0x06: 2,  # s16, 0.1 %
    0x07: 1,  # u8, 0.1
    0x08: 2,  # s16, W
    0x09: 1,  # u8, bpm
    0x0A: 2,  # u16, kcal
    0x0B: 2,  # u16, steps
    0x0C: 2,  # u16, strides
    0x0D: 3,  # u24, m
    0x0E: 2,  # u16, s
    0x0F: 4,  # 2 x u16, s
    0x10: 6,  # 3 x u16, s
    0x11: 10,  # 5 x u16, s
    0x12: 6,  # s16 wind speed, s16 grade, u8 crr, u8 cw
    0x13: 2,  # u16, 0.1 mm
    0x14: 1,  # u8 spin down status
    0x15: 2,  # u16, 0.5 rpm
    0xFF: 0,
}
_OPS: Final = {int(op): op for op in MachineStatusOp}


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """One Fitness Machine Status notification (FTMS v1.0 §4.17).

    ``op`` is a MachineStatusOp where known. ``parameter`` holds the parameter bytes as sent
    (without padding); for a known op it is at most the spec length.
    """

    op: int
    parameter: bytes = b""

    def __post_init__(self) -> None:
        check_int("op", int(self.op), 0, U8_MAX)
        if not isinstance(self.parameter, bytes):
            raise ValueError(f"parameter must be bytes, got {type(self.parameter).__name__}")
        length = PARAMETER_LENGTH.get(int(self.op))
        if length is not None and len(self.parameter) > length:
            raise ValueError(
                f"op 0x{int(self.op):02x} takes {length} parameter byte(s), "
                f"got {len(self.parameter)}"
            )

    # ------------------------------------------------------------- typed accessors
    def _int(self, op: MachineStatusOp, signed: bool = False) -> int | None:
        if self.op != op or len(self.parameter) != PARAMETER_LENGTH[op]:
            return None
        return int.from_bytes(self.parameter, "little", signed=signed)

    @property
    def stop_kind(self) -> StopKind | int | None:
        """Op 0x02: StopKind (or the raw value if reserved); None for other ops."""
        value = self._int(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER)
        if value is None:
            return None
        return StopKind(value) if value in (StopKind.STOP, StopKind.PAUSE) else value

    @property
    def target_speed(self) -> int | None:
        """Op 0x05: new target speed, 0.01 km/h."""
        return self._int(MachineStatusOp.TARGET_SPEED_CHANGED)

    @property
    def target_incline(self) -> int | None:
        """Op 0x06: new target inclination, 0.1 %."""
        return self._int(MachineStatusOp.TARGET_INCLINE_CHANGED, signed=True)

    @property
    def target_power(self) -> int | None:
        """Op 0x08: new target power, W."""
        return self._int(MachineStatusOp.TARGET_POWER_CHANGED, signed=True)

    @property
    def target_heart_rate(self) -> int | None:
        """Op 0x09: new target heart rate, bpm."""
        return self._int(MachineStatusOp.TARGET_HEART_RATE_CHANGED)

    @property
    def targeted_distance(self) -> int | None:
        """Op 0x0D: new targeted distance, m."""
        return self._int(MachineStatusOp.TARGETED_DISTANCE_CHANGED)

    @property
    def targeted_training_time(self) -> int | None:
        """Op 0x0E: new targeted training time, s."""
        return self._int(MachineStatusOp.TARGETED_TRAINING_TIME_CHANGED)

    # ------------------------------------------------------------- wire
    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        data = bytes(data)
        if not data:
            raise FtmsDecodeError(
                "empty notification", raw=data, what=WHAT, expected="an op code byte"
            )
        op_byte = data[0]
        length = PARAMETER_LENGTH.get(op_byte)
        if length is None:
            diagnostic = Diagnostic(
                UNKNOWN_STATUS_OP, f"reserved status op code 0x{op_byte:02x}; parameter kept"
            )
            return cls(op_byte, data[1:]), (diagnostic,)
        op: int = _OPS[op_byte]
        sent = len(data) - 1
        if sent == length:
            return cls(op, data[1:]), ()
        if sent > length:
            padding = data[1 + length :]
            diagnostic = Diagnostic(
                PADDED_STATUS,
                f"{len(padding)} padding byte(s) after op 0x{op_byte:02x} ignored "
                f"[{padding.hex(' ')}]",
            )
            return cls(op, data[1 : 1 + length]), (diagnostic,)
        diagnostic = Diagnostic(
            SHORT_STATUS, f"op 0x{op_byte:02x} needs {length} parameter byte(s), got {sent}"
        )
        return cls(op, data[1:]), (diagnostic,)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return bytes((int(self.op),)) + self.parameter
