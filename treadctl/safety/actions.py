"""What the governor asks the sender to do: one type per command, or a wait.

Each command names the TreadmillPort method it stands for (``kind``, for logs and tests) and
the FTMS procedure it is sent as (``op``, ``stop_kind``: FTMS v1.0 §4.16.1), and carries the
reason the governor decided it. Only speed and incline carry a value, in wire units (0.01 km/h,
0.1 %). Pure module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from treadctl.ftms.control_point import OpCode, StopKind


class CommandKind(enum.Enum):
    """The TreadmillPort methods the governor may ask for (FTMS §4.16.1 op codes)."""

    REQUEST_CONTROL = "request_control"  # 0x00
    SET_SPEED = "set_speed"  # 0x02
    SET_INCLINE = "set_incline"  # 0x03
    START = "start"  # 0x07
    STOP = "stop"  # 0x08 0x01
    PAUSE = "pause"  # 0x08 0x02


@dataclass(frozen=True, slots=True)
class RequestControl:
    kind: ClassVar[CommandKind] = CommandKind.REQUEST_CONTROL
    op: ClassVar[OpCode] = OpCode.REQUEST_CONTROL
    stop_kind: ClassVar[StopKind | None] = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetSpeed:
    kind: ClassVar[CommandKind] = CommandKind.SET_SPEED
    op: ClassVar[OpCode] = OpCode.SET_TARGET_SPEED
    stop_kind: ClassVar[StopKind | None] = None
    value: int
    """Target speed, 0.01 km/h, on the device grid."""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetIncline:
    kind: ClassVar[CommandKind] = CommandKind.SET_INCLINE
    op: ClassVar[OpCode] = OpCode.SET_TARGET_INCLINATION
    stop_kind: ClassVar[StopKind | None] = None
    value: int
    """Target inclination, 0.1 %, on the device grid."""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Start:
    kind: ClassVar[CommandKind] = CommandKind.START
    op: ClassVar[OpCode] = OpCode.START_OR_RESUME
    stop_kind: ClassVar[StopKind | None] = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Stop:
    kind: ClassVar[CommandKind] = CommandKind.STOP
    op: ClassVar[OpCode] = OpCode.STOP_OR_PAUSE
    stop_kind: ClassVar[StopKind | None] = StopKind.STOP
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Pause:
    kind: ClassVar[CommandKind] = CommandKind.PAUSE
    op: ClassVar[OpCode] = OpCode.STOP_OR_PAUSE
    stop_kind: ClassVar[StopKind | None] = StopKind.PAUSE
    reason: str = ""


Command = RequestControl | SetSpeed | SetIncline | Start | Stop | Pause
"""One command to send, with the reason it was decided."""

StopCommand = Stop | Pause


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to send now; ask again at ``until`` (monotonic s) or when something changes."""

    until: float | None


Action = Command | Wait
