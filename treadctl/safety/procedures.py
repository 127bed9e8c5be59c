"""The governor's commands and the device's events in FTMS terms, for its control session.

The governor keeps a :class:`treadctl.ftms.control_session.ControlSession` (the same rules the
BLE link applies): which procedures it sent when, so that a status is recognised as the echo of
its own command, and whether it holds control permission. This module translates its commands
into FTMS procedures (op code, stop kind) and device events back into Machine Status values.
Pure module.
"""

from __future__ import annotations

from treadctl.ftms.control_point import StopKind
from treadctl.ftms.machine_status import MachineStatus, MachineStatusOp
from treadctl.observations import EventKind

STATUS_OF_EVENT: dict[EventKind, MachineStatus] = {
    EventKind.RESET: MachineStatus(MachineStatusOp.RESET),
    EventKind.CONTROL_LOST: MachineStatus(MachineStatusOp.CONTROL_PERMISSION_LOST),
    EventKind.CONSOLE_STOP: MachineStatus(
        MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([StopKind.STOP])
    ),
    EventKind.CONSOLE_PAUSE: MachineStatus(
        MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([StopKind.PAUSE])
    ),
    EventKind.SAFETY_KEY: MachineStatus(MachineStatusOp.STOPPED_BY_SAFETY_KEY),
    EventKind.CONSOLE_START: MachineStatus(MachineStatusOp.STARTED_OR_RESUMED_BY_USER),
}
"""The Machine Status (FTMS §4.17) each device event reports (the link's reading of 0x2ADA)."""
