"""The pure machine model: belt physics, counters and procedure rules, on an explicit clock.

FTMS v1.0 §4.16 (procedures), §4.17 (machine status), §4.10 (training status); run-down and
counters from docs/references.md (FTMS) and the CITYSPORTS captures.
"""

from __future__ import annotations

import pytest

from simulators.treadsim import wire
from simulators.treadsim.model import BeltChanged, Console, Phase, TrainingChanged, Treadmill
from simulators.treadsim.presets import load_preset
from simulators.treadsim.quirks import Quirk
from treadctl.ftms import (
    MachineStatus,
    MachineStatusOp,
    RequestControl,
    Reset,
    ResultCode,
    SetTargetInclination,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    TrainingStatusCode,
)

CLIENT = object()
OTHER = object()


def running(preset: str = "generic", *, walker: bool = False) -> Treadmill:
    """A machine with CLIENT in control, started, countdown over (t = 3 s)."""
    tm = Treadmill(load_preset(preset), now=0.0, walker=walker)
    assert tm.control_point(0.0, CLIENT, RequestControl()).result is ResultCode.SUCCESS
    assert tm.control_point(0.0, CLIENT, StartOrResume()).result is ResultCode.SUCCESS
    tm.advance(3.0)
    assert tm.phase is Phase.RUNNING
    return tm


def statuses(events: object) -> list[MachineStatus]:
    return [e for e in events if isinstance(e, MachineStatus)]  # type: ignore[attr-defined]


def test_start_goes_pre_workout_then_manual_mode_after_the_countdown() -> None:
    tm = Treadmill(load_preset("generic"), now=0.0)
    tm.control_point(0.0, CLIENT, RequestControl())
    outcome = tm.control_point(0.0, CLIENT, StartOrResume())
    assert outcome.events == (
        MachineStatus(MachineStatusOp.STARTED_OR_RESUMED_BY_USER, b""),
        TrainingChanged(TrainingStatusCode.PRE_WORKOUT),
    )
    assert tm.advance(2.9) == []
    assert tm.belt_speed == 0
    assert TrainingChanged(TrainingStatusCode.MANUAL_MODE) in tm.advance(3.0)
    assert tm.target_speed == 50  # generic minimum, 0.50 km/h


def test_belt_follows_the_target_at_the_motor_acceleration() -> None:
    tm = running()
    tm.advance(3.5)  # 0.5 s at 1.0 km/h/s reaches the 0.50 km/h start speed
    assert tm.belt_speed == 50
    tm.control_point(3.5, CLIENT, SetTargetSpeed(250))
    tm.advance(4.5)
    assert tm.belt_speed == 150  # +1.00 km/h in 1 s
    tm.advance(10.0)
    assert tm.belt_speed == 250
    tm.control_point(10.0, CLIENT, SetTargetSpeed(150))
    tm.advance(10.5)
    assert tm.belt_speed == 200  # the motor brakes at the same rate


def test_stop_runs_the_belt_down_at_0_3_kmh_per_second() -> None:
    tm = running()
    tm.control_point(3.0, CLIENT, SetTargetSpeed(300))
    tm.advance(20.0)
    outcome = tm.control_point(20.0, CLIENT, StopOrPause(StopKind.STOP))
    assert outcome.result is ResultCode.SUCCESS
    assert TrainingChanged(TrainingStatusCode.POST_WORKOUT) in outcome.events
    tm.advance(25.0)
    assert tm.belt_speed == 150  # 3.00 - 5 s x 0.30
    tm.advance(30.0)
    assert tm.belt_speed == 0


def test_belt_changes_are_reported_as_events() -> None:
    tm = running()
    changes = [e for e in tm.advance(3.2) if isinstance(e, BeltChanged)]
    assert changes == [BeltChanged(20, 50)]


def test_counters_count_only_while_a_walker_is_present() -> None:
    tm = running("citysports-wp8")
    tm.control_point(3.0, CLIENT, SetTargetSpeed(200))
    tm.advance(10.0)
    assert tm.snapshot().distance_m == 0
    assert tm.snapshot().elapsed_s == 0
    tm.console(10.0, Console.STEP_ON)
    tm.advance(70.0)
    snap = tm.snapshot()
    assert (snap.distance_m, snap.elapsed_s, snap.steps, snap.energy_kcal) == (33, 60, 64, 1)
    # ... which is exactly the capture's frame after 60 s at 2.0 km/h (flags 84 24).
    frame = bytes(wire.treadmill_data(tm.preset, snap))
    assert frame == bytes.fromhex("8424c8002100000100ffffff3c00400000")


def test_procedures_need_control_and_another_client_is_refused() -> None:
    tm = Treadmill(load_preset("generic"), now=0.0)
    assert tm.control_point(0, CLIENT, StartOrResume()).result is ResultCode.CONTROL_NOT_PERMITTED
    assert tm.control_point(0, CLIENT, RequestControl()).result is ResultCode.SUCCESS
    assert tm.control_point(0, OTHER, RequestControl()).result is ResultCode.CONTROL_NOT_PERMITTED
    assert tm.control_point(0, OTHER, SetTargetSpeed(100)).result is (
        ResultCode.CONTROL_NOT_PERMITTED
    )
    tm.client_left(1.0, CLIENT)
    assert tm.control_point(1.0, OTHER, RequestControl()).result is ResultCode.SUCCESS


@pytest.mark.parametrize(
    ("speed", "result"),
    [
        (49, ResultCode.INVALID_PARAMETER),
        (50, ResultCode.SUCCESS),
        (1200, ResultCode.SUCCESS),
        (1201, ResultCode.INVALID_PARAMETER),
    ],
)
def test_target_speed_outside_the_range_is_invalid_parameter(
    speed: int, result: ResultCode
) -> None:
    tm = running()
    assert tm.control_point(3.0, CLIENT, SetTargetSpeed(speed)).result is result


def test_target_speed_rounds_down_to_the_increment() -> None:
    tm = running()
    tm.control_point(3.0, CLIENT, SetTargetSpeed(257))
    assert tm.target_speed == 250


def test_start_while_started_and_stop_while_stopped_fail() -> None:
    tm = running()
    assert tm.control_point(3, CLIENT, StartOrResume()).result is ResultCode.OPERATION_FAILED
    assert tm.control_point(3, CLIENT, StopOrPause(StopKind.STOP)).result is ResultCode.SUCCESS
    assert tm.control_point(4, CLIENT, StopOrPause(StopKind.STOP)).result is (
        ResultCode.OPERATION_FAILED
    )
    assert tm.control_point(4, CLIENT, StopOrPause(StopKind.PAUSE)).result is (
        ResultCode.OPERATION_FAILED
    )


def test_pause_then_resume_keeps_the_target() -> None:
    tm = running()
    tm.control_point(3.0, CLIENT, SetTargetSpeed(200))
    tm.advance(10.0)
    outcome = tm.control_point(10.0, CLIENT, StopOrPause(StopKind.PAUSE))
    assert statuses(outcome.events) == [
        MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, b"\x02")
    ]
    tm.advance(20.0)
    assert (tm.phase, tm.belt_speed) == (Phase.PAUSED, 0)
    assert tm.control_point(20.0, CLIENT, StartOrResume()).result is ResultCode.SUCCESS
    tm.advance(30.0)
    assert tm.belt_speed == 200


def test_pause_during_the_countdown_then_resume_runs_at_the_start_speed() -> None:
    tm = Treadmill(load_preset("generic"), now=0.0)
    tm.control_point(0.0, CLIENT, RequestControl())
    tm.control_point(0.0, CLIENT, StartOrResume())
    assert tm.control_point(1.0, CLIENT, StopOrPause(StopKind.PAUSE)).result is ResultCode.SUCCESS
    tm.advance(10.0)
    assert (tm.phase, tm.belt_speed) == (Phase.PAUSED, 0)
    tm.control_point(10.0, CLIENT, SetTargetSpeed(120))  # changed while paused
    assert tm.control_point(10.0, CLIENT, StartOrResume()).result is ResultCode.SUCCESS
    tm.advance(20.0)
    assert (tm.phase, tm.belt_speed) == (Phase.RUNNING, 120)


def test_reset_stops_clears_and_ends_control() -> None:
    tm = running()
    outcome = tm.control_point(3.0, CLIENT, Reset())
    assert statuses(outcome.events) == [MachineStatus(MachineStatusOp.RESET, b"")]
    assert tm.training is TrainingStatusCode.IDLE
    assert tm.control_point(3.0, CLIENT, StartOrResume()).result is (
        ResultCode.CONTROL_NOT_PERMITTED
    )


def test_incline_range_and_unsupported_incline() -> None:
    tm = running()
    assert tm.control_point(3, CLIENT, SetTargetInclination(101)).result is (
        ResultCode.INVALID_PARAMETER
    )
    ok = tm.control_point(3, CLIENT, SetTargetInclination(50))
    assert statuses(ok.events) == [
        MachineStatus(MachineStatusOp.TARGET_INCLINE_CHANGED, b"\x32\x00")
    ]
    pad = running("citysports-wp8")
    assert pad.control_point(3, CLIENT, SetTargetInclination(10)).result is (
        ResultCode.OP_CODE_NOT_SUPPORTED
    )


def test_safety_key_stops_fast_and_blocks_start() -> None:
    tm = running()
    tm.control_point(3.0, CLIENT, SetTargetSpeed(300))
    tm.advance(10.0)
    outcome = tm.console(10.0, Console.PULL_SAFETY_KEY)
    assert statuses(outcome.events) == [MachineStatus(MachineStatusOp.STOPPED_BY_SAFETY_KEY, b"")]
    tm.advance(11.0)
    assert tm.belt_speed == 0  # 3.00 km/h/s: stopped within a second
    assert tm.control_point(11, CLIENT, StartOrResume()).result is ResultCode.OPERATION_FAILED
    tm.console(12.0, Console.INSERT_SAFETY_KEY)
    assert tm.control_point(12, CLIENT, StartOrResume()).result is ResultCode.SUCCESS


def test_console_stop_is_reported_when_the_belt_is_nearly_still() -> None:
    tm = running()
    tm.control_point(3.0, CLIENT, SetTargetSpeed(100))
    tm.advance(10.0)
    outcome = tm.console(10.0, Console.STOP)
    assert statuses(outcome.events) == []
    assert statuses(tm.advance(12.0)) == []  # 1.00 -> 0.40 km/h
    late = statuses(tm.advance(13.1))
    assert late == [MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, b"\x01")]
    assert tm.belt_speed <= 10


def test_console_take_control_revokes_the_client() -> None:
    tm = running()
    outcome = tm.console(4.0, Console.TAKE_CONTROL)
    assert statuses(outcome.events) == [MachineStatus(MachineStatusOp.CONTROL_PERMISSION_LOST, b"")]
    assert tm.control_point(4, CLIENT, SetTargetSpeed(100)).result is (
        ResultCode.CONTROL_NOT_PERMITTED
    )


def test_console_lock_quirk_ignores_buttons_but_not_the_safety_key() -> None:
    tm = running("kingsmith-z1d")
    assert Quirk.CONSOLE_LOCK_WHILE_CONTROLLED in tm.quirks
    assert not tm.console(4.0, Console.STOP).done
    assert tm.phase is Phase.RUNNING
    assert tm.console(4.0, Console.PULL_SAFETY_KEY).done
