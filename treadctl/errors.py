"""The one root of treadctl's errors.

Errors carry data, not just text. *Local* errors mean we misused a protocol or an API;
*remote* errors mean the peer (a treadmill, a broker, a file) sent something we cannot accept.
Adapters translate library exceptions into these at their boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class TreadctlError(Exception):
    """Root of every error treadctl raises on purpose."""

    advice: str = ""

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.advice})" if self.advice else text


class LocalProtocolError(TreadctlError):
    """We tried to build or send something the protocol does not allow."""


class RemoteProtocolError(TreadctlError):
    """A peer sent bytes that cannot be decoded.

    Carries the raw bytes (as hex), the characteristic or message it came from, and what was
    expected at the point decoding failed.
    """

    def __init__(self, message: str, *, raw: bytes, what: str, expected: str) -> None:
        self.raw_hex = raw.hex(" ")
        self.what = what
        self.expected = expected
        super().__init__(f"{what}: {message}; expected {expected}; raw [{self.raw_hex}]")
