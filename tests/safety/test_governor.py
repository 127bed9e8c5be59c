"""The pure governor, scenario by scenario: what it decides to send, and when."""

from __future__ import annotations

import pytest

from treadctl.observations import (
    DeviceEvent,
    DeviceInfo,
    EventKind,
    InclineRange,
    Reading,
    SpeedRange,
)
from treadctl.safety.actions import Command, CommandKind, SetIncline, SetSpeed, Wait
from treadctl.safety.errors import (
    BelowDeviceMinimumError,
    BeltStateError,
    LatchedError,
    LimitExceededError,
    NotSupportedError,
)
from treadctl.safety.events import (
    DEVICE_SAFETY_EVENTS,
    LATCH_FOR_EVENT,
    SAFETY_EVENTS,
    LatchReason,
)
from treadctl.safety.governor import Governor
from treadctl.safety.limits import Limits
from treadctl.safety.phases import Phase

PAD = DeviceInfo("pad", "pad", SpeedRange(100, 600, 50), None)
FINE = DeviceInfo("fine", "fine", SpeedRange(10, 1800, 10), InclineRange(0, 150, 5))

T0 = 100.0


def drain(gov: Governor, now: float, fail: set[CommandKind] | None = None) -> list[Command]:
    """Send everything due at ``now`` (succeeding unless listed in ``fail``)."""
    sent: list[Command] = []
    while True:
        action = gov.next_action(now)
        if isinstance(action, Wait):
            return sent
        sent.append(action)
        error = "refused" if fail and action.kind in fail else None
        gov.completed(action, now, error)


def kinds(cmds: list[Command]) -> list[tuple[CommandKind, int | None]]:
    return [(c.kind, value_of(c)) for c in cmds]


def value_of(c: Command) -> int | None:
    """The value a speed or incline command carries; None for the others."""
    return c.value if isinstance(c, SetSpeed | SetIncline) else None


def running(info: DeviceInfo = PAD, target: int = 200, limits: Limits | None = None) -> Governor:
    gov = Governor(info=info, limits=limits or Limits())
    gov.observe(Reading(at=T0, speed=0))
    gov.start(target, T0)
    drain(gov, T0)
    gov.observe(Reading(at=T0 + 1, speed=100))
    assert gov.phase == Phase.RUNNING
    return gov


def test_start_sequence_requests_control_sets_start_speed_then_starts() -> None:
    gov = Governor(info=PAD)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(200, T0)
    assert kinds(drain(gov, T0)) == [
        (CommandKind.REQUEST_CONTROL, None),
        (CommandKind.SET_SPEED, 100),  # docs/references.md#retro-defaults: start speed 1.0 km/h
        (CommandKind.START, None),
    ]
    # No speed write until the belt moves (docs/references.md#ftms-devices cold start).
    assert drain(gov, T0 + 2) == []
    gov.observe(Reading(at=T0 + 3, speed=80))
    assert gov.phase == Phase.RUNNING


def test_coarse_pad_ramps_half_km_h_steps_five_seconds_apart() -> None:
    gov = running(PAD, 200)
    moved = T0 + 1
    times = []
    t = moved
    while t < moved + 30:
        t += 0.5
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
        for cmd in drain(gov, t):
            times.append((t - moved, value_of(cmd)))
    assert times == [(5.0, 150), (10.0, 200)]


def test_fine_device_ramps_0_1_per_second() -> None:
    gov = running(FINE, 150)
    t = T0 + 1
    values = []
    for _ in range(10):
        t += 1.0
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
        values += [value_of(c) for c in drain(gov, t)]
    assert values == [110, 120, 130, 140, 150]


def test_start_speed_is_target_when_lower_and_device_minimum_when_higher() -> None:
    gov = Governor(info=FINE)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(40, T0)
    assert (CommandKind.SET_SPEED, 40) in kinds(drain(gov, T0))
    high_min = DeviceInfo("x", None, SpeedRange(150, 600, 50), None)
    gov = Governor(info=high_min)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(250, T0)
    assert (CommandKind.SET_SPEED, 150) in kinds(drain(gov, T0))


def test_over_cap_request_is_refused_with_numbers_not_clamped() -> None:
    gov = running(PAD, 150, Limits(user_speed_cap=250))
    with pytest.raises(LimitExceededError) as info:
        gov.set_speed(260, T0 + 2)
    assert (info.value.requested, info.value.limit, info.value.limit_name) == (260, 250, "user")
    assert gov.state().target_speed == 150  # unchanged
    with pytest.raises(LimitExceededError) as info:
        gov.set_speed(450, T0 + 2)
    assert info.value.limit_name == "absolute"


def test_handrail_free_cap_and_profile_cap() -> None:
    gov = running(PAD, 150, Limits(handrails=False))
    with pytest.raises(LimitExceededError) as info:
        gov.set_speed(250, T0 + 2)
    assert info.value.limit_name == "handrail-free"
    gov.set_profile_cap(150, T0 + 2)
    with pytest.raises(LimitExceededError) as info:
        gov.set_speed(200, T0 + 2)
    assert info.value.limit_name == "profile"


def test_below_device_minimum_is_refused_not_rounded_up() -> None:
    gov = running(PAD, 150)
    with pytest.raises(BelowDeviceMinimumError) as info:
        gov.set_speed(80, T0 + 2)
    assert info.value.minimum == 100
    assert gov.set_speed(149, T0 + 2) == 100  # rounded down to the grid


def test_lowered_cap_applies_at_once_and_below_minimum_stops() -> None:
    gov = running(FINE, 200)
    t = T0 + 1
    for _ in range(12):
        t += 1
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
        drain(gov, t)
    assert gov.state().commanded_speed == 200
    gov.set_profile_cap(120, t)
    assert kinds(drain(gov, t)) == [(CommandKind.SET_SPEED, 120)]
    gov.set_profile_cap(5, t)  # below the device minimum of 0.10 km/h
    assert kinds(drain(gov, t)) == [(CommandKind.STOP, None)]


def test_start_refused_while_belt_moves_or_telemetry_stale() -> None:
    gov = Governor(info=PAD)
    with pytest.raises(BeltStateError, match="telemetry"):
        gov.start(150, T0)
    gov.observe(Reading(at=T0, speed=100))
    with pytest.raises(BeltStateError, match="moving"):
        gov.start(150, T0)
    gov.observe(Reading(at=T0, speed=0))
    with pytest.raises(BeltStateError, match="telemetry"):
        gov.start(150, T0 + 3.5)


def test_belt_starting_to_move_before_start_is_sent_latches_without_start() -> None:
    gov = Governor(info=PAD)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(150, T0)
    first = gov.next_action(T0)
    assert isinstance(first, Command)
    assert first.kind == CommandKind.REQUEST_CONTROL
    gov.observe(Reading(at=T0, speed=100))  # someone started it at the console meanwhile
    gov.completed(first, T0)
    sent = drain(gov, T0)
    assert CommandKind.START not in [c.kind for c in sent]
    assert gov.latch == LatchReason.BELT_MOVING_AT_START


@pytest.mark.parametrize(
    "kind", [k for k in DEVICE_SAFETY_EVENTS if k != EventKind.DISCONNECTED], ids=str
)
def test_safety_events_latch_and_nothing_restarts(kind: EventKind) -> None:
    stop_sent = not SAFETY_EVENTS[LATCH_FOR_EVENT[kind]].device_stopped
    gov = running(PAD, 200)
    gov.observe(DeviceEvent(at=T0 + 2, kind=kind))
    assert gov.latch is not None
    assert gov.latch.value == kind.value
    sent = drain(gov, T0 + 2)
    assert [c.kind for c in sent if c.kind != CommandKind.REQUEST_CONTROL] == (
        [CommandKind.STOP] if stop_sent else []
    )
    with pytest.raises(LatchedError):
        gov.set_speed(150, T0 + 3)
    # The belt stops; time passes; nothing but an explicit start sends anything.
    for i in range(3, 60):
        gov.observe(Reading(at=T0 + i, speed=0))
        assert drain(gov, T0 + i) == []
    gov.start(150, T0 + 60)
    assert CommandKind.START in [c.kind for c in drain(gov, T0 + 60)]


def test_disconnect_then_reconnect_stops_a_belt_that_kept_running() -> None:
    gov = running(PAD, 150)
    gov.observe(DeviceEvent(at=T0 + 2, kind=EventKind.DISCONNECTED))
    assert drain(gov, T0 + 2) == []  # nothing can be sent
    gov.observe(DeviceEvent(at=T0 + 9, kind=EventKind.CONNECTED))
    gov.observe(Reading(at=T0 + 9, speed=100))
    assert kinds(drain(gov, T0 + 9)) == [
        (CommandKind.REQUEST_CONTROL, None),
        (CommandKind.STOP, None),
    ]
    assert gov.latch == LatchReason.DISCONNECTED


def test_stale_telemetry_stops_and_latches() -> None:
    gov = running(PAD, 150)
    assert drain(gov, T0 + 3.9) == []
    assert kinds(drain(gov, T0 + 4.01)) == [(CommandKind.STOP, None)]
    assert gov.latch == LatchReason.STALE_TELEMETRY


def test_overspeed_stops_the_belt() -> None:
    gov = running(PAD, 150, Limits(user_speed_cap=200))
    gov.observe(Reading(at=T0 + 2, speed=250))  # = cap + one increment: tolerated
    assert drain(gov, T0 + 2) == []
    gov.observe(Reading(at=T0 + 3, speed=251))
    assert kinds(drain(gov, T0 + 3)) == [(CommandKind.STOP, None)]
    assert gov.latch == LatchReason.OVERSPEED


def test_device_target_above_cap_stops_before_the_belt_gets_there() -> None:
    gov = running(PAD, 150)
    gov.observe(DeviceEvent(at=T0 + 2, kind=EventKind.TARGET_SPEED_CHANGED, value=350))
    assert kinds(drain(gov, T0 + 2)) == [(CommandKind.STOP, None)]


def test_failed_write_latches_and_stops() -> None:
    gov = running(FINE, 150)
    sent = drain(gov, T0 + 2, fail={CommandKind.SET_SPEED})
    assert kinds(sent) == [(CommandKind.SET_SPEED, 110), (CommandKind.STOP, None)]
    assert gov.latch == LatchReason.COMMAND_FAILED


def test_failed_stop_is_retried_while_the_belt_moves_then_three_times() -> None:
    gov = running(PAD, 150)
    gov.emergency_stop(T0 + 2)
    attempts = 0
    for i in range(20):
        gov.observe(Reading(at=T0 + 2 + i, speed=100))  # the belt keeps running
        attempts += len(drain(gov, T0 + 2 + i, fail={CommandKind.STOP}))
    assert attempts == 20  # one a second, never given up while the belt moves
    gov.observe(Reading(at=T0 + 30, speed=0))
    attempts = 0
    for i in range(30, 40):
        attempts += len(drain(gov, T0 + i, fail={CommandKind.STOP}))
    assert attempts == 1  # the 21st failed try is past 3: given up once the belt is still


def test_speed_and_incline_never_rise_in_the_same_minute() -> None:
    gov = running(FINE, 150)
    gov.set_incline(20, T0 + 1)
    log: list[tuple[float, Command]] = []
    t = T0 + 1
    while t < T0 + 400:
        t += 0.5
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
        log += [(t, c) for c in drain(gov, t)]
    speed_rises = [at for at, c in log if c.kind == CommandKind.SET_SPEED]
    incline_rises = [at for at, c in log if c.kind == CommandKind.SET_INCLINE]
    assert speed_rises
    assert incline_rises
    assert [c.value for _, c in log if isinstance(c, SetIncline)][-1] == 20
    for s in speed_rises:
        for i in incline_rises:
            assert abs(s - i) >= 60


def test_start_timeout_when_the_belt_never_moves() -> None:
    gov = Governor(info=PAD)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(150, T0)
    drain(gov, T0)
    for i in range(1, 11):
        gov.observe(Reading(at=T0 + i, speed=0))
        sent = drain(gov, T0 + i)
    assert kinds(sent) == [(CommandKind.STOP, None)]
    assert gov.latch == LatchReason.START_TIMEOUT


def test_handrail_free_block_limit_stops_after_ten_minutes() -> None:
    gov = running(PAD, 150, Limits(handrails=False))
    t = T0 + 1
    stops = []
    while t < T0 + 1 + 601:
        t += 1
        gov.observe(Reading(at=t, speed=150))
        stops += [(t, c) for c in drain(gov, t) if c.kind == CommandKind.STOP]
    assert stops
    assert stops[0][0] == pytest.approx(T0 + 1 + 600)
    assert gov.latch == LatchReason.BLOCK_TIME_LIMIT


def test_speed_rise_waits_a_minute_after_an_incline_rise() -> None:
    gov = running(FINE, 110)
    t = T0 + 1
    log: list[tuple[float, Command]] = []

    def run_until(end: float) -> None:
        nonlocal t
        while t < end:
            t += 0.5
            gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
            log.extend((t, c) for c in drain(gov, t))

    run_until(T0 + 70)  # speed reached 1.1 and a minute passed
    gov.set_incline(5, t)
    run_until(T0 + 75)
    incline_at = [at for at, c in log if c.kind == CommandKind.SET_INCLINE]
    assert len(incline_at) == 1
    gov.set_speed(150, t)
    run_until(T0 + 200)
    later_speed = [at for at, c in log if c.kind == CommandKind.SET_SPEED and at > incline_at[0]]
    assert later_speed
    assert min(later_speed) - incline_at[0] >= 60


def test_echo_of_our_own_stop_is_not_a_console_stop() -> None:
    gov = running(PAD, 150)
    gov.stop(T0 + 5, reason="planned rest")
    assert kinds(drain(gov, T0 + 5)) == [(CommandKind.STOP, None)]
    # Real pads echo the status to the client that caused it, even before the write response.
    gov.observe(DeviceEvent(at=T0 + 5.2, kind=EventKind.CONSOLE_STOP, value=None))
    assert gov.latch is None
    gov.observe(Reading(at=T0 + 8, speed=0))
    assert gov.phase == Phase.STOPPED
    # A console stop long after ours is a person at the console.
    gov.observe(DeviceEvent(at=T0 + 9, kind=EventKind.CONSOLE_STOP, value=None))
    assert gov.latch == LatchReason.CONSOLE_STOP


def test_a_console_pause_is_not_the_echo_of_our_stop() -> None:
    gov = running(PAD, 150)
    gov.stop(T0 + 5)
    drain(gov, T0 + 5)
    gov.observe(DeviceEvent(at=T0 + 5.5, kind=EventKind.CONSOLE_PAUSE, value=None))
    assert gov.latch == LatchReason.CONSOLE_PAUSE


def test_unusable_device_range_is_never_commanded() -> None:
    bad = DeviceInfo("bad", None, SpeedRange(100, 600, 0), InclineRange(50, 0, 5))
    gov = Governor(info=bad)
    assert gov.info.speed_range is None
    assert gov.info.incline_range is None
    gov.observe(Reading(at=T0, speed=0))
    with pytest.raises(NotSupportedError):
        gov.start(150, T0)
    assert drain(gov, T0) == []
