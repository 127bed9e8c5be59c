"""The Treadmill Data fields: one table of names, flag bits, wire types and units.

FTMS v1.0 §4.4.1 (Table 4.7; docs/references.md#ftms-treadmill-data): flags (u16) come first,
then the fields whose flag bit is set, in bit order; the fields of one bit are always sent
together. Bit 13 is reserved by the spec; many walking pads send a u24 step count there.

Everything that lists Treadmill Data fields reads this table: the codec
(:mod:`treadctl.ftms.treadmill_data`: layout, range checks, "not available" values), its
describer (:mod:`treadctl.ftms.describe`: labels and units), the BLE link (which fields become a
:class:`treadctl.observations.Reading`) and the decoder fuzz test (bytes per flag bit).
Pure module: standard library only.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

Wire = Literal["u8", "u16", "s16", "u24", "pace"]
"""Wire type: ``pace`` is u8 (v1.0 table), u16 on a device detected as sending wide pace."""

WIRE_SIZE: Final[dict[str, int]] = {"u8": 1, "u16": 2, "s16": 2, "u24": 3, "pace": 1}
"""Bytes of each wire type (pace: the u8 of FTMS v1.0)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One Treadmill Data field.

    ``resolution`` is the size of one wire unit in ``unit`` (0.01 km/h, 0.1 %, 1 m ...);
    ``not_available`` the wire value that means "data not available" (decoded as None);
    ``reading`` the :class:`treadctl.observations.Reading` attribute it feeds, if any;
    ``label`` how :func:`treadctl.ftms.describe.describe` names it.
    """

    name: str
    bit: int
    wire: Wire
    unit: str
    resolution: float = 1.0
    not_available: int | None = None
    reading: str | None = None
    label: str = ""

    @property
    def decimals(self) -> int:
        """Digits after the point that show one wire unit (0.01 -> 2, 1 -> 0)."""
        return max(0, round(-math.log10(self.resolution)))

    def number(self, value: int) -> str:
        """``value`` (wire units) as a number in ``unit``, e.g. ``3.00`` for 300 (0.01 km/h)."""
        return f"{value * self.resolution:.{self.decimals}f}" if self.decimals else str(value)

    def show(self, value: int) -> str:
        """``value`` in display units with its unit, e.g. ``3.00 km/h``."""
        number = self.number(value)
        return f"{number} {self.unit}" if self.unit else number


TREADMILL_DATA_FIELDS: Final[tuple[Field, ...]] = (
    # bit 0 is inverted: 0 means Instantaneous Speed is present (and More Data is not set)
    Field("instantaneous_speed", 0, "u16", "km/h", 0.01, reading="speed", label="speed"),
    Field("average_speed", 1, "u16", "km/h", 0.01, label="average speed"),
    Field("total_distance", 2, "u24", "m", reading="distance_m", label="distance"),
    Field("inclination", 3, "s16", "%", 0.1, 0x7FFF, reading="incline", label="incline"),
    Field("ramp_angle", 3, "s16", "deg", 0.1, 0x7FFF, label="ramp"),
    Field("positive_elevation_gain", 4, "u16", "m", 0.1, label="elevation +"),
    Field("negative_elevation_gain", 4, "u16", "m", 0.1, label="elevation -"),
    Field("instantaneous_pace", 5, "pace", "km/min", 0.1, label="pace"),
    Field("average_pace", 6, "pace", "km/min", 0.1, label="average pace"),
    Field("total_energy", 7, "u16", "kcal", 1.0, 0xFFFF, reading="energy_kcal", label="energy"),
    Field("energy_per_hour", 7, "u16", "kcal/h", 1.0, 0xFFFF, label="energy per hour"),
    Field("energy_per_minute", 7, "u8", "kcal/min", 1.0, 0xFF, label="energy per minute"),
    Field("heart_rate", 8, "u8", "bpm", reading="heart_rate_bpm", label="heart rate"),
    Field("metabolic_equivalent", 9, "u8", "", 0.1, label="MET"),
    Field("elapsed_time", 10, "u16", "s", reading="elapsed_s", label="elapsed"),
    Field("remaining_time", 11, "u16", "s", reading="remaining_s", label="remaining"),
    Field("force_on_belt", 12, "s16", "N", 1.0, 0x7FFF, label="force"),
    Field("power_output", 12, "s16", "W", 1.0, 0x7FFF, label="power"),
    # bit 13: reserved in FTMS v1.0, the vendor step count, after every standard field
    Field("step_count", 13, "u24", "", reading="steps", label="steps"),
)
"""Every Treadmill Data field, in wire order."""

STANDARD_BITS: Final = 13
"""Flag bits 0-12 are FTMS v1.0's; 13 is the vendor step count; 14-15 are reserved."""

BY_NAME: Final[dict[str, Field]] = {f.name: f for f in TREADMILL_DATA_FIELDS}


def fields_of_bit(bit: int) -> tuple[Field, ...]:
    """The fields flag bit ``bit`` carries, in wire order."""
    return tuple(f for f in TREADMILL_DATA_FIELDS if f.bit == bit)


def bit_groups() -> Iterator[tuple[int, tuple[Field, ...]]]:
    """(bit, fields) for every flag bit that carries fields, in wire order."""
    for bit in sorted({f.bit for f in TREADMILL_DATA_FIELDS}):
        yield bit, fields_of_bit(bit)


def bit_size(bit: int) -> int:
    """Bytes the fields of flag bit ``bit`` take on the wire (pace as u8)."""
    return sum(WIRE_SIZE[f.wire] for f in fields_of_bit(bit))


def _check() -> None:
    """The wire sizes agree with struct's, and the bits are in wire order."""
    codes = {"u8": "B", "u16": "H", "s16": "h", "u24": "HB", "pace": "B"}
    for wire, size in WIRE_SIZE.items():
        if struct.calcsize("<" + codes[wire]) != size:
            raise ImportError(f"wire size of {wire} is wrong")
    bits = [f.bit for f in TREADMILL_DATA_FIELDS]
    if bits != sorted(bits):
        raise ImportError("TREADMILL_DATA_FIELDS is not in wire order")


_check()
