"""Typed decode errors of the FTMS codec.

Every failure to decode bytes from a peer raises :class:`FtmsDecodeError` (or a subclass), never
``IndexError``, ``struct.error`` or ``AssertionError``. Misuse of the codec by our own code
(building a value out of range) raises ``ValueError``.
"""

from __future__ import annotations

from treadctl.errors import RemoteProtocolError


class FtmsDecodeError(RemoteProtocolError):
    """A peer sent FTMS bytes that cannot be decoded (truncated, empty or impossible).

    ``raw`` holds the bytes, ``raw_hex`` the same as hex, ``what`` the characteristic or
    message, ``expected`` what the decoder needed at the point it failed.
    """

    advice = "the device sent a malformed FTMS frame; the frame was ignored"

    def __init__(self, message: str, *, raw: bytes, what: str, expected: str) -> None:
        self.raw = bytes(raw)
        super().__init__(message, raw=self.raw, what=what, expected=expected)


class UnknownOpCodeError(FtmsDecodeError):
    """A Control Point request with an op code this codec does not know (FTMS v1.0 §4.16.1).

    A server answers it with result code 0x02 "Op Code not supported" (§4.16.2.22).
    """

    def __init__(self, op_code: int, *, raw: bytes) -> None:
        self.op_code = op_code
        super().__init__(
            f"unknown control point op code 0x{op_code:02x}",
            raw=raw,
            what="control point request",
            expected="a request op code 0x00-0x0d",
        )


class InvalidParameterError(FtmsDecodeError):
    """A known Control Point request whose parameter has the wrong length or value.

    A server answers it with result code 0x03 "Invalid Parameter" (FTMS v1.0 §4.16.2.22).
    """

    def __init__(self, op_code: int, message: str, *, raw: bytes, expected: str) -> None:
        self.op_code = op_code
        super().__init__(message, raw=raw, what="control point request", expected=expected)
