"""The four Bumble virtual-controller gaps, fixed in SimController and HciServer.

1. HCI Reset drops the resetting host's LE links (Core v5.3 Vol 4 Part E §7.3.2).
2. LE Create Connection Cancel completes the pending connection (§7.8.13).
3. A second host on a server port is refused; the first keeps working.
4. The server transport reports that its host left, and the host's links are dropped.
"""

from __future__ import annotations

import asyncio

import pytest
from bumble import core, hci
from bumble.device import Device
from bumble.host import Host
from bumble.transport import open_transport

from harness.simulator import central, in_process_simulator, wait_state

SPEEDUP = 50.0
ABSENT = "F9:F9:F9:F9:F9:F9"


async def test_hci_reset_drops_the_hosts_le_links_and_frees_control() -> None:
    async with in_process_simulator(speedup=SPEEDUP) as sim, central(sim.link) as c:
        async with c.connect_ftms() as ftms:
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")
            assert sim.state().machine.controlled
            # The client's host resets its controller, as a restarted process does first.
            await c.device.host.send_sync_command(hci.HCI_Reset_Command())
            state = await wait_state(sim, lambda s: not s.connected)
            assert state.machine.controlled is False
        # The treadmill advertises again and a new connection gets control.
        async with (
            central(sim.link, address="C0:00:00:00:00:02") as other,
            other.connect_ftms() as ftms2,
        ):
            assert await ftms2.request(b"\x00") == bytes.fromhex("800001")


async def test_create_connection_cancel_completes_a_connect_to_an_absent_device() -> None:
    async with in_process_simulator(speedup=SPEEDUP) as sim, central(sim.link) as c:
        with pytest.raises(core.TimeoutError):
            await c.device.connect(hci.Address(ABSENT), timeout=0.2)
        # The pending connection is gone: the next connect works.
        async with c.connect_ftms(sim.address) as ftms:
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")


async def test_create_connection_cancel_without_pending_connection_is_disallowed() -> None:
    async with in_process_simulator(speedup=SPEEDUP) as sim, central(sim.link) as c:
        with pytest.raises(hci.HCI_Error) as error:
            await c.device.host.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
        assert error.value.error_code == hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR


async def test_second_host_on_a_server_port_is_refused_and_the_first_keeps_working() -> None:
    async with in_process_simulator(speedup=SPEEDUP, expose=["tcp-server:127.0.0.1:0"]) as sim:
        server = sim.servers[0]
        spec = f"tcp-client:127.0.0.1:{server.port}"
        async with central(hci_spec=spec) as first:
            changed = server.changed
            second = await open_transport(spec)
            try:
                async with asyncio.timeout(10):
                    await changed.wait()
                    await second.source.terminated  # the server closed it
            finally:
                await second.close()
            assert server.hosts_refused == 1
            assert server.has_host
            async with first.connect_ftms() as ftms:
                assert await ftms.request(b"\x00") == bytes.fromhex("800001")


async def test_host_leaving_a_server_port_is_reported_and_drops_its_links() -> None:
    async with in_process_simulator(speedup=SPEEDUP, expose=["tcp-server:127.0.0.1:0"]) as sim:
        server = sim.servers[0]
        spec = f"tcp-client:127.0.0.1:{server.port}"
        transport = await open_transport(spec)
        try:
            host = Host(controller_source=transport.source, controller_sink=transport.sink)
            device = Device(name="doomed", address=hci.Address("C0:00:00:00:00:09"), host=host)
            await device.power_on()
            connection = await device.connect(hci.Address(sim.address), timeout=10)
            assert connection is not None
            await wait_state(sim, lambda s: s.connected)
        finally:
            # The host process vanishes: no HCI Disconnect, no Reset, just a closed socket.
            await transport.close()
        state = await wait_state(sim, lambda s: not s.connected)
        assert not state.connected
        assert server.hosts_left == 1
        assert not server.has_host
        # A new host on the same port can connect and take control.
        async with (
            central(hci_spec=spec, address="C0:00:00:00:00:03") as c,
            c.connect_ftms() as ftms,
        ):
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")
