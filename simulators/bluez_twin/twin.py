"""The twin: owns ``org.bluez`` on a (private) bus and does what bluetoothd does, on Bumble.

One adapter, ``/org/bluez/hci0``, is a Bumble host on an HCI transport (``tcp-client:`` to a
treadsim process). Discovery creates ``Device1`` objects from advertising reports; ``Connect``
connects the host, replies, then resolves services (``ServicesResolved`` after ``Connected``);
the GATT objects are :mod:`simulators.bluez_twin.gatt`'s. Link loss: ``ServicesResolved`` and
``Connected`` false, GATT objects removed. When the last discovery session stops, ``RSSI`` and
``TxPower`` are invalidated and devices that are not connected vanish after
``temporary_timeout_s`` (bluetoothd's TemporaryTimeout, 30 s by default). Faults:
:mod:`simulators.bluez_twin.faults`, :meth:`BluezTwin.set_powered`, :meth:`BluezTwin.restart`.
The call table with the BlueZ documents is docs/bluez-twin.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bumble import core, hci
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.transport import open_transport
from bumble.transport.common import Transport
from dbus_fast import BusType, Message, MessageType, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus

from simulators.bluez_twin.adapter import (
    ADAPTER,
    ADAPTER_PATH,
    DEVICE,
    Adapter,
    DeviceState,
)
from simulators.bluez_twin.faults import ABORT_BY_LOCAL
from simulators.bluez_twin.gatt import CHARACTERISTIC, DESCRIPTOR, FAILED, GattSession
from simulators.bluez_twin.tree import BluezError, Handler, Reply

logger = logging.getLogger(__name__)

BLUEZ = "org.bluez"
CONNECT_TIMEOUT_S = 10.0
"""How long Connect waits for the peer's connectable advertisement before failing."""


@dataclass(eq=False, kw_only=True)
class BluezTwin(Adapter):
    """See the module docstring. ``await twin.run(on_ready)`` until cancelled."""

    bus_address: str
    hci_spec: str
    restarts: int = 0
    _bus: MessageBus | None = None
    _transport: Transport | None = None

    # ================================================================ lifecycle
    async def run(self, on_ready: Callable[[BluezTwin], None]) -> None:
        self._transport = await open_transport(self.hci_spec)
        try:
            host = Device(
                name=self.adapter_alias,
                host=Host(self._transport.source, self._transport.sink),
            )
            self._host = host
            await host.power_on()
            host.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._register_methods()
                await self._come_up()
                on_ready(self)
                await asyncio.Event().wait()  # until cancelled
        finally:
            if self._bus is not None:
                self._bus.disconnect()
            with contextlib.suppress(Exception):
                if self._host is not None:
                    await self._host.power_off()
            await self._transport.close()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> object:
        if self._group is None:
            coro.close()
            return None
        return self._group.create_task(coro)

    async def _come_up(self) -> None:
        """Connect to the bus, export the adapter, own ``org.bluez``."""
        bus = await MessageBus(
            bus_address=self.bus_address, bus_type=BusType.SYSTEM, negotiate_unix_fd=True
        ).connect()
        self._bus = bus
        if self._group is None:
            raise RuntimeError("the twin is not running")
        self.tree.attach(bus, self._group)
        bus.add_message_handler(self._on_bus_signal)
        await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=["type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged'"],
            )
        )
        self.tree.add(ADAPTER_PATH, {ADAPTER: self._adapter_props()})
        reply = await bus.request_name(BLUEZ, NameFlag.DO_NOT_QUEUE)
        if reply != RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"cannot own {BLUEZ} on {self.bus_address}: {reply}")
        self.serving = True

    async def restart(self, down_s: float) -> None:
        """bluetoothd stops (links dropped, objects removed, name released) and comes back."""
        for state in list(self.devices.values()):
            if state.connection is not None:
                with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                    await state.connection.disconnect()
        await self._stop_scanning()
        self.discovery_sessions.clear()
        self.filters.clear()
        for path in sorted(self.tree.objects, reverse=True):
            self.tree.remove(path)
        for state in self.devices.values():
            if state.expiry is not None:
                state.expiry.cancel()
        self.devices.clear()
        self.serving = False
        self.tree.detach()
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None
        self.tree.clear()
        self.restarts += 1
        await asyncio.sleep(down_s)  # the fault's own duration (bluetoothd is down meanwhile)
        await self._come_up()

    # ================================================================ devices
    def _device(self, path: str) -> DeviceState:
        state = self.devices.get(path)
        if state is None:
            raise BluezError("org.freedesktop.DBus.Error.UnknownObject", f"no object {path}")
        return state

    async def _connect(self, path: str, _msg: Message) -> Reply:
        state = self._device(path)
        self._require_powered()
        failure = self.faults.take("Connect")
        if state.connection is not None:
            raise BluezError("org.bluez.Error.AlreadyConnected", "Already Connected")
        if state.connecting:
            raise BluezError("org.bluez.Error.InProgress", "In Progress")
        abort = failure is not None and failure.message == ABORT_BY_LOCAL
        if failure is not None and not abort:
            raise BluezError(failure.error, failure.message)
        connection = await self._open_link(state)
        if abort and failure is not None:
            # bluetoothd reports this error after the link came up and went down again.
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                await connection.disconnect()
            raise BluezError(failure.error, failure.message)
        return Reply()

    async def _open_link(self, state: DeviceState) -> Connection:
        host = self._running_host()
        state.connecting = True
        try:
            connection = await host.connect(
                state.address, transport=core.BT_LE_TRANSPORT, timeout=CONNECT_TIMEOUT_S
            )
        except (core.BaseBumbleError, hci.HCI_Error) as exc:
            raise BluezError(FAILED, f"le-connection-failed: {exc}") from None
        finally:
            state.connecting = False
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        state.connection = connection
        connection.on(Connection.EVENT_DISCONNECTION, lambda reason: self._link_lost(state, reason))
        state.session = GattSession(self.tree, state.path, connection, self.spawn)
        self.tree.set(state.path, DEVICE, Connected=Variant("b", True))
        if not self.faults.take_withhold_services():
            self.spawn(self._resolve(state, state.session))
        return connection

    async def _resolve(self, state: DeviceState, session: GattSession) -> None:
        try:
            uuids = await session.discover()
        except (core.BaseBumbleError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
            return  # the link went away during discovery
        if state.session is not session:
            return
        session.export()
        known = self.tree.get(state.path, DEVICE, "UUIDs") or []
        merged = list(known) + [u for u in uuids if u not in known]
        self.tree.set(state.path, DEVICE, UUIDs=Variant("as", merged))
        self.tree.set(state.path, DEVICE, ServicesResolved=Variant("b", True))

    def _link_lost(self, state: DeviceState, reason: int) -> None:
        logger.info("%s: link lost (reason 0x%02X)", state.path, reason)
        session, state.session = state.session, None
        state.connection = None
        self.tree.set(state.path, DEVICE, ServicesResolved=Variant("b", False))
        self.tree.set(state.path, DEVICE, Connected=Variant("b", False))
        if session is not None:
            session.close()
        if not self.discovery_sessions:
            self._expire_later(state)

    async def _disconnect(self, path: str, _msg: Message) -> Reply:
        state = self._device(path)
        self._fault("Disconnect")
        if state.connection is None:
            raise BluezError("org.bluez.Error.NotConnected", "Not Connected")
        with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
            await state.connection.disconnect()
        return Reply()

    async def _pair(self, path: str, msg: Message) -> Reply:
        state = self._device(path)
        self._require_powered()
        if state.paired:
            raise BluezError("org.bluez.Error.AlreadyExists", "Already Exists")
        connection = state.connection or await self._open_link(state)
        try:
            await connection.pair()
        except (core.BaseBumbleError, hci.HCI_Error) as exc:
            raise BluezError("org.bluez.Error.AuthenticationFailed", str(exc)) from None
        state.paired = True
        self.tree.set(path, DEVICE, Paired=Variant("b", True), Bonded=Variant("b", True))
        return Reply()

    # ================================================================ GATT calls
    def _session(self, path: str) -> GattSession:
        device = path[: path.index("/service")] if "/service" in path else path
        state = self.devices.get(device)
        if state is None or state.session is None:
            raise BluezError(FAILED, "Not connected")
        return state.session

    async def _read_value(self, path: str, _msg: Message) -> Reply:
        self._fault("ReadValue")
        return Reply("ay", [await self._session(path).read(path)])

    async def _write_value(self, path: str, msg: Message) -> Reply:
        self._fault("WriteValue")
        value, options = bytes(msg.body[0]), msg.body[1]
        kind = options["type"].value if "type" in options else "request"
        await self._session(path).write(path, value, with_response=kind != "command")
        return Reply()

    async def _start_notify(self, path: str, msg: Message) -> Reply:
        self._fault("StartNotify")
        await self._session(path).start_notify(path, msg.sender or "")
        return Reply()

    async def _stop_notify(self, path: str, msg: Message) -> Reply:
        await self._session(path).stop_notify(path, msg.sender or "")
        return Reply()

    def _on_bus_signal(self, msg: Message) -> bool:
        """A client leaving the bus (NameOwnerChanged to nobody) ends its sessions."""
        if (
            msg.message_type == MessageType.SIGNAL
            and msg.member == "NameOwnerChanged"
            and msg.sender == "org.freedesktop.DBus"
            and len(msg.body) == 3
            and str(msg.body[0]).startswith(":")
            and msg.body[2] == ""
        ):
            self.spawn(self._client_left(str(msg.body[0])))
        return False

    async def _client_left(self, client: str) -> None:
        await self.discovery_client_left(client)
        for state in list(self.devices.values()):
            if state.session is not None:
                await state.session.client_left(client)

    async def _acquire_notify(self, path: str, msg: Message) -> Reply:
        session = self._session(path)
        theirs = await session.acquire_notify(path)
        # Our copy of the client's end is closed once the reply carrying it was written.
        self.tree.after_reply[msg.serial] = theirs.close
        return Reply("hq", [0, session.mtu], [theirs.fileno()])

    async def _acquire_write(self, _path: str, _msg: Message) -> Reply:
        raise BluezError("org.bluez.Error.NotSupported", "Operation is not supported")

    def _register_methods(self) -> None:
        tree = self.tree
        methods: dict[tuple[str, str], Handler] = {
            (ADAPTER, "StartDiscovery"): self._start_discovery,
            (ADAPTER, "StopDiscovery"): self._stop_discovery,
            (ADAPTER, "SetDiscoveryFilter"): self._set_discovery_filter,
            (ADAPTER, "GetDiscoveryFilters"): self._get_discovery_filters,
            (ADAPTER, "RemoveDevice"): self._remove_device,
            (DEVICE, "Connect"): self._connect,
            (DEVICE, "Disconnect"): self._disconnect,
            (DEVICE, "Pair"): self._pair,
            (CHARACTERISTIC, "ReadValue"): self._read_value,
            (CHARACTERISTIC, "WriteValue"): self._write_value,
            (CHARACTERISTIC, "StartNotify"): self._start_notify,
            (CHARACTERISTIC, "StopNotify"): self._stop_notify,
            (CHARACTERISTIC, "AcquireNotify"): self._acquire_notify,
            (CHARACTERISTIC, "AcquireWrite"): self._acquire_write,
        }
        for (interface, member), handler in methods.items():
            tree.method(interface, member, handler)
        tree.method(DESCRIPTOR, "ReadValue", self._read_value)
        tree.method(DESCRIPTOR, "WriteValue", self._write_value)

        def powered(_path: str, value: Variant) -> None:
            self.spawn(self.set_powered(bool(value.value)))

        def trusted(path: str, value: Variant) -> None:
            self.tree.set(path, DEVICE, Trusted=Variant("b", bool(value.value)))

        tree.writable(ADAPTER, "Powered", powered)
        tree.writable(DEVICE, "Trusted", trusted)

    def snapshot(self) -> dict[str, Any]:
        return {
            "powered": self.powered,
            "discovering": bool(self.discovery_sessions),
            "restarts": self.restarts,
            "devices": {
                path: {
                    "connected": state.connection is not None,
                    "services_resolved": bool(self.tree.get(path, DEVICE, "ServicesResolved")),
                }
                for path, state in self.devices.items()
            },
            "faults": self.faults.pending(),
        }
