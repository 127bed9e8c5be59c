"""The async surfaces: GovernedTreadmill's sender loop, SessionRunner.run() and snapshots(),
driven by the fake clock (time moves only when the test advances it)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.control.fakes import FINE, FakeClock, FakePort
from tests.control.test_session import SHORT
from treadctl.control.governed import GovernedTreadmill, StartFailedError
from treadctl.control.session import REST_OVER, SessionRunner
from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.observations import EventKind
from treadctl.safety.phases import Phase
from treadctl.workout.loader import load_profile_text

GUARD_S = 30  # a net against a hang; no assertion depends on real time


async def step(clock: FakeClock, port: FakePort, runner: SessionRunner) -> None:
    """One second of device time: data if connected, then let the sender catch up."""
    clock.advance(1.0)
    port.tick()
    if port.connected:
        runner.observe(port.reading())
    await runner.belt.pump()
    # Give the other tasks (the sender loop, run(), the collector) their turn: a yield to the
    # event loop, not a delay; the fake clock only moves when this driver advances it.
    await asyncio.sleep(0)


async def test_run_and_snapshots_drive_a_whole_session() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    seen: list[SessionSnapshot] = []

    async def collect(runner: SessionRunner) -> None:
        async for snap in runner.snapshots():
            seen.append(snap)

    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        runner = SessionRunner(belt, clock=clock)
        runner.observe(port.reading())
        runner.arm(load_profile_text(SHORT))
        async with asyncio.TaskGroup() as tg:
            tg.create_task(collect(runner))
            run = tg.create_task(runner.run())
            runner.start()
            while not run.done():
                snap = runner.snapshot()
                rest_over = snap.state == SessionState.PAUSED and snap.reason == REST_OVER
                if rest_over and port.belt_speed == 0:
                    runner.resume()
                await step(clock, port, runner)
        summary = run.result()
    assert summary.ended == "finished"
    assert summary.reason is None
    states = [s.state for s in seen]
    assert states[0] == SessionState.STARTING  # the collector's first turn is after start()
    assert SessionState.RUNNING in states
    assert SessionState.PAUSED in states
    assert states[-1] == SessionState.FINISHED
    assert len(seen) >= 7 * 60  # about one per second of session time
    assert [s.kind for s in port.log].count("start") == 2
    assert port.log[-1].kind == "stop"


async def test_leaving_the_context_stops_a_moving_belt() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    async with asyncio.timeout(GUARD_S):
        async with GovernedTreadmill(port, clock=clock) as belt:
            belt.observe(port.reading())
            belt.start(150)
            await belt.wait_for(lambda s: s.phase == Phase.STARTING and port.running)
            belt.observe(port.reading())
            await belt.wait_running()
        assert port.log[-1].kind == "stop"


async def test_wait_running_reports_a_start_that_fails() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    port.fail_next.add("start")
    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        belt.observe(port.reading())
        belt.start(150)
        with pytest.raises(StartFailedError) as info:
            await belt.wait_running()
    assert info.value.reason is not None
    assert info.value.reason.value == "command_failed"


async def test_stale_telemetry_deadline_fires_in_the_sender_loop() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        belt.observe(port.reading())
        belt.start(150)
        await belt.wait_for(lambda s: port.running)
        belt.observe(port.reading())
        await belt.wait_running()
        clock.advance(3.5)  # no data: the loop's own deadline must fire
        state = await belt.wait_for(lambda s: s.latch is not None)
        assert state.latch is not None
        assert state.latch.value == "stale_telemetry"
        await belt.wait_for(lambda s: port.log[-1].kind == "stop")


async def test_emergency_stop_interrupts_a_hung_write() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    hang = asyncio.Event()
    original = port.set_target_speed

    async def hanging_set_speed(speed: int) -> None:
        await original(speed)
        if port.running:
            await hang.wait()  # a link that never answers

    port.set_target_speed = hanging_set_speed  # type: ignore[method-assign]
    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        belt.observe(port.reading())
        belt.start(150)
        await belt.wait_for(lambda s: port.running)
        belt.observe(port.reading())
        await belt.wait_running()
        clock.advance(1.0)
        belt.observe(port.reading())
        await belt.wait_for(
            lambda s: port.log[-1].kind == "set_speed" and port.log[-1].value == 110
        )
        belt.emergency_stop()
        await belt.wait_for(lambda s: port.log[-1].kind == "stop")
        notices = [n.what for n in belt.drain_notices()]
    assert port.running is False
    assert any("set_speed interrupted by an emergency stop" in n for n in notices), notices


async def test_disconnect_event_through_the_runner() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        runner = SessionRunner(belt, clock=clock)
        runner.observe(port.reading())
        runner.arm(load_profile_text(SHORT))
        async with asyncio.TaskGroup() as tg:
            run = tg.create_task(runner.run())
            runner.start()
            while not run.done():
                snap = runner.snapshot()
                if snap.state == SessionState.RUNNING and snap.elapsed_s >= 5:
                    runner.observe(port.event(EventKind.DISCONNECTED))
                elif snap.state == SessionState.PAUSED:
                    assert snap.reason == "disconnected"
                    runner.stop()
                await step(clock, port, runner)
    assert runner.state == SessionState.FINISHED
    assert runner.snapshot().reason == "stopped_by_user"
    assert "start" not in [s.kind for s in port.log[port.log.index(port.sent("start")[0]) + 1 :]]


async def test_notices_stream() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    async with asyncio.timeout(GUARD_S), GovernedTreadmill(port, clock=clock) as belt:
        belt.observe(port.reading())
        stream = belt.notices()
        belt.emergency_stop()
        notice = await anext(stream)
        assert notice.latch is not None
        assert notice.latch.value == "emergency_stop"
        await stream.aclose()


async def test_observations_are_timed_on_the_governors_clock() -> None:
    clock = FakeClock()
    port = FakePort(clock=clock, info=FINE)
    belt = GovernedTreadmill(port, clock=clock)
    reading = port.reading()
    belt.observe(replace(reading, at=reading.at - 500.0))  # a link on another clock base
    assert belt.state().last_reading_at == clock.now()
    belt.start(150)  # the reading is fresh on the governor's clock: the start is allowed
