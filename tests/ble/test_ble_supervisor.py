"""The reconnect supervisor: backs off, publishes link states, never re-applies speed or Start."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
from bumble.link import LocalLink

from harness.peripheral import peripheral
from treadctl.ble.errors import NotConnected
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.supervisor import LinkState, LinkStateEvent, ReconnectSupervisor, SupervisorItem
from treadctl.observations import DeviceEvent, EventKind, Reading

DEADLINE = 5.0


def options(spec: str, **overrides: object) -> LinkOptions:
    return LinkOptions(
        backend="bumble",
        transport=spec,
        idle_release_s=None,
        **overrides,  # type: ignore[arg-type]
    )


async def until_state(items: AsyncIterator[SupervisorItem], state: LinkState) -> LinkStateEvent:
    async with asyncio.timeout(DEADLINE):
        async for item in items:
            if isinstance(item, LinkStateEvent) and item.state is state:
                return item
    raise AssertionError("stream ended")


async def until_speed(items: AsyncIterator[SupervisorItem], speed: int) -> None:
    async with asyncio.timeout(DEADLINE):
        async for item in items:
            if isinstance(item, Reading) and item.speed == speed:
                return
    raise AssertionError("stream ended")


async def test_after_a_reconnect_nothing_is_sent_to_the_belt(link: LocalLink, spec: str) -> None:
    async with peripheral(link) as tread:
        supervisor = ReconnectSupervisor(
            lambda: TreadmillLink(options(spec)), backoff=lambda _n: 0.0
        )
        items = supervisor.observations()
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(supervisor.run())
            await until_state(items, LinkState.CONNECTED)
            await tread.notify_speed(0)
            await until_speed(items, 0)
            await supervisor.port.start()
            await tread.notify_speed(120)
            await until_speed(items, 120)
            await supervisor.port.set_target_speed(200)
            before = list(tread.cp_writes)
            assert before == [b"\x00", b"\x07", b"\x02" + struct.pack("<H", 200)]

            await tread.drop_connection()
            down = await until_state(items, LinkState.DISCONNECTED)
            assert down.retry_in_s == 0.0
            assert "disconnected" in down.reason
            assert down.problem is not None
            assert down.problem.code == "link_lost"
            await until_state(items, LinkState.CONNECTED)
            await tread.notify_speed(0)  # the belt stopped while the link was down
            await until_speed(items, 0)

            assert tread.cp_writes == before  # no Request Control, no speed, no Start
            assert supervisor.connections == 2
            assert supervisor.link is not None
            assert not supervisor.link.has_control
            runner.cancel()


async def test_failed_connects_back_off_by_the_given_function(spec: str) -> None:
    delays: list[int] = []

    def backoff(attempt: int) -> float:
        delays.append(attempt)
        return 0.0

    supervisor = ReconnectSupervisor(
        lambda: TreadmillLink(options(spec, scan_timeout_s=0.05)), backoff=backoff
    )
    items = supervisor.observations()
    async with asyncio.TaskGroup() as group:
        runner = group.create_task(supervisor.run())
        states = []
        for _ in range(3):
            states.append(await until_state(items, LinkState.DISCONNECTED))
        with pytest.raises(NotConnected):
            await supervisor.port.stop()
        assert not supervisor.port.connected
        runner.cancel()
    assert [s.attempt for s in states] == [1, 2, 3]
    assert delays[:3] == [1, 2, 3]
    assert all(s.problem is not None and s.problem.code == "not_found" for s in states)
    assert all("no FTMS treadmill heard in 0.05 s" in s.reason for s in states)
    assert all("`treadctl scan` lists what is heard" in s.reason for s in states)


async def test_the_port_stream_carries_observations_only(link: LocalLink, spec: str) -> None:
    async with peripheral(link) as tread:
        supervisor = ReconnectSupervisor(lambda: TreadmillLink(options(spec)))
        seen: list[object] = []
        async with asyncio.TaskGroup() as group:
            runner = group.create_task(supervisor.run())
            async with asyncio.timeout(DEADLINE):
                async for item in supervisor.port.observations():
                    seen.append(item)
                    if isinstance(item, DeviceEvent) and item.kind is EventKind.CONNECTED:
                        await tread.notify_speed(42)
                    if isinstance(item, Reading):
                        break
            runner.cancel()
    assert not any(isinstance(item, LinkStateEvent) for item in seen)
    assert isinstance(seen[-1], Reading)
    assert seen[-1].speed == 42
