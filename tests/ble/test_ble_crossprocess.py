"""The unchanged TreadmillLink against a treadsim *process*, over tcp-client: and unix: transports.

Real HCI over a socket between two processes: ATT PDUs, notifications, indications and
disconnects cross a process boundary exactly as they would to a USB dongle.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.simulator import SimProcess, simulator_process
from treadctl.ble.errors import BeltMoving
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.supervisor import LinkState, LinkStateEvent, ReconnectSupervisor
from treadctl.observations import DeviceEvent, EventKind, Reading

pytestmark = pytest.mark.crossprocess

SPEEDUP = 20.0
DEADLINE = 15.0


def written(proc: SimProcess) -> list[str]:
    return [r["hex"] for r in proc.trace_records("write")]


async def speed_reported(link: TreadmillLink, speed: int) -> None:
    async with asyncio.timeout(DEADLINE):
        async for item in link.observations():
            if isinstance(item, Reading) and item.speed == speed:
                return


async def session(proc: SimProcess, transport: str) -> None:
    options = LinkOptions(backend="bumble", transport=transport, idle_release_s=None)
    async with TreadmillLink(options) as link:
        await speed_reported(link, 0)
        await link.start()
        await link.set_target_speed(230)
        await speed_reported(link, 230)
        with pytest.raises(BeltMoving):
            await link.start()
        await proc.command("press_pause")
        async with asyncio.timeout(DEADLINE):
            async for item in link.observations():
                if isinstance(item, DeviceEvent) and item.kind is EventKind.CONSOLE_PAUSE:
                    break
        await link.stop()
    assert written(proc) == ["00", "07", "02e600", "0801"]
    assert [r["result"] for r in proc.trace_records("write")] == [1, 1, 1, 1]


async def test_over_tcp(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, preset="generic", speedup=SPEEDUP) as proc:
        await session(proc, proc.hci_client_spec)


async def test_over_a_unix_socket(tmp_path: Path) -> None:
    path = tmp_path / "hci.sock"
    async with simulator_process(
        tmp_path, preset="generic", speedup=SPEEDUP, hci=(f"unix-server:{path}",)
    ) as proc:
        await session(proc, f"unix:{path}")


async def test_reconnect_across_processes_sends_nothing(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, preset="citysports-wp8", speedup=SPEEDUP) as proc:
        options = LinkOptions(backend="bumble", transport=proc.hci_client_spec, idle_release_s=None)
        supervisor = ReconnectSupervisor(lambda: TreadmillLink(options), backoff=lambda _n: 0.1)
        items = supervisor.observations()

        async def until(predicate: object) -> None:
            async with asyncio.timeout(DEADLINE):
                async for item in items:
                    if predicate(item):  # type: ignore[operator]
                        return

        def state(wanted: LinkState) -> object:
            return lambda i: isinstance(i, LinkStateEvent) and i.state is wanted

        async with asyncio.TaskGroup() as group:
            runner = group.create_task(supervisor.run())
            await until(state(LinkState.CONNECTED))
            await until(lambda i: isinstance(i, Reading) and i.speed == 0)
            await supervisor.port.start()
            await supervisor.port.set_target_speed(200)
            await until(lambda i: isinstance(i, Reading) and i.speed == 200)
            before = written(proc)
            await proc.command("disconnect_now")
            await until(state(LinkState.DISCONNECTED))
            await until(state(LinkState.CONNECTED))
            await until(lambda i: isinstance(i, Reading))
            assert written(proc) == before == ["00", "07", "02c800"]
            runner.cancel()
