"""Body Sensor Location 0x2A38 (HRS v1.0 §3.2) and Battery Level 0x2A19 (BAS v1.0 §3.1).

Both are one u8. Reserved values (location 7-255, level 101-255) are kept as sent with a
``reserved_value`` diagnostic; an empty frame raises :class:`HrsDecodeError`; extra bytes are
ignored with a ``trailing_bytes`` diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Self

from treadctl.ftms._wire import U8_MAX, BytesLike, check_int
from treadctl.hrs.diagnostics import RESERVED_VALUE, TRAILING_BYTES, Diagnostic
from treadctl.hrs.errors import HrsDecodeError

LOCATION_WHAT: Final = "body sensor location (0x2a38)"
BATTERY_WHAT: Final = "battery level (0x2a19)"

LOCATION_NAMES: Final = ("other", "chest", "wrist", "finger", "hand", "ear_lobe", "foot")
"""HRS v1.0 §3.2.1, Table 3.2: values 0-6."""
BATTERY_MAX_PERCENT: Final = 100


def _one_byte(data: BytesLike, what: str, expected: str) -> tuple[int, list[Diagnostic]]:
    raw = bytes(data)
    if not raw:
        raise HrsDecodeError("empty frame", raw=raw, what=what, expected=expected)
    diagnostics: list[Diagnostic] = []
    if len(raw) > 1:
        diagnostics.append(
            Diagnostic(
                TRAILING_BYTES,
                f"{what}: {len(raw) - 1} trailing byte(s) ignored [{raw[1:].hex(' ')}]",
            )
        )
    return raw[0], diagnostics


@dataclass(frozen=True, slots=True)
class BodySensorLocation:
    """Where the sensor sits: ``code`` 0-6 per HRS (``name``), 7-255 reserved."""

    code: int

    def __post_init__(self) -> None:
        check_int("code", self.code, 0, U8_MAX)

    @property
    def name(self) -> str:
        if self.code < len(LOCATION_NAMES):
            return LOCATION_NAMES[self.code]
        return f"reserved_{self.code}"

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        code, diagnostics = _one_byte(data, LOCATION_WHAT, "a u8 location")
        if code >= len(LOCATION_NAMES):
            diagnostics.append(
                Diagnostic(RESERVED_VALUE, f"{LOCATION_WHAT}: reserved location {code}")
            )
        return cls(code), tuple(diagnostics)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return bytes([self.code])


@dataclass(frozen=True, slots=True)
class BatteryLevel:
    """Battery charge in percent (0-100; 101-255 reserved, kept as sent)."""

    percent: int

    def __post_init__(self) -> None:
        check_int("percent", self.percent, 0, U8_MAX)

    @property
    def valid(self) -> bool:
        return self.percent <= BATTERY_MAX_PERCENT

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        percent, diagnostics = _one_byte(data, BATTERY_WHAT, "a u8 percentage")
        if percent > BATTERY_MAX_PERCENT:
            diagnostics.append(
                Diagnostic(RESERVED_VALUE, f"{BATTERY_WHAT}: reserved level {percent}")
            )
        return cls(percent), tuple(diagnostics)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return bytes([self.percent])
