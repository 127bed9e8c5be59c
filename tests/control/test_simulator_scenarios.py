"""Scenarios against the real simulator: SessionRunner -> GovernedTreadmill -> TreadmillLink
(bleak on a Bumble host) -> treadsim (a Bumble GATT server) on an in-process LocalLink.

Every reaction of issue 5 is provoked on the simulator (console, safety key, control taken,
disconnect, silence, a console speed above the cap, an mph device), and the simulator's own
trace proves what was commanded: which control point writes arrived after the event.
Real time runs here (the governor's clock is monotonic); the simulator runs 20x faster, so the
belt's 3 s start countdown takes 0.15 s. Every wait has a deadline; no assertion is on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from harness.simulator import in_process_simulator
from simulators.treadsim import Simulator
from simulators.treadsim.quirks import Quirk
from treadctl.ble import bumble_host
from treadctl.ble.bumble_host import register_local_link
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.session import REST_OVER, SessionRunner
from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.safety.errors import BeltStateError
from treadctl.workout.loader import load_profile_text
from treadctl.workout.models import Profile

SPEEDUP = 20.0
DEADLINE = 15.0
_names = itertools.count()

OP_START, OP_STOP_PAUSE, OP_SPEED = 0x07, 0x08, 0x02

HEAD = """\
name: scenario
description: scenario
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 2.0
segments:
"""
LONG = load_profile_text(
    HEAD + "  - kind: backward\n    duration: 5 min\n    speed_kmh: 1.0\n    cue: small steps\n"
)
WITH_REST = load_profile_text(
    HEAD
    + "  - kind: backward\n    duration: 4 s\n    speed_kmh: 1.0\n"
    + "  - kind: rest\n    duration: 1 s\n    belt: stopped\n"
    + "  - kind: backward\n    duration: 3 s\n    speed_kmh: 1.0\n"
)


@dataclass
class Scene:
    sim: Simulator
    trace: io.StringIO
    link: TreadmillLink
    belt: GovernedTreadmill
    runner: SessionRunner

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.trace.getvalue().splitlines()]

    def mark(self) -> int:
        return len(self.records())

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        return [r for r in self.records()[since:] if r["kind"] == "write"]

    def ops(self, since: int = 0) -> list[int]:
        return [w["op"] for w in self.writes(since)]

    def stop_writes(self, since: int = 0) -> list[str]:
        return [w["hex"] for w in self.writes(since) if w["op"] == OP_STOP_PAUSE]

    def belt_speeds(self) -> list[int]:
        return [r["speed"] for r in self.records() if r["kind"] == "belt"]

    async def until(self, predicate: Callable[[SessionSnapshot], bool]) -> SessionSnapshot:
        async with asyncio.timeout(DEADLINE):
            async for snap in self.runner.snapshots():
                if predicate(snap):
                    return snap
        raise AssertionError(f"session ended as {self.runner.snapshot()}")

    async def sim_belt(self, predicate: Callable[[int], bool]) -> int:
        async with asyncio.timeout(DEADLINE):
            state = await self.sim.wait_for(lambda s: predicate(s.machine.belt_speed))
        return state.machine.belt_speed

    async def running(self, profile: Profile = LONG) -> None:
        self.runner.arm(profile)
        await self.sim.resume_notifying()  # the idle simulator sends data once woken
        async with asyncio.timeout(DEADLINE):
            await self.belt.wait_for(lambda s: s.belt_speed == 0 and s.last_reading_at is not None)
        self.runner.start()
        await self.until(lambda s: s.state == SessionState.RUNNING)
        await self.sim_belt(lambda v: v > 0)


async def _feed(link: TreadmillLink, runner: SessionRunner) -> None:
    async for obs in link.observations():
        runner.observe(obs)


@contextlib.asynccontextmanager
async def scene(*quirks: Quirk, preset: str = "generic") -> AsyncIterator[Scene]:
    trace = io.StringIO()
    sim_args: dict[str, Any] = {"preset": preset, "quirks": list(quirks), "speedup": SPEEDUP}
    async with in_process_simulator(trace=trace, **sim_args) as sim:
        with register_local_link(f"scenario{next(_names)}", sim.link) as spec:
            options = LinkOptions(backend="bumble", transport=spec, idle_release_s=None)
            async with TreadmillLink(options) as link, GovernedTreadmill(link) as belt:
                runner = SessionRunner(belt)
                async with asyncio.TaskGroup() as tg:
                    feeder = tg.create_task(_feed(link, runner))
                    run = tg.create_task(runner.run())
                    try:
                        yield Scene(sim, trace, link, belt, runner)
                    finally:
                        feeder.cancel()
                        run.cancel()
    assert bumble_host.registry().open_specs() == []


async def test_a_session_with_a_rest_on_a_walking_pad() -> None:
    async with scene(preset="citysports-wp8") as s:
        await s.running(WITH_REST)
        snap = await s.until(lambda x: x.state == SessionState.PAUSED)
        assert snap.reason == REST_OVER
        await s.sim_belt(lambda v: v == 0)
        assert s.ops().count(OP_START) == 1  # the rest never restarts the belt by itself
        s.runner.resume()
        done = await s.until(lambda x: x.state in (SessionState.FINISHED, SessionState.ABORTED))
        assert done.state == SessionState.FINISHED
        await s.sim_belt(lambda v: v == 0)
    assert s.ops().count(OP_START) == 2  # one per explicit start/resume
    speeds = [w["hex"] for w in s.writes() if w["op"] == OP_SPEED]
    assert speeds
    assert all(int.from_bytes(bytes.fromhex(h)[1:3], "little") <= 100 for h in speeds)
    assert max(s.belt_speeds()) <= 100


@pytest.mark.parametrize(
    ("action", "state", "reason"),
    [
        ("pull_safety_key", SessionState.ABORTED, "safety_key"),
        ("press_stop", SessionState.ABORTED, "console_stop"),
        ("press_pause", SessionState.PAUSED, "console_pause"),
    ],
)
async def test_console_and_safety_key(action: str, state: SessionState, reason: str) -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.command(action)
        snap = await s.until(lambda x: x.state == state)
        assert snap.reason == reason
        await s.sim_belt(lambda v: v == 0)
        after = s.ops(mark)
    assert OP_START not in after
    assert OP_SPEED not in after


async def test_console_pause_then_explicit_resume() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.press_pause()
        await s.until(lambda x: x.state == SessionState.PAUSED)
        await s.sim_belt(lambda v: v == 0)
        async with asyncio.timeout(DEADLINE):
            await s.belt.wait_for(lambda g: g.belt_speed == 0)
        assert OP_START not in s.ops(mark)
        s.runner.resume()
        await s.until(lambda x: x.state == SessionState.RUNNING)
        await s.sim_belt(lambda v: v > 0)
    assert s.ops(mark).count(OP_START) == 1


async def test_control_taken_pauses_and_stops_the_belt() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.take_control()
        snap = await s.until(lambda x: x.state == SessionState.PAUSED)
        assert snap.reason == "control_lost"
        await s.sim_belt(lambda v: v == 0)
        after = s.ops(mark)
    assert after[:2] == [0x00, OP_STOP_PAUSE]  # Request Control again, then Stop
    assert s.stop_writes(mark)[0] == "0801"
    assert OP_START not in after


async def test_disconnect_pauses_and_nothing_more_is_sent() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.disconnect_now()
        snap = await s.until(lambda x: x.state == SessionState.PAUSED)
        assert snap.reason == "disconnected"
        with pytest.raises(BeltStateError):
            s.runner.resume()  # nothing to start without a connection
        after = s.ops(mark)
    assert after == []


async def test_stale_telemetry_pauses_and_stops() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.stop_notifying()
        snap = await s.until(lambda x: x.state == SessionState.PAUSED)
        assert snap.reason == "stale_telemetry"
        await s.sim_belt(lambda v: v == 0)
        assert s.stop_writes(mark) == ["0801"]
    # (leaving the governed treadmill may send one more Stop: it never saw the belt reach 0)
    assert OP_START not in s.ops(mark)


async def test_console_speed_above_the_cap_stops_the_belt() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.console_set_speed(300)  # someone presses + on the console: 3.0 > cap 2.0
        snap = await s.until(lambda x: x.state == SessionState.ABORTED)
        assert snap.reason == "overspeed"
        await s.sim_belt(lambda v: v == 0)
    assert s.stop_writes(mark)
    assert OP_START not in s.ops(mark)
    assert OP_SPEED not in s.ops(mark)


async def test_mph_device_is_stopped() -> None:
    async with scene(Quirk.TARGET_SPEED_IN_MPH) as s:
        s.runner.arm(LONG)
        await s.sim.resume_notifying()
        async with asyncio.timeout(DEADLINE):
            await s.belt.wait_for(lambda g: g.belt_speed == 0 and g.last_reading_at is not None)
        s.runner.start()
        snap = await s.until(lambda x: x.state == SessionState.ABORTED)
        assert snap.reason in ("mph_suspected", "overspeed")
        await s.sim_belt(lambda v: v == 0)
    assert s.stop_writes()
    assert s.ops().count(OP_START) == 1


async def test_start_is_refused_while_the_belt_runs() -> None:
    async with scene(Quirk.START_IS_A_TOGGLE) as s:
        s.runner.arm(LONG)
        await s.sim.resume_notifying()
        await s.sim.press_start()  # the person started the belt at the console
        async with asyncio.timeout(DEADLINE):
            await s.belt.wait_for(lambda g: (g.belt_speed or 0) > 0)
        with pytest.raises(BeltStateError, match="moving"):
            s.runner.start()
    assert OP_START not in s.ops()


async def test_emergency_stop_while_a_write_is_pending() -> None:
    async with scene() as s:
        await s.running()
        mark = s.mark()
        await s.sim.delay_next_indication(2.0)  # the device sits on the next procedure
        s.belt.set_speed(150)  # a ramp write goes out and waits for its indication
        async with asyncio.timeout(DEADLINE):
            await s.sim.wait_for(lambda st: st.procedure_pending)
        s.runner.emergency_stop()
        snap = await s.until(lambda x: x.state == SessionState.ABORTED)
        assert snap.reason == "emergency_stop"
        await s.sim_belt(lambda v: v == 0)
        stops = [w for w in s.writes(mark) if w["op"] == OP_STOP_PAUSE]
        notices = [n.what for n in s.belt.drain_notices()]
    # The Stop did not queue behind the pending write: it reached the device while that
    # procedure was still open (ATT 0xFE, FTMS §4.16.3) and was retried until accepted.
    assert stops[0].get("att_error") == 0xFE
    assert stops[-1].get("result") == 1
    assert all(w["hex"] == "0801" for w in stops)
    assert any("interrupted by an emergency stop" in n for n in notices), notices
    assert OP_START not in s.ops(mark)
