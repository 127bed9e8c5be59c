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


def _check_fields(value: SupportedSpeedRange | SupportedInclinationRange, low: int) -> None:
    """Range checks shared by both types: ``low`` is the smallest minimum/maximum allowed."""
    high = U16_MAX if low == 0 else S16_MAX
    check_int("minimum", value.minimum, low, high)
    check_int("maximum", value.maximum, low, high)
    check_int("increment", value.increment, 0, U16_MAX)
    if value.minimum > value.maximum:
        raise ValueError(f"minimum {value.minimum} exceeds maximum {value.maximum}")


def _decode_fields(
    data: BytesLike, layout: struct.Struct, what: str, expected: str
) -> tuple[tuple[int, int, int], tuple[Diagnostic, ...]]:
    """Minimum, maximum and increment of a 6-byte range record, and its diagnostics."""
    raw = bytes(data)
    require(raw, 6, what=what, expected=expected)
    minimum, maximum, increment = layout.unpack_from(raw)
    if minimum > maximum:
        raise FtmsDecodeError(
            f"impossible range: minimum {minimum} > maximum {maximum}",
            raw=raw,
            what=what,
            expected="minimum <= maximum",
        )
    return (minimum, maximum, increment), trailing(raw, 6, what)


@dataclass(frozen=True, slots=True)
class SupportedSpeedRange:
    """Minimum, maximum and minimum increment, all u16 in 0.01 km/h (FTMS v1.0 §4.11)."""

    minimum: int
    maximum: int
    increment: int

    def __post_init__(self) -> None:
        _check_fields(self, 0)

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        fields, diagnostics = _decode_fields(
            data, _SPEED, SPEED_WHAT, "min, max, increment: 3 x u16 (6 bytes)"
        )
        return cls(*fields), diagnostics

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
        _check_fields(self, S16_MIN)

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        fields, diagnostics = _decode_fields(
            data, _INCLINE, INCLINE_WHAT, "min s16, max s16, increment u16 (6 bytes)"
        )
        return cls(*fields), diagnostics

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return _INCLINE.pack(self.minimum, self.maximum, self.increment)
