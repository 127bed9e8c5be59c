"""Heart Rate Measurement 0x2A37 (HRS v1.0 §3.1; docs/references.md#journey-heart-rate).

A flags byte, then the fields its bits announce::

    bit 0   value format: 0 = u8 bpm, 1 = u16 bpm
    bit 1   sensor contact detected (meaningful only with bit 2)
    bit 2   sensor contact supported
    bit 3   Energy Expended present: u16, kJ (cumulative)
    bit 4   RR intervals present: one or more u16, 1/1024 s each, to the end of the frame
    5-7     reserved

Peers have read byte 1 as the value whatever bit 0 says; this codec honours the format bit,
so a u16 value of 0x0150 (336) is never read as 0x50 (80).

Leniency (a :class:`Diagnostic` each): reserved flag bits, an odd byte after the RR intervals,
bit 4 with no interval. A frame shorter than the value or the energy field raises
:class:`HrsDecodeError`.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final, Self

from treadctl.ftms._wire import U8_MAX, U16_MAX, BytesLike, check_int, check_optional
from treadctl.hrs.diagnostics import EMPTY_RR, RESERVED_FLAGS, TRAILING_BYTES, Diagnostic
from treadctl.hrs.errors import HrsDecodeError

WHAT: Final = "heart rate measurement (0x2a37)"

FLAG_U16: Final = 0x01
FLAG_CONTACT_DETECTED: Final = 0x02
FLAG_CONTACT_SUPPORTED: Final = 0x04
FLAG_ENERGY: Final = 0x08
FLAG_RR: Final = 0x10
RESERVED_MASK: Final = 0xE0

RR_PER_SECOND: Final = 1024
"""RR intervals are in units of 1/1024 s (HRS v1.0 §3.1.1.5)."""


class SensorContact(enum.Enum):
    """Flags bits 1-2: whether the sensor reports skin contact, and if so whether it has it."""

    NOT_SUPPORTED = "not_supported"
    """Bit 2 clear: the sensor does not say (bit 1 is then meaningless)."""
    NOT_DETECTED = "not_detected"
    """Bits 2 set, 1 clear: no skin contact; the value is not a heart rate to act on."""
    DETECTED = "detected"


_U16: Final = struct.Struct("<H")


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    ``heart_rate`` in bpm; ``wide`` is flags bit 0 (u16 format; needed above 255, allowed
    below); ``energy_expended`` in kJ or None (absent); ``rr_intervals`` in 1/1024 s, None
    when absent (an empty tuple only when bit 4 came without an interval).
    """

    heart_rate: int
    contact: SensorContact = SensorContact.NOT_SUPPORTED
    energy_expended: int | None = None
    rr_intervals: tuple[int, ...] | None = None
    wide: bool = False

    def __post_init__(self) -> None:
        check_int("heart_rate", self.heart_rate, 0, U16_MAX if self.wide else U8_MAX)
        if not isinstance(self.contact, SensorContact):
            raise ValueError(f"contact must be a SensorContact, got {self.contact!r}")
        check_optional("energy_expended", self.energy_expended, 0, U16_MAX)
        if self.rr_intervals is not None:
            if not isinstance(self.rr_intervals, tuple):
                raise ValueError("rr_intervals must be a tuple")
            for rr in self.rr_intervals:
                check_int("rr interval", rr, 0, U16_MAX)

    @property
    def contact_lost(self) -> bool:
        """The sensor says it has no skin contact."""
        return self.contact is SensorContact.NOT_DETECTED

    @property
    def rr_seconds(self) -> tuple[float, ...]:
        """The RR intervals in seconds (empty when absent)."""
        return tuple(rr / RR_PER_SECOND for rr in self.rr_intervals or ())

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        raw = bytes(data)
        if not raw:
            raise HrsDecodeError("empty frame", raw=raw, what=WHAT, expected="a flags byte")
        flags = raw[0]
        diagnostics: list[Diagnostic] = []
        if flags & RESERVED_MASK:
            diagnostics.append(
                Diagnostic(RESERVED_FLAGS, f"{WHAT}: reserved flag bits 0x{flags:02x} ignored")
            )
        wide = bool(flags & FLAG_U16)
        offset = 1
        if wide:
            _need(raw, offset + 2, "flags bit 0 set: a u16 heart rate")
            heart_rate = _U16.unpack_from(raw, offset)[0]
            offset += 2
        else:
            _need(raw, offset + 1, "a u8 heart rate")
            heart_rate = raw[offset]
            offset += 1
        if not flags & FLAG_CONTACT_SUPPORTED:
            contact = SensorContact.NOT_SUPPORTED
        elif flags & FLAG_CONTACT_DETECTED:
            contact = SensorContact.DETECTED
        else:
            contact = SensorContact.NOT_DETECTED
        energy: int | None = None
        if flags & FLAG_ENERGY:
            _need(raw, offset + 2, "flags bit 3 set: a u16 energy expended")
            energy = _U16.unpack_from(raw, offset)[0]
            offset += 2
        rr: tuple[int, ...] | None = None
        if flags & FLAG_RR:
            count = (len(raw) - offset) // 2
            rr = tuple(_U16.unpack_from(raw, offset + 2 * i)[0] for i in range(count))
            offset += 2 * count
            if not rr:
                diagnostics.append(Diagnostic(EMPTY_RR, f"{WHAT}: RR flag without an interval"))
        extra = raw[offset:]
        if extra:
            diagnostics.append(
                Diagnostic(
                    TRAILING_BYTES,
                    f"{WHAT}: {len(extra)} trailing byte(s) ignored [{extra.hex(' ')}]",
                )
            )
        value = cls(heart_rate, contact, energy, rr, wide)
        return value, tuple(diagnostics)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        flags = 0
        body = bytearray()
        if self.wide:
            flags |= FLAG_U16
            body += _U16.pack(self.heart_rate)
        else:
            body.append(self.heart_rate)
        if self.contact is not SensorContact.NOT_SUPPORTED:
            flags |= FLAG_CONTACT_SUPPORTED
            if self.contact is SensorContact.DETECTED:
                flags |= FLAG_CONTACT_DETECTED
        if self.energy_expended is not None:
            flags |= FLAG_ENERGY
            body += _U16.pack(self.energy_expended)
        if self.rr_intervals is not None:
            flags |= FLAG_RR
            for rr in self.rr_intervals:
                body += _U16.pack(rr)
        return bytes([flags]) + bytes(body)


def _need(raw: bytes, length: int, expected: str) -> None:
    if len(raw) < length:
        raise HrsDecodeError(
            f"truncated: {len(raw)} bytes, need {length}", raw=raw, what=WHAT, expected=expected
        )
