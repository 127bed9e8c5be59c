"""Fitness Machine Control Point 0x2AD9 requests (FTMS v1.0 §4.16.1, Table 4.15).

One frozen dataclass per procedure, each with ``op_code`` and ``__bytes__``; the server side
parses a written value with :func:`parse_control_request`. Responses are in control_response.py.

Control Point requests are checked strictly: the parameter must have exactly the length of
its op code (a server answers anything else with 0x03 Invalid Parameter, §4.16.2.22).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Self, TypeVar

from treadctl.ftms._wire import S16_MAX, S16_MIN, U8_MAX, U16_MAX, U24_MAX, BytesLike, check_int
from treadctl.ftms.errors import FtmsDecodeError, InvalidParameterError, UnknownOpCodeError

WHAT: Final = "control point request (0x2ad9)"
_T = TypeVar("_T")


class OpCode(IntEnum):
    """Control Point op codes (FTMS v1.0 §4.16.1, Table 4.15) used by treadmills."""

    REQUEST_CONTROL = 0x00
    RESET = 0x01
    SET_TARGET_SPEED = 0x02
    SET_TARGET_INCLINATION = 0x03
    SET_TARGET_RESISTANCE = 0x04
    SET_TARGET_POWER = 0x05
    SET_TARGET_HEART_RATE = 0x06
    START_OR_RESUME = 0x07
    STOP_OR_PAUSE = 0x08
    SET_TARGETED_EXPENDED_ENERGY = 0x09
    SET_TARGETED_STEPS = 0x0A
    SET_TARGETED_STRIDES = 0x0B
    SET_TARGETED_DISTANCE = 0x0C
    SET_TARGETED_TRAINING_TIME = 0x0D
    RESPONSE_CODE = 0x80


class StopKind(IntEnum):
    """Parameter of Stop or Pause (§4.16.2.9) and of Status 0x02 (§4.17, Table 4.26)."""

    STOP = 0x01
    PAUSE = 0x02


@dataclass(frozen=True, slots=True)
class RequestControl:
    """0x00 Request Control (§4.16.2.1): ask for permission to control the machine."""

    op_code: ClassVar[OpCode] = OpCode.REQUEST_CONTROL

    def __bytes__(self) -> bytes:
        return b"\x00"

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class Reset:
    """0x01 Reset (§4.16.2.2). Also ends the control permission."""

    op_code: ClassVar[OpCode] = OpCode.RESET

    def __bytes__(self) -> bytes:
        return b"\x01"

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetSpeed:
    """0x02 Set Target Speed (§4.16.2.3): ``speed`` u16 in 0.01 km/h."""

    speed: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGET_SPEED

    def __post_init__(self) -> None:
        check_int("speed", self.speed, 0, U16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<BH", self.op_code, self.speed)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetInclination:
    """0x03 Set Target Inclination (§4.16.2.4): ``incline`` s16 in 0.1 %."""

    incline: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGET_INCLINATION

    def __post_init__(self) -> None:
        check_int("incline", self.incline, S16_MIN, S16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<Bh", self.op_code, self.incline)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetResistance:
    """0x04 Set Target Resistance Level (§4.16.2.5): ``level`` u8, resolution 0.1 (v1.0)."""

    level: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGET_RESISTANCE

    def __post_init__(self) -> None:
        check_int("level", self.level, 0, U8_MAX)

    def __bytes__(self) -> bytes:
        return bytes((self.op_code, self.level))

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetPower:
    """0x05 Set Target Power (§4.16.2.6): ``watts`` s16 in W."""

    watts: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGET_POWER

    def __post_init__(self) -> None:
        check_int("watts", self.watts, S16_MIN, S16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<Bh", self.op_code, self.watts)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetHeartRate:
    """0x06 Set Target Heart Rate (§4.16.2.7): ``bpm`` u8."""

    bpm: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGET_HEART_RATE

    def __post_init__(self) -> None:
        check_int("bpm", self.bpm, 0, U8_MAX)

    def __bytes__(self) -> bytes:
        return bytes((self.op_code, self.bpm))

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class StartOrResume:
    """0x07 Start or Resume (§4.16.2.8). A toggle on some pads: never send it to a moving belt."""

    op_code: ClassVar[OpCode] = OpCode.START_OR_RESUME

    def __bytes__(self) -> bytes:
        return b"\x07"

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class StopOrPause:
    """0x08 Stop or Pause (§4.16.2.9): ``kind`` u8, 0x01 stop, 0x02 pause."""

    kind: StopKind
    op_code: ClassVar[OpCode] = OpCode.STOP_OR_PAUSE

    def __post_init__(self) -> None:
        if self.kind not in (StopKind.STOP, StopKind.PAUSE):
            raise ValueError(f"kind must be StopKind.STOP or StopKind.PAUSE, got {self.kind!r}")

    def __bytes__(self) -> bytes:
        return bytes((self.op_code, int(self.kind)))

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetedExpendedEnergy:
    """0x09 Set Targeted Expended Energy (§4.16.2.10): ``kcal`` u16."""

    kcal: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGETED_EXPENDED_ENERGY

    def __post_init__(self) -> None:
        check_int("kcal", self.kcal, 0, U16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<BH", self.op_code, self.kcal)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetedSteps:
    """0x0A Set Targeted Number of Steps (§4.16.2.11): ``steps`` u16."""

    steps: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGETED_STEPS

    def __post_init__(self) -> None:
        check_int("steps", self.steps, 0, U16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<BH", self.op_code, self.steps)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetedStrides:
    """0x0B Set Targeted Number of Strides (§4.16.2.12): ``strides`` u16."""

    strides: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGETED_STRIDES

    def __post_init__(self) -> None:
        check_int("strides", self.strides, 0, U16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<BH", self.op_code, self.strides)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetedDistance:
    """0x0C Set Targeted Distance (§4.16.2.13): ``distance_m`` u24 in m."""

    distance_m: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGETED_DISTANCE

    def __post_init__(self) -> None:
        check_int("distance_m", self.distance_m, 0, U24_MAX)

    def __bytes__(self) -> bytes:
        return bytes((self.op_code,)) + self.distance_m.to_bytes(3, "little")

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


@dataclass(frozen=True, slots=True)
class SetTargetedTrainingTime:
    """0x0D Set Targeted Training Time (§4.16.2.14): ``seconds`` u16."""

    seconds: int
    op_code: ClassVar[OpCode] = OpCode.SET_TARGETED_TRAINING_TIME

    def __post_init__(self) -> None:
        check_int("seconds", self.seconds, 0, U16_MAX)

    def __bytes__(self) -> bytes:
        return struct.pack("<BH", self.op_code, self.seconds)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return _parse_as(cls, data)


ControlRequest = (
    RequestControl
    | Reset
    | SetTargetSpeed
    | SetTargetInclination
    | SetTargetResistance
    | SetTargetPower
    | SetTargetHeartRate
    | StartOrResume
    | StopOrPause
    | SetTargetedExpendedEnergy
    | SetTargetedSteps
    | SetTargetedStrides
    | SetTargetedDistance
    | SetTargetedTrainingTime
)

# Parameter length per op code (Table 4.15).
_PARAMETER_LENGTH: Final = {
    0x00: 0,
    0x01: 0,
    0x02: 2,
    0x03: 2,
    0x04: 1,
    0x05: 2,
    0x06: 1,
    0x07: 0,
    0x08: 1,
    0x09: 2,
    0x0A: 2,
    0x0B: 2,
    0x0C: 3,
    0x0D: 2,
}


def parse_control_request(data: BytesLike) -> ControlRequest:
    """Parse a value written to the Control Point (server side, FTMS v1.0 §4.16).

    Raises UnknownOpCodeError (answer 0x02) for an op code not listed in OpCode, and
    InvalidParameterError (answer 0x03) for a parameter of the wrong length or value.
    """
    data = bytes(data)
    if not data:
        raise FtmsDecodeError(
            "empty write", raw=data, what=WHAT, expected="an op code byte and its parameter"
        )
    op = data[0]
    length = _PARAMETER_LENGTH.get(op)
    if length is None:
        raise UnknownOpCodeError(op, raw=data)
    if len(data) != 1 + length:
        raise InvalidParameterError(
            op,
            f"parameter of {len(data) - 1} byte(s) for op code 0x{op:02x}",
            raw=data,
            expected=f"{length} parameter byte(s)",
        )
    if op == 0x00:
        return RequestControl()
    if op == 0x01:
        return Reset()
    if op == 0x02:
        return SetTargetSpeed(int.from_bytes(data[1:3], "little"))
    if op == 0x03:
        return SetTargetInclination(int.from_bytes(data[1:3], "little", signed=True))
    if op == 0x04:
        return SetTargetResistance(data[1])
    if op == 0x05:
        return SetTargetPower(int.from_bytes(data[1:3], "little", signed=True))
    if op == 0x06:
        return SetTargetHeartRate(data[1])
    if op == 0x07:
        return StartOrResume()
    if op == 0x08:
        if data[1] not in (StopKind.STOP, StopKind.PAUSE):
            raise InvalidParameterError(
                op,
                f"stop or pause parameter 0x{data[1]:02x}",
                raw=data,
                expected="0x01 (stop) or 0x02 (pause)",
            )
        return StopOrPause(StopKind(data[1]))
    if op == 0x09:
        return SetTargetedExpendedEnergy(int.from_bytes(data[1:3], "little"))
    if op == 0x0A:
        return SetTargetedSteps(int.from_bytes(data[1:3], "little"))
    if op == 0x0B:
        return SetTargetedStrides(int.from_bytes(data[1:3], "little"))
    if op == 0x0C:
        return SetTargetedDistance(int.from_bytes(data[1:4], "little"))
    return SetTargetedTrainingTime(int.from_bytes(data[1:3], "little"))


def _parse_as(cls: type[_T], data: BytesLike) -> _T:
    request = parse_control_request(data)
    if not isinstance(request, cls):
        raise FtmsDecodeError(
            f"op code 0x{request.op_code:02x} is not {cls.__name__}",
            raw=bytes(data),
            what=WHAT,
            expected=f"a {cls.__name__} request",
        )
    return request
