"""The sans-I/O control session: control permission and the echoes of our own procedures."""

from __future__ import annotations

import pytest

from treadctl.ftms.control_point import OpCode, StopKind
from treadctl.ftms.control_session import ECHO_WINDOW_S, ControlSession
from treadctl.ftms.machine_status import MachineStatus, MachineStatusOp

RESET = MachineStatus(MachineStatusOp.RESET)
STOPPED = MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([StopKind.STOP]))
PAUSED = MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([StopKind.PAUSE]))
BARE_STOP = MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER)
LOST = MachineStatus(MachineStatusOp.CONTROL_PERMISSION_LOST)


def _granted(cs: ControlSession) -> bool:
    return cs.has_control


def test_control_is_granted_by_request_control_and_ended_by_reset() -> None:
    cs = ControlSession()
    cs.sent(OpCode.REQUEST_CONTROL, 1.0)
    cs.answered(OpCode.REQUEST_CONTROL, success=False, result_code=0x04)
    assert not cs.has_control
    cs.answered(OpCode.REQUEST_CONTROL, success=True)
    assert _granted(cs)  # read through a call: mypy keeps the earlier "not" otherwise
    cs.sent(OpCode.RESET, 2.0)
    cs.answered(OpCode.RESET, success=True)
    assert not cs.has_control


@pytest.mark.parametrize("status", [RESET, LOST])
def test_statuses_that_end_control(status: MachineStatus) -> None:
    cs = ControlSession(has_control=True)
    assert cs.status(status, 5.0).control_lost
    assert not cs.has_control


def test_a_refusal_for_missing_permission_ends_control() -> None:
    cs = ControlSession(has_control=True)
    cs.answered(OpCode.SET_TARGET_SPEED, success=False, result_code=0x05)
    assert not cs.has_control


def test_our_reset_status_is_an_echo_within_the_window_only() -> None:
    cs = ControlSession(has_control=True)
    cs.sent(OpCode.RESET, 10.0)
    assert cs.status(RESET, 10.0 + ECHO_WINDOW_S).echo_of == OpCode.RESET
    assert cs.status(RESET, 10.0 + ECHO_WINDOW_S + 0.01).echo_of is None
    assert cs.status(RESET, 9.9).echo_of is None  # before we sent it: someone else's


def test_stop_and_pause_echo_their_own_kind() -> None:
    cs = ControlSession()
    cs.sent(OpCode.STOP_OR_PAUSE, 1.0, stop_kind=StopKind.STOP)
    assert cs.status(STOPPED, 1.5).echo_of == OpCode.STOP_OR_PAUSE
    assert cs.status(PAUSED, 1.5).echo_of is None  # a pause at the console
    assert cs.status(BARE_STOP, 1.5).echo_of == OpCode.STOP_OR_PAUSE
    cs.sent(OpCode.STOP_OR_PAUSE, 2.0, stop_kind=StopKind.PAUSE)
    assert cs.status(PAUSED, 2.5).echo_of == OpCode.STOP_OR_PAUSE
    assert cs.status(STOPPED, 2.5).echo_of == OpCode.STOP_OR_PAUSE  # our Stop at 1.0 still


def test_a_lost_link_forgets_everything() -> None:
    cs = ControlSession(has_control=True)
    cs.sent(OpCode.RESET, 1.0)
    cs.link_lost()
    assert not cs.has_control
    assert cs.status(RESET, 1.1).echo_of is None


def test_statuses_without_a_procedure_are_never_echoes() -> None:
    cs = ControlSession()
    cs.sent(OpCode.STOP_OR_PAUSE, 1.0, stop_kind=StopKind.STOP)
    assert cs.status(MachineStatus(MachineStatusOp.STOPPED_BY_SAFETY_KEY), 1.1).echo_of is None
    assert cs.status(LOST, 1.1).echo_of is None


def test_a_start_supersedes_an_earlier_stop() -> None:
    """A stop status after our Start is not the echo of the Stop we sent before it."""
    cs = ControlSession()
    cs.sent(OpCode.STOP_OR_PAUSE, 1.0, stop_kind=StopKind.STOP)
    cs.sent(OpCode.START_OR_RESUME, 1.2)
    assert cs.status(STOPPED, 1.5).echo_of is None
    started = MachineStatus(MachineStatusOp.STARTED_OR_RESUMED_BY_USER)
    assert cs.status(started, 1.5).echo_of == OpCode.START_OR_RESUME
    cs.sent(OpCode.STOP_OR_PAUSE, 1.6, stop_kind=StopKind.STOP)
    assert cs.status(started, 1.7).echo_of is None
