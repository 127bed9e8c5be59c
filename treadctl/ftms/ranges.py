"""Supported Speed Range 0x2AD4 and Supported Inclination Range 0x2AD5 (FTMS v1.0 §4.11, §4.12).

A range whose minimum exceeds its maximum is impossible and raises FtmsDecodeError; the
caller (the link) decides how to treat a device without a usable range.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final, Self

from treadctl.ftms._wire import S16_MAX, S16_MIN, U16_MAX, BytesLike, check_int, require, trailing
from treadctl.ftms.diagnostics import Diagnostic
from treadctl.ftms.errors import FtmsDecodeError

_SPEED: Final = struct.Struct("<HHH")
_INCLINE: Final = struct.Struct("<hhH")
SPEED_WHAT: Final = "supported speed range (0x2ad4)"
INCLINE_WHAT: Final = "supported inclination range (0x2ad5)"


@dataclass(frozen=True, slots=True)
class SupportedSpeedRange:
    """Minimum, maximum and minimum increment, all u16 in 0.01 km/h (FTMS v1.0 §4.11)."""

    minimum: int
    maximum: int
    increment: int

    def __post_init__(self) -> None:
        check_int("minimum", self.minimum, 0, U16_MAX)
        check_int("maximum", self.maximum, 0, U16_MAX)
        check_int("increment", self.increment, 0, U16_MAX)
        if self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} exceeds maximum {self.maximum}")

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        data = bytes(data)
        require(data, 6, what=SPEED_WHAT, expected="min, max, increment: 3 x u16 (6 bytes)")
        minimum, maximum, increment = _SPEED.unpack_from(data)
        if minimum > maximum:
            raise FtmsDecodeError(
                f"impossible range: minimum {minimum} > maximum {maximum}",
                raw=data,
                what=SPEED_WHAT,
                expected="minimum <= maximum",
            )
        return cls(minimum, maximum, increment), trailing(data, 6, SPEED_WHAT)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return _SPEED.pack(self.minimum, self.maximum, self.increment)


@dataclass(frozen=True, slots=True)
class SupportedInclinationRange:
    """Minimum and maximum s16, increment u16, all in 0.1 % (FTMS v1.0 §4.12)."""

    minimum: int
    maximum: int
    increment: int

    def __post_init__(self) -> None:
        check_int("minimum", self.minimum, S16_MIN, S16_MAX)
        check_int("maximum", self.maximum, S16_MIN, S16_MAX)
        check_int("increment", self.increment, 0, U16_MAX)
        if self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum} exceeds maximum {self.maximum}")

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        data = bytes(data)
        require(data, 6, what=INCLINE_WHAT, expected="min s16, max s16, increment u16 (6 bytes)")
        minimum, maximum, increment = _INCLINE.unpack_from(data)
        if minimum > maximum:
            raise FtmsDecodeError(
                f"impossible range: minimum {minimum} > maximum {maximum}",
                raw=data,
                what=INCLINE_WHAT,
                expected="minimum <= maximum",
            )
        return cls(minimum, maximum, increment), trailing(data, 6, INCLINE_WHAT)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return _INCLINE.pack(self.minimum, self.maximum, self.increment)
