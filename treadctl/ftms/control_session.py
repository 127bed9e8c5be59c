"""The client side of one FTMS control session, sans I/O: control permission and our echoes.

A Fitness Machine grants control to the client that wrote Request Control (op 0x00, FTMS v1.0
§4.16.2.1) and takes it back on Reset (§4.16.2.2), with Control Permission Lost (status 0xFF,
§4.17) or when the link drops; a procedure written without it is answered 0x05 (§4.16.2.22).
Real devices also send the status change a procedure caused back to the client that wrote it
(docs/references.md#ftms-devices), some before the write response: a Machine Status within
:data:`ECHO_WINDOW_S` of our own matching procedure is that echo, not a person at the console.

:class:`ControlSession` is the one place that decides both. The BLE link keeps one per
connection (it sees every procedure it writes, its own idle Reset included, and tags the echoes
it reports); the governor keeps one for the commands it decides (and also trusts the link's
tag). Times are monotonic seconds supplied by the caller. Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from treadctl.ftms.control_point import OpCode, StopKind
from treadctl.ftms.machine_status import MachineStatus, MachineStatusOp

ECHO_WINDOW_S = 2.0
"""A status within 2 s of our own matching procedure is its echo. docs/references.md#ftms-status:
real devices "echo status changes to the client that caused them" (a pad sends it even before
the write response)."""

ECHOES: dict[int, OpCode] = {
    MachineStatusOp.RESET: OpCode.RESET,
    MachineStatusOp.STOPPED_OR_PAUSED_BY_USER: OpCode.STOP_OR_PAUSE,
    MachineStatusOp.STARTED_OR_RESUMED_BY_USER: OpCode.START_OR_RESUME,
    MachineStatusOp.TARGET_SPEED_CHANGED: OpCode.SET_TARGET_SPEED,
    MachineStatusOp.TARGET_INCLINE_CHANGED: OpCode.SET_TARGET_INCLINATION,
}
"""The procedure whose effect each status reports (FTMS §4.17)."""


@dataclass(frozen=True, slots=True)
class StatusVerdict:
    """What one Machine Status means for this session."""

    echo_of: OpCode | None
    """Our own procedure this status answers, or None (a person, the console, the device)."""
    control_lost: bool
    """The status ended our control permission (Reset, Control Permission Lost)."""


@dataclass(slots=True)
class ControlSession:
    """Which procedures we wrote and when; whether we hold control permission."""

    echo_window_s: float = ECHO_WINDOW_S
    has_control: bool = False
    _sent: dict[tuple[OpCode, StopKind | None], float] = field(default_factory=dict)

    def sent(self, op: OpCode, at: float, *, stop_kind: StopKind | None = None) -> None:
        """We are writing ``op`` now (its echo may arrive before the write response). A Start
        supersedes our earlier Stop/Pause and the reverse: a stop status after our Start is not
        the echo of a Stop we sent before it."""
        opposite = {
            OpCode.START_OR_RESUME: OpCode.STOP_OR_PAUSE,
            OpCode.STOP_OR_PAUSE: OpCode.START_OR_RESUME,
        }.get(op)
        if opposite is not None:
            self._sent = {key: t for key, t in self._sent.items() if key[0] != opposite}
        self._sent[op, stop_kind] = at

    def answered(self, op: OpCode, *, success: bool, result_code: int | None = None) -> None:
        """The device answered ``op``: success, or the FTMS result code of a refusal."""
        if success and op == OpCode.REQUEST_CONTROL:
            self.has_control = True
        elif success and op == OpCode.RESET:
            self.has_control = False  # Reset ends control permission (§4.16.2.2)
        elif result_code == 0x05:
            self.has_control = False  # control not permitted: we do not hold it (§4.16.2.22)

    def status(self, status: MachineStatus, at: float) -> StatusVerdict:
        """Judge one Machine Status (0x2ADA) received at ``at``."""
        lost = status.op in (MachineStatusOp.RESET, MachineStatusOp.CONTROL_PERMISSION_LOST)
        if lost:
            self.has_control = False
        return StatusVerdict(echo_of=self._echo_of(status, at), control_lost=lost)

    def withdraw(self) -> None:
        """Treat control as not held (before asking again, or after giving it back)."""
        self.has_control = False

    def link_lost(self) -> None:
        """The connection ended (or a new one began): no permission, nothing pending."""
        self.has_control = False
        self._sent.clear()

    def _echo_of(self, status: MachineStatus, at: float) -> OpCode | None:
        ours = ECHOES.get(status.op)
        if ours is None:
            return None
        # A stop status answers our Stop, a pause status our Pause; a bare one either.
        kind = status.stop_kind if ours == OpCode.STOP_OR_PAUSE else None
        for (op, sent_kind), sent_at in self._sent.items():
            if op != ours or (kind is not None and sent_kind is not None and sent_kind != kind):
                continue
            if 0 <= at - sent_at <= self.echo_window_s:
                return ours
        return None
