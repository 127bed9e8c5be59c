"""Typed decode error of the Heart Rate Service codec.

Every failure to decode bytes from a strap raises :class:`HrsDecodeError` (never ``IndexError``
or ``struct.error``), carrying the raw bytes as hex, the characteristic and what was expected.
Building a value out of range in our own code raises ``ValueError``.
"""

from __future__ import annotations

from treadctl.errors import RemoteProtocolError


class HrsDecodeError(RemoteProtocolError):
    """A heart-rate strap sent bytes that cannot be decoded (empty or truncated)."""

    advice = "the heart-rate sensor sent a malformed frame; the frame was ignored"

    def __init__(self, message: str, *, raw: bytes, what: str, expected: str) -> None:
        self.raw = bytes(raw)
        super().__init__(message, raw=self.raw, what=what, expected=expected)
