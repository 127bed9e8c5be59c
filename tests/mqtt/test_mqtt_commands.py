"""Command values, results and the arming policy (pure)."""

from __future__ import annotations

import math

import pytest

from treadctl.commands import (
    Arm,
    ArmingPolicy,
    Command,
    CommandResult,
    Disarm,
    EmergencyStop,
    ErrorCode,
    Pause,
    ReloadProfiles,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartProfile,
    Stop,
    needs_arming,
)
from treadctl.observations import DeviceEvent, EventKind
from treadctl.safety.events import DISARMING_EVENTS

MOVING: list[Command] = [StartProfile("p"), Resume(), SetSpeed(1.0), SetIncline(1.0), SkipSegment()]
NEVER_GATED: list[Command] = [Pause(), Stop(), SelectProfile("p"), ReloadProfiles()]


@pytest.mark.parametrize("kmh", [math.nan, math.inf, -0.01, 655.36])
def test_set_speed_refuses_non_finite_and_out_of_wire_range(kmh: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SetSpeed(kmh)


def test_set_speed_never_rounds_up() -> None:
    assert SetSpeed(2.3).centi == 230
    assert SetSpeed(0.019).centi == 1
    assert SetIncline(-1.25).deci == -12


def test_result_invariants() -> None:
    assert CommandResult.success().ok
    failure = CommandResult.failure(ErrorCode.NOT_ARMED, "no")
    assert not failure.ok
    assert failure.error is not None
    assert failure.error.code == "not_armed"
    with pytest.raises(ValueError, match="ok exactly"):
        CommandResult(ok=True, error=failure.error)
    with pytest.raises(ValueError, match="ok exactly"):
        CommandResult(ok=False)


@pytest.mark.parametrize("command", MOVING)
def test_moving_commands_need_arming(command: Command) -> None:
    policy = ArmingPolicy()
    assert needs_arming(command)
    refused = policy.admit(command, now=0.0)
    assert refused is not None
    assert refused.error is not None
    assert refused.error.code == ErrorCode.NOT_ARMED
    assert policy.admit(Arm(), now=0.0) == CommandResult.success(
        {"armed": True, "expires_in_s": 300.0}
    )
    assert policy.admit(command, now=1.0) is None


@pytest.mark.parametrize("command", [*NEVER_GATED, EmergencyStop()])
def test_stopping_and_harmless_commands_never_need_arming(command: Command) -> None:
    assert ArmingPolicy().admit(command, now=0.0) is None


def test_arming_expires() -> None:
    policy = ArmingPolicy(default_duration_s=10.0)
    policy.admit(Arm(), now=100.0)
    assert policy.armed(109.9)
    assert policy.remaining_s(105.0) == pytest.approx(5.0)
    assert policy.admit(SetSpeed(1.0), now=110.0) is not None
    assert not policy.armed(110.0)
    assert policy.remaining_s(110.0) is None


def test_requested_duration_over_the_maximum_is_refused_not_clamped() -> None:
    policy = ArmingPolicy(default_duration_s=10.0, max_duration_s=60.0)
    result = policy.admit(Arm(duration_s=61.0), now=0.0)
    assert result is not None
    assert result.error is not None
    assert result.error.code == ErrorCode.INVALID_VALUE
    assert not policy.armed(0.0)
    assert policy.admit(Arm(duration_s=60.0), now=0.0) is not None
    assert policy.armed(59.0)


@pytest.mark.parametrize("kind", sorted(DISARMING_EVENTS, key=str), ids=str)
def test_every_safety_event_disarms(kind: EventKind) -> None:
    policy = ArmingPolicy()
    policy.admit(Arm(), now=0.0)
    assert policy.observe(DeviceEvent(at=1.0, kind=kind))
    assert not policy.armed(1.0)
    assert policy.admit(Resume(), now=1.0) is not None


def test_ordinary_events_keep_arming() -> None:
    policy = ArmingPolicy()
    policy.admit(Arm(), now=0.0)
    assert not policy.observe(DeviceEvent(at=1.0, kind=EventKind.TARGET_SPEED_CHANGED, value=100))
    assert policy.armed(1.0)


def test_emergency_stop_and_daemon_safety_events_disarm() -> None:
    policy = ArmingPolicy()
    policy.admit(Arm(), now=0.0)
    assert policy.admit(EmergencyStop(), now=1.0) is None
    assert not policy.armed(1.0)
    policy.admit(Arm(), now=2.0)
    policy.safety_event("overspeed stop")
    assert not policy.armed(2.0)
    assert "overspeed" in policy.last_reason


def test_disarm_command() -> None:
    policy = ArmingPolicy()
    policy.admit(Arm(), now=0.0)
    assert policy.admit(Disarm(), now=1.0) == CommandResult.success({"armed": False})
    assert not policy.armed(1.0)


def test_policy_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="duration"):
        ArmingPolicy(default_duration_s=10.0, max_duration_s=5.0)
