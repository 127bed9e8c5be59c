"""``DeviceRuntime.handle`` in this process: arming, link down, caps, unknown profiles, the
emergency stop. The belt's answer is read from the simulator's trace and state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.daemon.inprocess import config_for, simulators, until_ready
from treadctl.commands import (
    Arm,
    Command,
    EmergencyStop,
    Pause,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartProfile,
    Stop,
)
from treadctl.daemon.app import Daemon
from treadctl.daemon.device import DeviceRuntime

OP_START = 0x07
OP_SET_SPEED = 0x02
OP_STOP = 0x08

BELT_MOVING: list[Command] = [
    StartProfile("quick-back"),
    Resume(),
    SetSpeed(1.0),
    SetIncline(1.0),
    SkipSegment(),
]


def _code(runtime: DeviceRuntime, command: Command) -> str | None:
    result = runtime.handle(command)
    return result.error.code if result.error is not None else None


# --------------------------------------------------------------------- link down (not running)


def _idle_runtime(tmp_path: Path) -> DeviceRuntime:
    """A configured treadmill whose link never came up (the daemon is not running)."""
    config = config_for(tmp_path, [("tm1", "local:nowhere")])
    return Daemon(config).devices["tm1"]


@pytest.mark.parametrize("command", BELT_MOVING, ids=lambda c: type(c).__name__)
def test_belt_moving_commands_need_arming(tmp_path: Path, command: Command) -> None:
    runtime = _idle_runtime(tmp_path)
    assert _code(runtime, command) == "not_armed"


@pytest.mark.parametrize("command", BELT_MOVING, ids=lambda c: type(c).__name__)
def test_armed_but_link_down_is_refused_and_nothing_queued(
    tmp_path: Path, command: Command
) -> None:
    runtime = _idle_runtime(tmp_path)
    assert runtime.handle(Arm()).ok
    assert _code(runtime, command) == "link_down"
    assert runtime.runner.state.value == "idle"


@pytest.mark.parametrize("command", [Stop(), Pause(), SelectProfile("quick-back")])
def test_stopping_and_selecting_need_no_arming(tmp_path: Path, command: Command) -> None:
    runtime = _idle_runtime(tmp_path)
    assert _code(runtime, command) != "not_armed"


def test_emergency_stop_is_accepted_unarmed_and_link_down(tmp_path: Path) -> None:
    runtime = _idle_runtime(tmp_path)
    assert runtime.handle(Arm()).ok
    assert runtime.handle(EmergencyStop()).ok
    # ... and it disarms.
    assert _code(runtime, StartProfile("quick-back")) == "not_armed"


def test_unknown_profile(tmp_path: Path) -> None:
    runtime = _idle_runtime(tmp_path)
    assert _code(runtime, SelectProfile("no-such-profile")) == "unknown_profile"
    assert runtime.handle(Arm()).ok
    runtime.link_up = True  # past the link check: the catalog decides
    assert _code(runtime, StartProfile("no-such-profile")) == "unknown_profile"
    assert _code(runtime, StartProfile(None)) == "unknown_profile"  # none selected


# --------------------------------------------------------------------- against a simulator


async def test_remote_start_needs_arming_then_runs_and_emergency_stop_stops(
    tmp_path: Path,
) -> None:
    async with simulators(1) as (sim,):
        daemon = Daemon(config_for(tmp_path, [("tm1", sim.transport)]))
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            runtime = daemon.devices["tm1"]

            assert _code(runtime, StartProfile("long-back")) == "not_armed"
            assert sim.writes(OP_START) == []

            assert runtime.handle(Arm()).ok
            assert runtime.handle(StartProfile("long-back")).ok
            await sim.belt(at_least=100)
            # Over the caps in force (the profile's 1.2 km/h): refused, not clamped.
            assert _code(runtime, SetSpeed(1.3)) == "over_cap"
            assert _code(runtime, SetSpeed(3.5)) == "over_cap"
            assert runtime.handle(EmergencyStop()).ok
            await sim.belt(at_most=0)
            stops = sim.writes(OP_STOP)
            assert stops
            assert stops[-1]["hex"] == "0801"
            # The emergency stop disarmed remote control.
            assert _code(runtime, StartProfile("long-back")) == "not_armed"
            assert max(r["speed"] for r in sim.records("belt")) == 100

            daemon.request_stop("test over")
            await running


async def test_local_commands_skip_arming(tmp_path: Path) -> None:
    async with simulators(1) as (sim,):
        daemon = Daemon(config_for(tmp_path, [("tm1", sim.transport)]))
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            runtime = daemon.devices["tm1"]
            assert runtime.handle_local(StartProfile("long-back")).ok
            await sim.belt(at_least=100)
            assert runtime.handle_local(Stop()).ok
            await sim.belt(at_most=0)
            daemon.request_stop("test over")
            await running
        assert [r["op"] for r in sim.writes()].count(OP_START) == 1
