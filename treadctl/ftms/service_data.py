"""FTMS advertising Service Data for UUID 0x1826 (FTMS v1.0 §3.1.1).

Flags u8 (bit 0: Fitness Machine Available) + Fitness Machine Type u16 (bit 0: treadmill).
Many devices send no Service Data at all; discovery must not depend on it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import Final, Self

from treadctl.ftms._wire import U16_MAX, BytesLike, check_int, require, trailing
from treadctl.ftms.diagnostics import RESERVED_FLAGS, Diagnostic

WHAT: Final = "ftms service data (0x1826)"
_FORMAT: Final = struct.Struct("<BH")


class MachineType(IntFlag):
    """Fitness Machine Type field (FTMS v1.0 §3.1.1, Table 3.2). Bits 6-15 reserved."""

    TREADMILL = 1 << 0
    CROSS_TRAINER = 1 << 1
    STEP_CLIMBER = 1 << 2
    STAIR_CLIMBER = 1 << 3
    ROWER = 1 << 4
    INDOOR_BIKE = 1 << 5


@dataclass(frozen=True, slots=True)
class FtmsServiceData:
    """Advertised FTMS Service Data (FTMS v1.0 §3.1.1)."""

    available: bool
    machine_type: MachineType

    def __post_init__(self) -> None:
        check_int("machine_type", int(self.machine_type), 0, U16_MAX)

    @property
    def is_treadmill(self) -> bool:
        return bool(self.machine_type & MachineType.TREADMILL)

    @classmethod
    def decode(cls, data: BytesLike) -> tuple[Self, tuple[Diagnostic, ...]]:
        data = bytes(data)
        require(data, 3, what=WHAT, expected="flags u8 and machine type u16 (3 bytes)")
        flags, machine_type = _FORMAT.unpack_from(data)
        diagnostics: tuple[Diagnostic, ...] = ()
        if flags & 0xFE:
            diagnostics += (
                Diagnostic(RESERVED_FLAGS, f"reserved flag bits 0x{flags & 0xFE:02x} ignored"),
            )
        value = cls(bool(flags & 1), MachineType(machine_type))
        return value, diagnostics + trailing(data, 3, WHAT)

    @classmethod
    def from_bytes(cls, data: BytesLike) -> Self:
        return cls.decode(data)[0]

    def __bytes__(self) -> bytes:
        return _FORMAT.pack(1 if self.available else 0, int(self.machine_type))
