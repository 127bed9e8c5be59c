"""A person's speed changes in the pure governor (``Governor.request_speed``): never above what
was asked, +0.1 km/h at a time and per minute on every grid, none in the first 3 minutes of a
block, any decrease at any time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.safety.test_governor import FINE, PAD, T0, drain, running
from treadctl.observations import DeviceInfo, Reading
from treadctl.safety import limits as L
from treadctl.safety.actions import CommandKind, SetSpeed
from treadctl.safety.errors import (
    BelowDeviceMinimumError,
    BeltStateError,
    LimitExceededError,
    NudgeRefusedError,
)
from treadctl.safety.governor import Governor

MOVED = T0 + 1  # running() sees the belt move here: the block begins


def test_a_rise_in_the_first_3_minutes_after_the_belt_moved_is_refused() -> None:
    gov = running(FINE, 150)
    with pytest.raises(NudgeRefusedError, match="first 3 minutes") as info:
        gov.request_speed(160, MOVED + 100)
    assert info.value.wait_s == pytest.approx(80)
    assert gov.request_speed(140, MOVED + 100) == 140  # down: any time
    assert gov.request_speed(150, MOVED + L.NO_INCREASE_AT_BLOCK_START_S) == 150


def test_one_tenth_at_a_time_and_per_minute_on_a_fine_grid() -> None:
    gov = running(FINE, 150)
    t = MOVED + 200
    with pytest.raises(NudgeRefusedError, match=r"\+0.1 km/h at a time"):
        gov.request_speed(170, t)
    assert gov.request_speed(160, t) == 160
    with pytest.raises(NudgeRefusedError, match="per minute") as info:
        gov.request_speed(170, t + 30)
    assert info.value.wait_s == pytest.approx(30)
    assert gov.request_speed(170, t + 60) == 170


def test_on_a_half_km_grid_a_step_waits_five_minutes() -> None:
    """+0.1 km/h per minute means that on every grid: one 0.5 km/h step per 5 minutes."""
    gov = running(PAD, 150)
    t = MOVED + 200
    assert gov.request_speed(160, t) == 150  # rounded down: no rise, nothing refused
    assert gov.request_speed(200, t) == 200  # one device step, the first manual rise
    with pytest.raises(NudgeRefusedError, match=r"\+0.1 km/h at a time \(one 0.5 km/h"):
        gov.request_speed(300, t + 600)
    with pytest.raises(NudgeRefusedError, match="per minute") as info:
        gov.request_speed(250, t + 200)
    assert info.value.wait_s == pytest.approx(100)
    assert gov.request_speed(250, t + 300) == 250


def test_a_session_block_replaces_the_run_start() -> None:
    gov = running(FINE, 150)
    gov.set_block_start(MOVED + 300)  # a new backward block began
    with pytest.raises(NudgeRefusedError, match="first 3 minutes"):
        gov.request_speed(160, MOVED + 400)
    gov.set_block_start(None)  # a forward segment: no block hold
    assert gov.request_speed(160, MOVED + 400) == 160


def test_no_rise_before_the_belt_moves_and_none_while_stopped() -> None:
    gov = Governor(info=FINE)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(150, T0)
    drain(gov, T0)  # Start sent, the belt has not moved yet
    with pytest.raises(NudgeRefusedError, match="first 3 minutes"):
        gov.request_speed(160, T0 + 1)
    gov.stop(T0 + 2)
    with pytest.raises(BeltStateError):
        gov.request_speed(140, T0 + 2)


@given(
    grid=st.sampled_from([PAD, FINE]),
    start=st.sampled_from([100, 150, 200]),
    asks=st.lists(st.tuples(st.floats(0, 400), st.integers(0, 300)), max_size=12),
)
def test_never_above_what_was_asked_and_never_faster(
    grid: DeviceInfo, start: int, asks: list[tuple[float, int]]
) -> None:
    gov = running(grid, start)
    t = MOVED
    last_rise = float("-inf")
    for dt, speed in asks:
        t += dt
        before = gov.state().target_speed
        assert before is not None
        try:
            target = gov.request_speed(speed, t)
        except (NudgeRefusedError, LimitExceededError, BelowDeviceMinimumError):
            continue
        assert target <= speed
        if target > before:
            assert t - MOVED >= L.NO_INCREASE_AT_BLOCK_START_S
            assert t - last_rise >= max(60.0, 6.0 * (target - before)) - 1e-9
            last_rise = t
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed))
        drain(gov, t)


def test_restart_keeps_the_minute_between_incline_and_speed_rises() -> None:
    """Fixed with issue 12: a stop and a new start within a minute of an incline rise used to
    forget that rise, so the ramp after the restart raised speed in the same minute."""
    gov = running(FINE, 110)
    t = T0 + 1
    for _ in range(150):
        t += 0.5
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed, incline=0))
        drain(gov, t)
    gov.set_incline(5, t)
    incline_at = t
    assert [c.kind for c in drain(gov, t)] == [CommandKind.SET_INCLINE]
    gov.emergency_stop(t + 1)
    drain(gov, t + 1)
    gov.observe(Reading(at=t + 5, speed=0, incline=5))
    drain(gov, t + 5)
    gov.start(150, t + 5)
    speed_rises: list[float] = []
    now = t + 5
    previous = 0
    while now < t + 120:
        for c in drain(gov, now):
            if isinstance(c, SetSpeed):
                if previous and c.value > previous:
                    speed_rises.append(now)
                previous = c.value
        now += 0.5
        gov.observe(Reading(at=now, speed=gov.state().commanded_speed or 0, incline=5))
    assert speed_rises
    assert min(speed_rises) - incline_at >= L.SPEED_INCLINE_SEPARATION_S
