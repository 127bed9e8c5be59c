"""Treadmill Data characteristic 0x2ACD (FTMS v1.0 §4.4), with the vendor step count.

Flags (u16) come first, then the fields whose flag is set, in bit order (Table 4.7). Bit 0 is
inverted: 0 means Instantaneous Speed is present and, as "More Data" = 0, that this is the last
fragment of a record (§4.19). Bit 13 is reserved by the spec; CITYSPORTS, Urevo, KingSmith and
other pads use it for a u24 step count after all standard fields.

Values stay in their wire units, as ints (see the field comments). ``None`` means the field is
absent or carries the spec's "data not available" value.

Leniency (each returns a Diagnostic, see docs/codec.md): trailing bytes, bit 13 with fewer than
3 bytes left, a device sending u16 pace (detected by the frame length), all-zero idle frames and
reserved flag bits 14-15. A frame shorter than its flags announce raises FtmsDecodeError.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import IntFlag
from typing import Any, Final

from treadctl.ftms._wire import (
    S16_MAX,
    S16_MIN,
    U8_MAX,
    U16_MAX,
    U24_MAX,
    BytesLike,
    check_optional,
)
from treadctl.ftms.diagnostics import (
    IDLE_ALL_ZERO,
    RESERVED_FLAGS,
    SHORT_STEP_COUNT,
    TRAILING_BYTES,
    U16_PACE,
    Diagnostic,
)
from treadctl.ftms.errors import FtmsDecodeError
from treadctl.ftms.fields import STANDARD_BITS, TREADMILL_DATA_FIELDS, fields_of_bit

WHAT: Final = "treadmill data (0x2acd)"


class TreadmillDataFlag(IntFlag):
    """Treadmill Data flags (FTMS v1.0 §4.4.1, Table 4.7), plus the vendor bit 13."""

    MORE_DATA = 1 << 0
    AVERAGE_SPEED = 1 << 1
    TOTAL_DISTANCE = 1 << 2
    INCLINATION_AND_RAMP_ANGLE = 1 << 3
    ELEVATION_GAIN = 1 << 4
    INSTANTANEOUS_PACE = 1 << 5
    AVERAGE_PACE = 1 << 6
    EXPENDED_ENERGY = 1 << 7
    HEART_RATE = 1 << 8
    METABOLIC_EQUIVALENT = 1 << 9
    ELAPSED_TIME = 1 << 10
    REMAINING_TIME = 1 << 11
    FORCE_ON_BELT_AND_POWER_OUTPUT = 1 << 12
    STEP_COUNT = 1 << 13
    """Reserved in FTMS v1.0; vendor step count (u24) on many walking pads."""


STANDARD_FLAGS_MASK: Final = 0x1FFF
KNOWN_FLAGS_MASK: Final = 0x3FFF
_STEP = int(TreadmillDataFlag.STEP_COUNT)
_PACE_BITS = int(TreadmillDataFlag.INSTANTANEOUS_PACE | TreadmillDataFlag.AVERAGE_PACE)

# One entry per flag bit 0..12: the fields it carries, each (name, struct code, "not
# available" value or None), from the one field table (treadctl.ftms.fields). "T" stands for a
# u24, read as H + B; "P" for pace (B, or H on a u16-pace device).
_PACE = "P"
_U24 = "T"
_CODES: Final = {"u8": "B", "u16": "H", "s16": "h", "u24": _U24, "pace": _PACE}
_GROUPS: Final[tuple[tuple[tuple[str, str, int | None], ...], ...]] = tuple(
    tuple((f.name, _CODES[f.wire], f.not_available) for f in fields_of_bit(bit))
    for bit in range(STANDARD_BITS)
)


def _struct_code(code: str, wide_pace: bool) -> str:
    """struct format of one field: u24 as H + B, pace as B (H on a u16-pace device)."""
    if code == _U24:
        return "HB"
    if code == _PACE:
        return "H" if wide_pace else "B"
    return code


def _group_present(flags: int, bit: int) -> bool:
    return not flags & 1 if bit == 0 else bool(flags >> bit & 1)


@dataclass(frozen=True, slots=True)
class TreadmillData:
    """One Treadmill Data frame or merged record (FTMS v1.0 §4.4). Each field is an int in its
    wire unit; units and wire types are in the one field table, ``treadctl.ftms.fields``.

    ``more_data`` is flag bit 0: True exactly when ``instantaneous_speed`` is None (a fragment
    that is not the last one of a record, §4.19). ``wide_pace`` records a device that sends
    the pace fields as u16 (so that such a frame encodes back to the same layout).
    """

    more_data: bool = False
    instantaneous_speed: int | None = None
    average_speed: int | None = None
    total_distance: int | None = None
    inclination: int | None = None
    ramp_angle: int | None = None
    positive_elevation_gain: int | None = None
    negative_elevation_gain: int | None = None
    instantaneous_pace: int | None = None
    average_pace: int | None = None
    total_energy: int | None = None
    energy_per_hour: int | None = None
    energy_per_minute: int | None = None
    heart_rate: int | None = None
    metabolic_equivalent: int | None = None
    elapsed_time: int | None = None
    remaining_time: int | None = None
    force_on_belt: int | None = None
    power_output: int | None = None
    step_count: int | None = None
    wide_pace: bool = False

    def __post_init__(self) -> None:
        if bool(self.more_data) != (self.instantaneous_speed is None):
            raise ValueError(
                "more_data must be True exactly when instantaneous_speed is None "
                "(FTMS v1.0 §4.4.1 bit 0; the last fragment carries the speed)"
            )
        pace_max = U16_MAX if self.wide_pace else U8_MAX
        for _bit, group in enumerate(_GROUPS):
            for name, code, na in group:
                value = getattr(self, name)
                if code == _U24:
                    check_optional(name, value, 0, U24_MAX)
                elif code == _PACE:
                    check_optional(name, value, 0, pace_max)
                else:
                    low, high = {"H": (0, U16_MAX), "h": (S16_MIN, S16_MAX), "B": (0, U8_MAX)}[code]
                    if na is not None and na == high:
                        high -= 1  # the top value means "not available": use None
                    check_optional(name, value, low, high)
        check_optional("step_count", self.step_count, 0, U24_MAX)
        if (self.positive_elevation_gain is None) != (self.negative_elevation_gain is None):
            raise ValueError(
                "positive and negative elevation gain are sent together (FTMS v1.0 §4.4.1 "
                "bit 4) and have no 'not available' value: set both or neither"
            )
        if self.wide_pace and self.instantaneous_pace is None and self.average_pace is None:
            raise ValueError("wide_pace needs a pace field (it only changes the pace width)")

    # ----------------------------------------------------------------- convenience
    @property
    def speed_kmh(self) -> float | None:
        """Instantaneous speed in km/h, for display only (use the 0.01 km/h int otherwise)."""
        speed = self.instantaneous_speed
        return None if speed is None else speed / 100

    @property
    def flags(self) -> TreadmillDataFlag:
        """The flags this value encodes with."""
        return TreadmillDataFlag(_flags_of(self))

    # ----------------------------------------------------------------- decoding
    @classmethod
    def decode(cls, data: BytesLike) -> tuple[TreadmillData, tuple[Diagnostic, ...]]:
        """Decode one notification; diagnostics list every lenient step taken."""
        return _decode(data if type(data) is bytes else bytes(data))

    @classmethod
    def from_bytes(cls, data: BytesLike) -> TreadmillData:
        return _decode(data if type(data) is bytes else bytes(data))[0]

    # ----------------------------------------------------------------- encoding
    def __bytes__(self) -> bytes:
        flags = _flags_of(self)
        layout = _layout(flags, self.wide_pace)
        values: list[int] = []
        for name, code, na in layout.fields:
            value = getattr(self, name)
            if value is None:
                value = na if na is not None else 0
            if code == _U24:
                values.append(value & 0xFFFF)
                values.append(value >> 16)
            else:
                values.append(value)
        return layout.struct.pack(flags, *values)


FIELD_NAMES: Final = tuple(f.name for f in fields(TreadmillData))


def _flags_of(record: TreadmillData) -> int:
    flags = 1 if record.instantaneous_speed is None else 0
    for bit in range(1, len(_GROUPS)):
        for name, _code, _na in _GROUPS[bit]:
            if getattr(record, name) is not None:
                flags |= 1 << bit
                break
    if record.step_count is not None:
        flags |= _STEP
    return flags


def group_fields(record: TreadmillData) -> list[tuple[tuple[str, ...], int]]:
    """The present flag groups of ``record`` except the speed, in wire order.

    Each entry: the field names of one flag bit (always sent together) and their wire size.
    Used to split a record into More Data fragments (§4.19).
    """
    flags = _flags_of(record)
    out: list[tuple[tuple[str, ...], int]] = []
    for bit in range(1, len(_GROUPS)):
        if flags >> bit & 1:
            group = _GROUPS[bit]
            size = sum(
                struct.calcsize("<" + _struct_code(code, record.wide_pace))
                for _name, code, _na in group
            )
            out.append((tuple(name for name, _code, _na in group), size))
    if flags & _STEP:
        out.append((("step_count",), 3))
    return out


class _Unfrozen:
    """TreadmillData's slot layout without its frozen ``__setattr__`` (decode fast path).

    The decoder fills one of these with plain attribute stores and then sets its class to
    TreadmillData: the result is an ordinary TreadmillData, built about four times faster
    than through ``object.__setattr__`` per field. CPython allows the class change because
    both classes have exactly the same slots; this is checked once at import below.
    """

    __slots__ = FIELD_NAMES


class _Layout:
    """The wire layout of one flags value, with a decoder generated for it (cached).

    The generated decoder is straight-line code: one ``struct.unpack_from`` and one
    attribute store per field, like the ``__init__`` that ``dataclasses`` generates. Its
    source is kept in ``source`` for inspection.
    """

    __slots__ = ("decode", "fields", "size", "source", "standard_size", "struct")

    def __init__(self, flags: int, wide_pace: bool) -> None:
        fmt = ["<H"]
        field_list: list[tuple[str, str, int | None]] = []
        for bit, group in enumerate(_GROUPS):
            if _group_present(flags, bit):
                for name, code, na in group:
                    field_list.append((name, code, na))
                    fmt.append(_struct_code(code, wide_pace))
        self.standard_size = struct.calcsize("".join(fmt))
        if flags & _STEP:
            field_list.append(("step_count", _U24, None))
            fmt.append("HB")
        self.struct = struct.Struct("".join(fmt))
        self.size = self.struct.size
        self.fields = tuple(field_list)
        self.source = _decoder_source(flags, wide_pace, self.fields)
        namespace: dict[str, Any] = {
            "unpack": self.struct.unpack_from,
            "new": object.__new__,
            "Unfrozen": _Unfrozen,
            "Record": TreadmillData,
        }
        exec(self.source, namespace)  # the source is built from this module's constants only
        self.decode: Callable[[bytes], TreadmillData] = namespace["decode"]


def _decoder_source(
    flags: int, wide_pace: bool, field_list: tuple[tuple[str, str, int | None], ...]
) -> str:
    """Python source of the decoder of one layout (see _Layout)."""
    names: list[str] = ["_"]
    expressions: dict[str, str] = {
        "more_data": str(bool(flags & 1)),
        "wide_pace": str(wide_pace),
    }
    for index, (name, code, na) in enumerate(field_list):
        value = f"v{index}"
        names.append(value)
        if code == _U24:
            names.append(f"{value}h")
            expressions[name] = f"{value} | {value}h << 16"
        elif na is not None:
            expressions[name] = f"None if {value} == {na:#x} else {value}"
        else:
            expressions[name] = value
    lines = [
        "def decode(data):",
        f"    {', '.join(names)}, = unpack(data)",
        "    record = new(Unfrozen)",
    ]
    lines += [f"    record.{name} = {expressions.get(name, 'None')}" for name in FIELD_NAMES]
    lines += ["    record.__class__ = Record", "    return record"]
    return "\n".join(lines) + "\n"


_U8_LAYOUTS: dict[int, _Layout] = {}
_WIDE_LAYOUTS: dict[int, _Layout] = {}


def _layout(flags: int, wide_pace: bool) -> _Layout:
    flags &= KNOWN_FLAGS_MASK
    cache = _WIDE_LAYOUTS if wide_pace else _U8_LAYOUTS
    layout = cache.get(flags)
    if layout is None:
        layout = cache[flags] = _Layout(flags, wide_pace)
    return layout


def _check_fast_path() -> None:
    """Fail at import, not at the first frame, if the fast path ever stops being valid."""
    if FIELD_NAMES[1:-1] != tuple(f.name for f in TREADMILL_DATA_FIELDS):
        raise ImportError("TreadmillData's fields differ from TREADMILL_DATA_FIELDS")
    record = _layout(0, False).decode(b"\x00\x00\x00\x00")
    if type(record) is not TreadmillData or record != TreadmillData(instantaneous_speed=0):
        raise ImportError("TreadmillData decode fast path is broken")


_check_fast_path()
_IDLE = Diagnostic(IDLE_ALL_ZERO, "every field is zero (idle frame)")


def _decode(data: bytes) -> tuple[TreadmillData, tuple[Diagnostic, ...]]:
    size = len(data)
    if size < 2:
        raise FtmsDecodeError(
            f"truncated: {size} bytes", raw=data, what=WHAT, expected="2 bytes of flags"
        )
    flags = data[0] | data[1] << 8
    layout = _U8_LAYOUTS.get(flags) or _layout(flags, False)
    diagnostics: tuple[Diagnostic, ...]
    if size == layout.size:
        record = layout.decode(data)
        idle = size > 2 and not data[2] and data.count(0, 2) == size - 2
        if not idle and flags <= KNOWN_FLAGS_MASK:
            return record, ()  # the common case: exact length, not all zero
        diagnostics = (_IDLE,) if idle else ()
    else:
        layout, diagnostics = _lenient_layout(data, flags, layout)
        record = layout.decode(data)
        if size > 2 and data.count(0, 2) == size - 2:
            diagnostics += (_IDLE,)
    if flags & ~KNOWN_FLAGS_MASK:
        diagnostics += (
            Diagnostic(RESERVED_FLAGS, f"reserved flag bits 0x{flags & 0xC000:04x} ignored"),
        )
    return record, diagnostics


def _lenient_layout(
    data: bytes, flags: int, layout: _Layout
) -> tuple[_Layout, tuple[Diagnostic, ...]]:
    """Pick the layout for a frame whose length does not match its flags exactly.

    Order: a u16-pace layout that matches the length exactly; otherwise the u8 layout with
    trailing bytes ignored, or with a short vendor step count dropped. Shorter than the
    standard fields: FtmsDecodeError.
    """
    size = len(data)
    if flags & _PACE_BITS:
        wide = _layout(flags, True)
        if size == wide.size:
            return wide, (
                Diagnostic(U16_PACE, f"pace read as u16: the {size}-byte frame fits that layout"),
            )
    if size > layout.size:
        extra = data[layout.size :]
        return layout, (
            Diagnostic(TRAILING_BYTES, f"{len(extra)} trailing byte(s) ignored [{extra.hex(' ')}]"),
        )
    if size < layout.standard_size:
        raise FtmsDecodeError(
            f"truncated: {size} bytes",
            raw=data,
            what=WHAT,
            expected=f"{layout.standard_size} bytes for flags 0x{flags:04x}",
        )
    # Bit 13 set, standard fields complete, fewer than 3 bytes for the step count.
    short = _layout(flags & ~_STEP, False)
    left = data[short.size :]
    return short, (
        Diagnostic(
            SHORT_STEP_COUNT,
            f"flag bit 13 (step count) set but only {len(left)} byte(s) left "
            f"[{left.hex(' ')}]; step count dropped",
        ),
    )
