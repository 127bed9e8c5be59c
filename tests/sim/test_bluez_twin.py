"""The BlueZ twin against BlueZ's documented behaviour (docs/bluez-twin.md), from a plain D-Bus
client: the signal order of a connection and of a link loss, the documented error names, an
AcquireNotify socket, devices that vanish after discovery."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from harness.simulator import SimProcess, simulator_process
from harness.twin import TwinProcess, twin_process

pytestmark = pytest.mark.crossprocess

ADAPTER = "/org/bluez/hci0"
DEVICE = f"{ADAPTER}/dev_F0_F1_F2_F3_F4_F5"
DEADLINE_S = 15.0
TREADMILL_DATA = "00002acd-0000-1000-8000-00805f9b34fb"


class Client:
    """A D-Bus client of the twin that records every signal it receives."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.signals: list[tuple[str, str, list[Any]]] = []
        self._changed = asyncio.Event()
        bus.add_message_handler(self._on_message)

    def _on_message(self, msg: Message) -> bool:
        if msg.message_type == MessageType.SIGNAL:
            self.signals.append((msg.path or "", msg.member or "", list(msg.body)))
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()
        return False

    async def call(
        self, path: str, interface: str, member: str, signature: str = "", body: Any = ()
    ) -> Message:
        reply = await self.bus.call(
            Message(
                destination="org.bluez",
                path=path,
                interface=interface,
                member=member,
                signature=signature,
                body=list(body),
            )
        )
        assert reply is not None
        return reply

    async def ok(self, *args: Any) -> list[Any]:
        reply = await self.call(*args)
        assert reply.message_type == MessageType.METHOD_RETURN, (reply.error_name, reply.body)
        return list(reply.body)

    async def objects(self) -> dict[str, Any]:
        body = await self.ok("/", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects")
        objects: dict[str, Any] = body[0]
        return objects

    async def until(self, check: Any) -> Any:
        async with asyncio.timeout(DEADLINE_S):
            while True:
                found = check()
                if found:
                    return found
                await self._changed.wait()

    def became(self, name: str, value: Any, since: int = 0) -> bool:
        """Whether a PropertiesChanged at index >= ``since`` set ``name`` to ``value``."""
        return any(i >= since and v == value for i, v in self.device_changes(name))

    def seen(self, member: str, path: str, since: int = 0) -> bool:
        return any(s[1] == member and s[2][0] == path for s in self.signals[since:])

    def device_changes(self, name: str) -> list[tuple[int, Any]]:
        """(signal index, value) of each PropertiesChanged of ``name`` on the device."""
        return [
            (i, body[1][name].value)
            for i, (path, member, body) in enumerate(self.signals)
            if path == DEVICE and member == "PropertiesChanged" and name in body[1]
        ]


@contextlib.asynccontextmanager
async def rig(tmp_path: Path) -> AsyncIterator[tuple[SimProcess, TwinProcess, Client]]:
    async with (
        simulator_process(tmp_path, preset="generic", speedup=20) as sim,
        twin_process(tmp_path / "twin", sim.hci_client_spec, temporary_timeout_s=1.0) as twin,
    ):
        bus = await MessageBus(bus_address=twin.bus_address, negotiate_unix_fd=True).connect()
        try:
            await bus.call(
                Message(
                    destination="org.freedesktop.DBus",
                    path="/org/freedesktop/DBus",
                    interface="org.freedesktop.DBus",
                    member="AddMatch",
                    signature="s",
                    body=["type='signal',sender='org.bluez'"],
                )
            )
            yield sim, twin, Client(bus)
        finally:
            bus.disconnect()


async def discover(client: Client) -> None:
    await client.ok(ADAPTER, "org.bluez.Adapter1", "StartDiscovery")
    await client.until(lambda: client.seen("InterfacesAdded", DEVICE))
    await client.ok(ADAPTER, "org.bluez.Adapter1", "StopDiscovery")


async def test_connect_then_services_resolved_and_link_loss_in_order(tmp_path: Path) -> None:
    async with rig(tmp_path) as (sim, _twin, client):
        await discover(client)
        await client.ok(DEVICE, "org.bluez.Device1", "Connect")
        await client.until(lambda: client.became("ServicesResolved", True))
        connected = client.device_changes("Connected")
        resolved = client.device_changes("ServicesResolved")
        assert connected[0][1] is True
        assert resolved[0][1] is True
        assert connected[0][0] < resolved[0][0]  # ServicesResolved after Connected
        objects = await client.objects()
        chars = [p for p, i in objects.items() if "org.bluez.GattCharacteristic1" in i]
        assert any(
            objects[p]["org.bluez.GattCharacteristic1"]["UUID"].value == TREADMILL_DATA
            for p in chars
        )
        # Documented errors: Connect while connected, and the GATT paths BlueZ uses.
        again = await client.call(DEVICE, "org.bluez.Device1", "Connect")
        assert again.error_name == "org.bluez.Error.AlreadyConnected"
        assert all(p.startswith(f"{DEVICE}/service") and "/char" in p for p in chars)

        # The treadmill drops the link: ServicesResolved false, then Connected false, then the
        # GATT objects are gone.
        mark = len(client.signals)
        await sim.command("disconnect_now")
        await client.until(lambda: client.became("Connected", False, mark))
        down_resolved = [i for i, v in client.device_changes("ServicesResolved") if i >= mark]
        down_connected = [i for i, v in client.device_changes("Connected") if i >= mark]
        assert down_resolved[0] < down_connected[0]

        def removed() -> set[str]:
            return {s[2][0] for s in client.signals[mark:] if s[1] == "InterfacesRemoved"}

        # The GATT objects go after the link (bluetoothd removes them on disconnect); their
        # signals may reach this client after the Connected change.
        await client.until(lambda: set(chars) <= removed())
        stray = await client.call(DEVICE, "org.bluez.Device1", "Disconnect")
        assert stray.error_name == "org.bluez.Error.NotConnected"


async def test_acquire_notify_hands_over_a_socket_with_the_values(tmp_path: Path) -> None:
    async with rig(tmp_path) as (_sim, _twin, client):
        await discover(client)
        await client.ok(DEVICE, "org.bluez.Device1", "Connect")
        await client.until(lambda: client.became("ServicesResolved", True))
        objects = await client.objects()
        path = next(
            p
            for p, i in objects.items()
            if i.get("org.bluez.GattCharacteristic1", {}).get("UUID", Variant("s", "")).value
            == TREADMILL_DATA
        )
        reply = await client.call(
            path, "org.bluez.GattCharacteristic1", "AcquireNotify", "a{sv}", [{}]
        )
        assert reply.message_type == MessageType.METHOD_RETURN, reply.body
        fd = reply.unix_fds[reply.body[0]]
        assert reply.body[1] > 23  # the MTU after bluetoothd's exchange
        sock = socket.socket(fileno=fd)
        try:
            sock.settimeout(DEADLINE_S)
            frame = await asyncio.to_thread(sock.recv, 512)
            assert len(frame) >= 2  # a Treadmill Data record: flags (u16) and its fields
            start = await client.call(path, "org.bluez.GattCharacteristic1", "StartNotify")
            assert start.error_name == "org.bluez.Error.NotPermitted"  # acquired
        finally:
            sock.close()
        await client.until(
            lambda: any(
                p == path and m == "PropertiesChanged" and "NotifyAcquired" in b[1]
                and b[1]["NotifyAcquired"].value is False
                for p, m, b in client.signals
            )
        )  # fmt: skip


async def test_errors_and_devices_that_vanish_after_discovery(tmp_path: Path) -> None:
    async with rig(tmp_path) as (_sim, twin, client):
        stop = await client.call(ADAPTER, "org.bluez.Adapter1", "StopDiscovery")
        assert stop.error_name == "org.bluez.Error.Failed"
        await discover(client)
        assert DEVICE in await client.objects()
        # Not connected, not paired: gone after the temporary timeout (1 s here).
        await client.until(lambda: client.seen("InterfacesRemoved", DEVICE))
        assert DEVICE not in await client.objects()
        # Powered off: discovery is not ready.
        await twin.command("power", on=False)
        refused = await client.call(ADAPTER, "org.bluez.Adapter1", "StartDiscovery")
        assert refused.error_name == "org.bluez.Error.NotReady"
        adapter = (await client.objects())[ADAPTER]["org.bluez.Adapter1"]
        assert adapter["Powered"].value is False


async def test_a_client_that_leaves_the_bus_loses_its_sessions(tmp_path: Path) -> None:
    """As bluetoothd watches its clients: a program that dies (its bus connection closes) ends
    its discovery and notification sessions; nobody has to call Stop for it."""
    async with rig(tmp_path) as (_sim, twin, watcher):
        await discover(watcher)
        await watcher.ok(DEVICE, "org.bluez.Device1", "Connect")
        await watcher.until(lambda: watcher.became("ServicesResolved", True))
        objects = await watcher.objects()
        path = next(
            p
            for p, i in objects.items()
            if i.get("org.bluez.GattCharacteristic1", {}).get("UUID", Variant("s", "")).value
            == TREADMILL_DATA
        )
        doomed_bus = await MessageBus(bus_address=twin.bus_address).connect()
        doomed = Client(doomed_bus)
        await doomed.ok(ADAPTER, "org.bluez.Adapter1", "StartDiscovery")
        await doomed.ok(path, "org.bluez.GattCharacteristic1", "StartNotify")
        again = await doomed.call(path, "org.bluez.GattCharacteristic1", "StartNotify")
        assert again.error_name == "org.bluez.Error.InProgress"
        assert (await twin.state())["discovering"] is True
        mark = len(watcher.signals)
        doomed_bus.disconnect()

        def notifying_off() -> bool:
            return any(
                p == path and m == "PropertiesChanged" and b[1].get("Notifying") is not None
                and b[1]["Notifying"].value is False
                for p, m, b in watcher.signals[mark:]
            )  # fmt: skip

        await watcher.until(notifying_off)
        assert (await twin.state())["discovering"] is False
