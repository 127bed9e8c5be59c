"""An unexpected exception in any device task stops the belt (every belt) before the daemon
ends. The exception is injected into the real daemon's tasks; the simulator proves the Stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.systemd_notify import NotifyListener
from tests.daemon.inprocess import DEADLINE_S, SimHandle, config_for, simulators, until_ready
from treadctl.commands import StartProfile
from treadctl.daemon.app import Daemon
from treadctl.daemon.device import DeviceRuntime
from treadctl.observations import Observation, Reading

OP_STOP = 0x08


class Injected(RuntimeError):
    """The fault a test injects."""


def _fail_in_pump(runtime: DeviceRuntime) -> None:
    """The observation pump raises on the first reading with the belt at 1.0 km/h."""
    observe = runtime.runner.observe

    def failing(obs: Observation) -> None:
        observe(obs)
        if isinstance(obs, Reading) and (obs.speed or 0) >= 100:
            raise Injected("observation pump")

    runtime.runner.observe = failing  # type: ignore[method-assign]


def _fail_in_session(runtime: DeviceRuntime) -> None:
    """The session loop raises once the belt moves at 1.0 km/h."""

    async def failing() -> object:
        await runtime.governed.wait_for(lambda s: (s.belt_speed or 0) >= 100)
        raise Injected("session loop")

    runtime.runner.run = failing  # type: ignore[assignment,method-assign]


async def _run_until_failure(daemon: Daemon, start: list[str]) -> BaseException:
    async def body() -> None:
        await until_ready(daemon)
        for device in start:
            assert daemon.devices[device].handle_local(StartProfile("long-back")).ok

    try:
        async with asyncio.timeout(DEADLINE_S), asyncio.TaskGroup() as tg:
            tg.create_task(daemon.run(handle_signals=False))
            tg.create_task(body())
    except BaseExceptionGroup as group:
        return group
    raise AssertionError("the daemon did not fail")


def _has(group: BaseException, kind: type[BaseException]) -> bool:
    if isinstance(group, BaseExceptionGroup):
        return any(_has(e, kind) for e in group.exceptions)
    return isinstance(group, kind)


async def _stopped_by_us(sim: SimHandle) -> None:
    stops = sim.writes(OP_STOP)
    assert stops, "no Stop reached the simulator"
    assert stops[-1]["hex"] == "0801"
    assert stops[-1]["result"] == 1
    # The belt runs down after the Stop (nobody is connected any more to stop it otherwise).
    await sim.belt(at_most=0)


@pytest.mark.parametrize("inject", [_fail_in_pump, _fail_in_session], ids=["pump", "session"])
async def test_an_exception_in_a_device_task_stops_the_belt(
    tmp_path: Path, inject: Callable[[DeviceRuntime], None]
) -> None:
    async with simulators(1) as (sim,):
        daemon = Daemon(config_for(tmp_path, [("tm1", sim.transport)]))
        inject(daemon.devices["tm1"])
        failure = await _run_until_failure(daemon, ["tm1"])
        assert _has(failure, Injected)
        await _stopped_by_us(sim)


async def test_one_treadmill_failing_stops_the_other_belt_too(tmp_path: Path) -> None:
    async with simulators(2) as (one, two):
        config = config_for(tmp_path, [("tm1", one.transport), ("tm2", two.transport)])
        daemon = Daemon(config)
        # tm2's pump fails once its belt moves; tm1 starts first and is moving by then.
        _fail_in_pump(daemon.devices["tm2"])
        failure = await _run_until_failure(daemon, ["tm1", "tm2"])
        assert _has(failure, Injected)
        await _stopped_by_us(two)
        await _stopped_by_us(one)


async def test_a_malformed_watchdog_variable_does_not_stop_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with NotifyListener(None) as listener:
        monkeypatch.setenv("NOTIFY_SOCKET", listener.address)
        monkeypatch.setenv("WATCHDOG_USEC", "thirty seconds")
        async with simulators(1) as (sim,):
            daemon = Daemon(config_for(tmp_path, [("tm1", sim.transport)]))
            async with asyncio.timeout(DEADLINE_S), asyncio.TaskGroup() as tg:
                running = tg.create_task(daemon.run(handle_signals=False))
                await until_ready(daemon)
                await listener.wait_for("READY", "1")
                assert daemon.devices["tm1"].handle_local(StartProfile("long-back")).ok
                await sim.belt(at_least=100)
                daemon.request_stop("test over")
                await running
            await listener.wait_for("STOPPING", "1")
            assert not [m for m in listener.drain() if "WATCHDOG" in m]
            # The session ran and was stopped by the shutdown, not by a failure.
            assert sim.writes(OP_STOP)[-1]["hex"] == "0801"
