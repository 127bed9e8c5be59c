"""Remarks from lenient decoding of strap frames (the ``Diagnostic`` type is the FTMS codec's).

Codes shared with the FTMS codec: ``trailing_bytes``, ``reserved_flags``. Codes of this codec:
"""

from __future__ import annotations

from treadctl.ftms.diagnostics import RESERVED_FLAGS, TRAILING_BYTES, Diagnostic

EMPTY_RR = "empty_rr"
"""Heart Rate Measurement announces RR intervals (flags bit 4) but carries none."""
RESERVED_VALUE = "reserved_value"
"""Body Sensor Location 7-255 or Battery Level 101-255: reserved by the spec (kept as sent)."""

__all__ = ["EMPTY_RR", "RESERVED_FLAGS", "RESERVED_VALUE", "TRAILING_BYTES", "Diagnostic"]
