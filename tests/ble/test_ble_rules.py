"""Pure parts of the link: device range rounding, the mph check, the bounded stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.ble.errors import InclineOutOfRange, SpeedOutOfRange
from treadctl.ble.rules import MphCheck, device_incline, device_speed
from treadctl.ble.stream import ObservationStream
from treadctl.observations import (
    DeviceEvent,
    EventKind,
    InclineRange,
    Observation,
    Reading,
    SpeedRange,
)

ranges = st.builds(
    lambda low, span, inc: SpeedRange(low, low + span, inc),
    st.integers(0, 500),
    st.integers(0, 2000),
    st.integers(0, 100),
)


@given(ranges, st.integers(0, 5000))
def test_a_device_speed_never_exceeds_the_request_nor_the_range(
    speed_range: SpeedRange, requested: int
) -> None:
    if requested < speed_range.minimum:
        with pytest.raises(SpeedOutOfRange):
            device_speed(requested, speed_range)
        return
    sent = device_speed(requested, speed_range)
    assert sent <= requested
    assert speed_range.minimum <= sent <= speed_range.maximum
    step = max(speed_range.increment, 1)
    assert (sent - speed_range.minimum) % step == 0
    # and it is the highest such value: one more step would break a rule
    assert sent + step > min(requested, speed_range.maximum)


def test_speed_examples() -> None:
    pads = SpeedRange(50, 600, 10)
    assert device_speed(259, pads) == 250
    assert device_speed(600, pads) == 600
    assert device_speed(605, pads) == 600
    with pytest.raises(SpeedOutOfRange):
        device_speed(49, pads)
    with pytest.raises(SpeedOutOfRange):
        device_speed(100, None)


def test_incline_examples() -> None:
    incline = InclineRange(-30, 150, 5)
    assert device_incline(-27, incline) == -30
    assert device_incline(13, incline) == 10
    assert device_incline(400, incline) == 150
    with pytest.raises(InclineOutOfRange):
        device_incline(-31, incline)
    with pytest.raises(InclineOutOfRange):
        device_incline(0, None)


def test_mph_ratio_is_reported_once_when_settled() -> None:
    check = MphCheck()
    check.expect(200)
    assert [check.observe(s) for s in (100, 200, 300, 321, 322)] == [None] * 5
    ratio = check.observe(322)
    assert ratio == pytest.approx(1.61)
    assert check.observe(322) is None


def test_mph_check_flags_a_device_reporting_in_mph() -> None:
    check = MphCheck()
    check.expect(322)
    results = [check.observe(200) for _ in range(3)]
    assert results[:2] == [None, None]
    assert results[2] == pytest.approx(0.621, abs=0.001)


def test_mph_check_stays_quiet_for_a_correct_device() -> None:
    check = MphCheck()
    check.expect(200)
    assert [check.observe(s) for s in (150, 190, 199, 200, 200, 200, 200)] == [None] * 7


def test_the_stream_drops_oldest_readings_never_safety_events() -> None:
    stream: ObservationStream[Observation] = ObservationStream(max_readings=2)
    stream.push(Reading(0.0, speed=1))
    stream.push(DeviceEvent(0.0, EventKind.SAFETY_KEY))
    for speed in (2, 3, 4):
        stream.push(Reading(0.0, speed=speed))
    for _ in range(100):
        stream.push(DeviceEvent(0.0, EventKind.CONTROL_LOST))
    items = list(stream._items)
    assert stream.dropped_readings == 2
    assert [i.speed for i in items if isinstance(i, Reading)] == [3, 4]
    assert items[0] == DeviceEvent(0.0, EventKind.SAFETY_KEY)
    assert sum(isinstance(i, DeviceEvent) for i in items) == 101


async def test_the_stream_ends_after_close_once_drained() -> None:
    stream: ObservationStream[Observation] = ObservationStream(max_readings=2)
    stream.push(Reading(0.0, speed=1))
    stream.close()
    stream.push(Reading(0.0, speed=2))  # ignored after close
    assert [item async for item in stream] == [Reading(0.0, speed=1)]


def test_mph_check_ignores_a_belt_running_down_at_the_real_pads_rate() -> None:
    # From 4.00 km/h down to a 2.00 km/h target at 0.3 km/h per second, a reading every
    # ~190 ms: the belt passes 3.22 km/h (1.609 x 2.00) without settling there.
    check = MphCheck()
    check.expect(200)
    speeds = [400 - round(i * 0.19 * 30) for i in range(36)] + [200] * 5
    assert all(check.observe(max(s, 200)) is None for s in speeds)
