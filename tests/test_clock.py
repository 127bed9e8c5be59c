"""The one clock (treadctl.clock): real monotonic time, optionally compressed for the simulator."""

from __future__ import annotations

import asyncio
import time

import pytest

from treadctl.clock import MonotonicClock


def test_without_speedup_it_reads_the_monotonic_clock() -> None:
    clock = MonotonicClock()
    before = time.monotonic()
    now = clock.now()
    assert before <= now <= time.monotonic()
    assert clock.wall(2.5) == 2.5
    assert clock.wall(-1.0) == 0.0


def test_speedup_compresses_durations_from_its_start() -> None:
    clock = MonotonicClock(20.0, start=0.0)
    first = clock.now()
    assert 0.0 <= first < 20.0  # at most a second of real time has passed
    assert clock.wall(10.0) == pytest.approx(0.5)
    assert clock.now() >= first


@pytest.mark.parametrize("speedup", [0.0, -1.0])
def test_speedup_must_be_positive(speedup: float) -> None:
    with pytest.raises(ValueError, match="speedup"):
        MonotonicClock(speedup)


async def test_wait_returns_on_the_event_or_at_the_deadline() -> None:
    clock = MonotonicClock(100.0)
    event = asyncio.Event()
    async with asyncio.timeout(5):
        await clock.wait(event, clock.now() + 1.0)  # 1 simulated second: 10 ms of real time
    assert not event.is_set()
    event.set()
    async with asyncio.timeout(5):
        await clock.wait(event, None)  # already set: returns after one yield
