"""Remarks from lenient decoding: the frame was accepted, but not as the spec writes it.

Real treadmills deviate from FTMS v1.0 in a few known ways (see docs/codec.md). The codec
accepts those frames and returns a :class:`Diagnostic` per deviation alongside the value; the
caller decides whether to log them. The codes are stable strings, listed below.
"""

from __future__ import annotations

from dataclasses import dataclass

TRAILING_BYTES = "trailing_bytes"
"""Bytes left after every field the flags announce (ignored)."""
SHORT_STEP_COUNT = "short_step_count"
"""Treadmill Data vendor bit 13 set, but fewer than 3 bytes left for the step count."""
U16_PACE = "u16_pace"
"""Treadmill Data pace fields read as u16: the frame length matches that layout only."""
IDLE_ALL_ZERO = "idle_all_zero"
"""Treadmill Data frame whose fields are all zero (sent by some pads while waking or sleeping)."""
RESERVED_FLAGS = "reserved_flags"
"""Flag bits the spec reserves were set (ignored)."""
BARE_RESULT = "bare_result"
"""Control Point response that is a bare result byte, without 0x80 and the request op code."""
EMPTY_TRAINING_STRING = "empty_training_string"
"""Training Status announces a string (flags bit 0) but carries none."""
INVALID_UTF8 = "invalid_utf8"
"""Training Status string is not valid UTF-8 (undecodable bytes replaced)."""
PADDED_STATUS = "padded_status"
"""Fitness Machine Status frame longer than its op code's parameter (padding ignored)."""
SHORT_STATUS = "short_status"
"""Fitness Machine Status frame shorter than its op code's parameter (parameter kept as sent)."""
UNKNOWN_STATUS_OP = "unknown_status_op"
"""Fitness Machine Status op code reserved in FTMS v1.0 (parameter kept as sent)."""
UNKNOWN_RESULT = "unknown_result"
"""Control Point response result code outside 0x01-0x05."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One lenient-decode remark: a stable ``code`` (constants above) and a human ``message``."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
