"""The daemon's heart-rate feed without a radio: the treadmill's own heart-rate field as the
source, per-person limits, and a strap side that fails (the guard holds; nothing crashes)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.control.fakes import FakeClock, FakePort
from treadctl.ble.strap import StrapLink, StrapSupervisor
from treadctl.control.governed import GovernedTreadmill
from treadctl.daemon.heart_rate import HeartRateFeed
from treadctl.hrs import HeartRateSource, SensorStatus
from treadctl.observations import Reading
from treadctl.safety.heart_rate import HeartRateLimits

LIMITS = HeartRateLimits(150)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []
        self.failed = asyncio.Event()

    def __call__(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))
        if event == "heart_rate_sensor_failed":
            self.failed.set()


def feed(source: str, limits: HeartRateLimits | None = LIMITS) -> tuple[HeartRateFeed, Log]:
    clock = FakeClock()
    governed = GovernedTreadmill(FakePort(clock=clock), clock=clock)
    log = Log()
    hr = HeartRateFeed("tm", source, governed, clock=clock, log=log, limits_for=lambda _p: limits)
    hr.begin(None)
    return hr, log


def test_the_treadmills_field_as_the_source() -> None:
    hr, log = feed("treadmill")
    assert hr.supervisor is None
    assert log.lines[0][0] == "heart_rate_limits"
    hr.treadmill_reading(Reading(at=0.0, speed=0, heart_rate_bpm=0))  # no hands on the grips
    assert hr.governed.heart_rate_guard is not None
    now = hr.clock.now()
    assert hr.governed.heart_rate_guard.verdict(now).hold is not None
    assert hr.state().contact == "not_detected"
    clock = hr.clock
    assert isinstance(clock, FakeClock)
    for bpm in (95, 96):  # two values in a row below the soft limit release the hold
        clock.advance(1.0)
        hr.treadmill_reading(Reading(at=0.0, speed=0, heart_rate_bpm=bpm))
    verdict = hr.governed.heart_rate_guard.verdict(hr.clock.now())
    assert (verdict.hold, verdict.bpm) == (None, 96)
    assert hr.state().contact == "not_supported"
    hr.treadmill_reading(Reading(at=0.0, speed=0))  # a record without the field: nothing
    assert hr.summary()["max_bpm"] == 96


def test_no_limits_no_guard_but_shown_and_recorded() -> None:
    hr, log = feed("treadmill", limits=None)
    assert hr.governed.heart_rate_guard is None
    assert "none" in str(log.lines[0][1]["limits"])
    clock = hr.clock
    assert isinstance(clock, FakeClock)
    for bpm in (140, 255, 142):  # no limits: high values are shown, the 255 is not
        clock.advance(1.0)
        hr.treadmill_reading(Reading(at=0.0, speed=0, heart_rate_bpm=bpm))
    state = hr.state()
    assert (state.bpm, state.holding) == (142, False)
    assert hr.governed.state().heart_rate_hold is None
    summary = hr.summary()
    assert (summary["guarded"], summary["max_bpm"], summary["filtered"]) == (False, 142, 1)


async def test_a_failing_strap_side_is_a_lost_signal_not_a_crash() -> None:
    hr, log = feed("strap")

    def broken() -> StrapLink:
        raise RuntimeError("bug in the strap code")

    hr.supervisor = StrapSupervisor(broken)
    async with asyncio.TaskGroup() as tasks:
        running = tasks.create_task(hr.run(None))
        async with asyncio.timeout(5):
            await log.failed.wait()
        assert not running.done()  # the feed keeps going (the treadmill's tasks too)
        assert hr.connected is False
        guard = hr.governed.heart_rate_guard
        assert guard is not None
        assert guard.verdict(hr.clock.now()).hold is not None
        running.cancel()


def test_a_low_strap_battery_is_reported_once_per_drop() -> None:
    hr, log = feed("strap")
    for percent in (90, 14, 10, 80, 12):
        hr._item(SensorStatus(0.0, HeartRateSource.STRAP, True, battery_percent=percent))
    low = [
        fields["battery_percent"]
        for event, fields in log.lines
        if event == "heart_rate_battery_low"
    ]
    assert low == [14, 12]
    assert hr.state().battery_percent == 12
