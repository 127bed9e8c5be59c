"""Small shared helpers of the FTMS codec (internal)."""

from __future__ import annotations

from treadctl.ftms.diagnostics import TRAILING_BYTES, Diagnostic
from treadctl.ftms.errors import FtmsDecodeError

BytesLike = bytes | bytearray | memoryview
"""What decoders accept: bleak hands notifications over as bytearray."""

U8_MAX = 0xFF
U16_MAX = 0xFFFF
U24_MAX = 0xFF_FFFF
U32_MAX = 0xFFFF_FFFF
S16_MIN = -0x8000
S16_MAX = 0x7FFF


def check_int(name: str, value: int, low: int, high: int) -> None:
    """Raise ValueError unless ``value`` is an int (not a bool) in ``low..high``."""
    if type(value) is bool or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")


def check_optional(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None:
        check_int(name, value, low, high)


def require(data: bytes, length: int, *, what: str, expected: str) -> None:
    """Raise FtmsDecodeError if ``data`` is shorter than ``length`` bytes."""
    if len(data) < length:
        raise FtmsDecodeError(
            f"truncated: {len(data)} bytes, need {length}", raw=data, what=what, expected=expected
        )


def trailing(data: bytes, used: int, what: str) -> tuple[Diagnostic, ...]:
    """A trailing-bytes diagnostic if ``data`` is longer than ``used``, else ()."""
    extra = len(data) - used
    if extra <= 0:
        return ()
    return (
        Diagnostic(
            TRAILING_BYTES,
            f"{what}: {extra} trailing byte(s) ignored [{data[used:].hex(' ')}]",
        ),
    )
