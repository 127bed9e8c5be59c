"""Training Status characteristic 0x2AD3 (FTMS v1.0 §4.10).

Flags u8 (bit 0: Training Status String present, bit 1: Extended String present), status u8,
then the optional UTF-8 string. Some devices set bit 0 and send no string: that decodes as
``text=""`` with a diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Self

from treadctl.ftms._wire import U8_MAX, BytesLike, check_int, require, trailing
from treadctl.ftms.diagnostics import (
    EMPTY_TRAINING_STRING,
    INVALID_UTF8,
    RESERVED_FLAGS,
    Diagnostic,
)

WHAT: Final = "training status (0x2ad3)"
_STRING_PRESENT = 0x01
_EXTENDED_STRING = 0x02


class TrainingStatusCode(IntEnum):
    """Training Status field values (FTMS v1.0 §4.10.1.2, Table 4.20). 0x10-0xFF reserved."""

    OTHER = 0x00
    IDLE = 0x01
    WARMING_UP = 0x02
    LOW_INTENSITY_INTERVAL = 0x03
    HIGH_INTENSITY_INTERVAL = 0x04
    RECOVERY_INTERVAL = 0x05
    ISOMETRIC = 0x06
    HEART_RATE_CONTROL = 0x07
    FITNESS_TEST = 0x08
    SPEED_OUTSIDE_CONTROL_REGION_LOW = 0x09
    SPEED_OUTSIDE_CONTROL_REGION_HIGH = 0x0A
    COOL_DOWN = 0x0B
    WATT_CONTROL = 0x0C
    MANUAL_MODE = 0x0D
    PRE_WORKOUT = 0x0E
    POST_WORKOUT = 0x0F


_KNOWN_CODES: Final = {int(code): code for code in TrainingStatusCode}


@dataclass(frozen=True, slots=True)
class TrainingStatus:
    """Training Status value (FTMS v1.0 §4.10).

    ``status`` is a TrainingStatusCode when known, else the raw int. ``text`` is None when
    the string-present flag is clear. ``extended`` is flags bit 1 (the string continues in a
    later notification).
    """

    status: int
    text: str | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        check_int("status", int(self.status), 0, U8_MAX)
        if self.text is not None:
            try:
                self.text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"text is not encodable as UTF-8: {exc}") from exc

    @property
    def code(self) -> TrainingStatusCode | None:
        """The status as a TrainingStatusCode, or None for a reserved value."""
        return _KNOWN_CODES.get(int(self.status))

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        data = bytes(data)
        require(data, 2, what=WHAT, expected="flags u8 and status u8 (2 bytes)")
        flags, status_byte = data[0], data[1]
        status: int = _KNOWN_CODES.get(status_byte, status_byte)
        diagnostics: tuple[Diagnostic, ...] = ()
        if flags & ~(_STRING_PRESENT | _EXTENDED_STRING):
            diagnostics += (
                Diagnostic(RESERVED_FLAGS, f"reserved flag bits 0x{flags & 0xFC:02x} ignored"),
            )
        extended = bool(flags & _EXTENDED_STRING)
        if not flags & _STRING_PRESENT:
            return cls(status, None, extended), diagnostics + trailing(data, 2, WHAT)
        raw_text = data[2:]
        if not raw_text:
            diagnostics += (
                Diagnostic(EMPTY_TRAINING_STRING, "string flag set but no string sent"),
            )
        try:
            text = raw_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw_text.decode("utf-8", errors="replace")
            diagnostics += (Diagnostic(INVALID_UTF8, f"string is not UTF-8 ({exc.reason})"),)
        return cls(status, text, extended), diagnostics

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        flags = (_STRING_PRESENT if self.text is not None else 0) | (
            _EXTENDED_STRING if self.extended else 0
        )
        text = self.text.encode("utf-8") if self.text is not None else b""
        return bytes((flags, int(self.status))) + text
