"""A connected device's GATT database as bluetoothd exports it, backed by a Bumble GATT client.

Object paths and properties follow doc/org.bluez.GattService.rst, GattCharacteristic.rst and
GattDescriptor.rst: ``<device>/serviceXXXX`` (the service's handle), ``.../charYYYY`` (the
characteristic declaration handle: the value handle - 1, Core v5.3 Vol 3 Part G §3.3) and
``.../descZZZZ``. Optional properties are present only when they apply (``Notifying`` and
``NotifyAcquired`` with notify/indicate, ``WriteAcquired`` with write-without-response,
``Value`` once a value was read or notified).

ATT errors become the D-Bus errors bluetoothd returns for them (its gatt-client; the names
bleak's ``assert_gatt_reply`` decodes): Read/Write Not Permitted -> ``NotPermitted`` "Read not
permitted" / "Write not permitted", Request Not Supported -> ``NotSupported``, Invalid Offset
-> ``InvalidArguments`` "Invalid offset", Invalid Attribute Value Length -> ``InvalidArguments``
"Invalid Length", insufficient authentication/authorisation/encryption -> ``NotAuthorized``,
0xFD -> ``ImproperlyConfigured``, 0xFE -> ``InProgress``, anything else -> ``Failed``
"Operation failed with ATT error: 0xNN".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid as uuid_module
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bumble import att, core
from bumble.device import Connection, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy, DescriptorProxy, ServiceProxy
from dbus_fast import Variant

from simulators.bluez_twin.tree import BluezError, ObjectTree

logger = logging.getLogger(__name__)

SERVICE = "org.bluez.GattService1"
CHARACTERISTIC = "org.bluez.GattCharacteristic1"
DESCRIPTOR = "org.bluez.GattDescriptor1"
FAILED = "org.bluez.Error.Failed"
BLUEZ_MTU = 517
"""The ATT MTU bluetoothd asks for (its maximum, BT_ATT_MAX_LE_MTU)."""

FLAG_NAMES = {
    Characteristic.Properties.BROADCAST: "broadcast",
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
    Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    Characteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}

_ATT_ERRORS: dict[int, tuple[str, str]] = {
    0x02: ("org.bluez.Error.NotPermitted", "Read not permitted"),
    0x03: ("org.bluez.Error.NotPermitted", "Write not permitted"),
    0x05: ("org.bluez.Error.NotAuthorized", "Insufficient authentication"),
    0x06: ("org.bluez.Error.NotSupported", "Request not supported"),
    0x07: ("org.bluez.Error.InvalidArguments", "Invalid offset"),
    0x08: ("org.bluez.Error.NotAuthorized", "Insufficient authorization"),
    0x0D: ("org.bluez.Error.InvalidArguments", "Invalid Length"),
    0x0F: ("org.bluez.Error.NotAuthorized", "Insufficient encryption"),
    0xFD: ("org.bluez.Error.ImproperlyConfigured", "Improperly configured"),
    0xFE: ("org.bluez.Error.InProgress", "In Progress"),
}


def uuid_text(value: core.UUID) -> str:
    """A Bumble UUID as BlueZ writes it: 128-bit, lower case."""
    return str(uuid_module.UUID(bytes=bytes(value.to_bytes(force_128=True))[::-1]))


def att_error(exc: att.ATT_Error) -> BluezError:
    name, text = _ATT_ERRORS.get(
        exc.error_code, (FAILED, f"Operation failed with ATT error: 0x{exc.error_code:02x}")
    )
    return BluezError(name, text)


def flags(properties: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES.items() if properties & bit]


@dataclass(eq=False)
class CharacteristicState:
    proxy: CharacteristicProxy[bytes]
    path: str
    subscriber: Callable[[bytes], None] | None = None
    """Set while notifications are enabled (StartNotify or AcquireNotify)."""
    acquired: socket.socket | None = None
    """Our end of the AcquireNotify socket."""
    clients: set[str] = field(default_factory=set)
    """Bus names holding a StartNotify session (notifications end with the last one)."""


@dataclass(eq=False)
class GattSession:
    """The GATT objects of one connection (see the module docstring)."""

    tree: ObjectTree
    device_path: str
    connection: Connection
    spawn: Callable[[Coroutine[Any, Any, None]], object]
    """Runs a coroutine as a task of the twin's task group."""
    peer: Peer = field(init=False)
    characteristics: dict[str, CharacteristicState] = field(default_factory=dict)
    descriptors: dict[str, DescriptorProxy] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.peer = Peer(self.connection)

    @property
    def mtu(self) -> int:
        return int(self.connection.att_mtu)

    async def discover(self) -> list[str]:
        """MTU exchange and full discovery; returns the service UUIDs (objects not yet added)."""
        with contextlib.suppress(core.BaseBumbleError, att.ATT_Error):
            await self.peer.request_mtu(BLUEZ_MTU)
        await self.peer.discover_services()
        for service in self.peer.services:
            await self.peer.discover_characteristics(service=service)
            for characteristic in service.characteristics:
                await self.peer.discover_descriptors(characteristic)
        return [uuid_text(s.uuid) for s in self.peer.services]

    def export(self) -> None:
        """Add every service, characteristic and descriptor object (InterfacesAdded each)."""
        for service in self.peer.services:
            self._export_service(service)

    def _export_service(self, service: ServiceProxy) -> None:
        path = f"{self.device_path}/service{service.handle:04x}"
        self.services.append(path)
        self.tree.add(
            path,
            {
                SERVICE: {
                    "UUID": Variant("s", uuid_text(service.uuid)),
                    "Device": Variant("o", self.device_path),
                    "Primary": Variant("b", True),
                    "Includes": Variant("ao", []),
                    "Handle": Variant("q", service.handle),
                }
            },
        )
        for characteristic in service.characteristics:
            self._export_characteristic(path, characteristic)

    def _export_characteristic(self, service_path: str, proxy: CharacteristicProxy[bytes]) -> None:
        handle = proxy.handle - 1
        path = f"{service_path}/char{handle:04x}"
        props: dict[str, Variant] = {
            "UUID": Variant("s", uuid_text(proxy.uuid)),
            "Service": Variant("o", service_path),
            "Flags": Variant("as", flags(int(proxy.properties))),
            "MTU": Variant("q", self.mtu),
            "Handle": Variant("q", handle),
        }
        if proxy.properties & (
            Characteristic.Properties.NOTIFY | Characteristic.Properties.INDICATE
        ):
            props["Notifying"] = Variant("b", False)
            props["NotifyAcquired"] = Variant("b", False)
        if proxy.properties & Characteristic.Properties.WRITE_WITHOUT_RESPONSE:
            props["WriteAcquired"] = Variant("b", False)
        self.characteristics[path] = CharacteristicState(proxy, path)
        self.tree.add(path, {CHARACTERISTIC: props})
        for descriptor in proxy.descriptors:
            desc_path = f"{path}/desc{descriptor.handle:04x}"
            self.descriptors[desc_path] = descriptor
            self.tree.add(
                desc_path,
                {
                    DESCRIPTOR: {
                        "UUID": Variant("s", uuid_text(descriptor.type)),
                        "Characteristic": Variant("o", path),
                        "Handle": Variant("q", descriptor.handle),
                    }
                },
            )

    def close(self) -> None:
        """The link is gone: HUP every acquired socket, remove the objects."""
        for state in self.characteristics.values():
            if state.acquired is not None:
                state.acquired.close()
                state.acquired = None
            state.subscriber = None
        for path in reversed(self.services):
            self.tree.remove_under(path)
            self.tree.remove(path)
        self.services.clear()
        self.characteristics.clear()
        self.descriptors.clear()

    # -- characteristic and descriptor calls --------------------------------------------------

    def _state(self, path: str) -> CharacteristicState:
        state = self.characteristics.get(path)
        if state is None:
            raise BluezError(FAILED, "Not connected")
        return state

    async def read(self, path: str) -> bytes:
        proxy: CharacteristicProxy[bytes] | DescriptorProxy
        proxy = self.descriptors[path] if path in self.descriptors else self._state(path).proxy
        try:
            value = bytes(await self.peer.read_value(proxy))
        except att.ATT_Error as exc:
            raise att_error(exc) from exc
        except (core.BaseBumbleError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and _really_cancelled():
                raise
            raise BluezError(FAILED, "Not connected") from None
        interface = DESCRIPTOR if path in self.descriptors else CHARACTERISTIC
        self.tree.signal_again(path, interface, Value=Variant("ay", value))
        return value

    async def write(self, path: str, value: bytes, *, with_response: bool) -> None:
        proxy: CharacteristicProxy[bytes] | DescriptorProxy
        proxy = self.descriptors[path] if path in self.descriptors else self._state(path).proxy
        try:
            await self.peer.write_value(proxy, value, with_response=with_response)
        except att.ATT_Error as exc:
            raise att_error(exc) from exc
        except (core.BaseBumbleError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and _really_cancelled():
                raise
            raise BluezError(FAILED, "Not connected") from None

    async def start_notify(self, path: str, client: str) -> None:
        state = self._state(path)
        if not state.proxy.properties & (
            Characteristic.Properties.NOTIFY | Characteristic.Properties.INDICATE
        ):
            raise BluezError("org.bluez.Error.NotSupported", "Operation is not supported")
        if state.acquired is not None:
            raise BluezError("org.bluez.Error.NotPermitted", "Notify acquired")
        if client in state.clients:
            raise BluezError("org.bluez.Error.InProgress", "In Progress")
        if state.subscriber is None:

            def deliver(value: bytes) -> None:
                self.tree.signal_again(path, CHARACTERISTIC, Value=Variant("ay", bytes(value)))

            await self._subscribe(state, deliver)
        # One session per client; the notifications are shared (as in bluetoothd).
        state.clients.add(client)
        self.tree.set(path, CHARACTERISTIC, Notifying=Variant("b", True))

    async def stop_notify(self, path: str, client: str) -> None:
        state = self._state(path)
        if client not in state.clients:
            raise BluezError(FAILED, "No notify session started")
        await self._end_session(state, client)

    async def client_left(self, client: str) -> None:
        """A client left the bus: its notification sessions end (bluetoothd watches them)."""
        for state in list(self.characteristics.values()):
            if client in state.clients:
                await self._end_session(state, client)

    async def _end_session(self, state: CharacteristicState, client: str) -> None:
        state.clients.discard(client)
        if state.clients or state.acquired is not None:
            return
        await self._unsubscribe(state)
        self.tree.set(state.path, CHARACTERISTIC, Notifying=Variant("b", False))

    async def acquire_notify(self, path: str) -> socket.socket:
        """Subscribe and hand the values to a socket pair; returns the client's end."""
        state = self._state(path)
        if "NotifyAcquired" not in self.tree.objects.get(path, {}).get(CHARACTERISTIC, {}):
            raise BluezError("org.bluez.Error.NotSupported", "Operation is not supported")
        if state.subscriber is not None:
            raise BluezError("org.bluez.Error.NotPermitted", "Notify already started")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)

        def deliver(value: bytes) -> None:
            with contextlib.suppress(OSError):
                ours.send(bytes(value))

        state.acquired = ours
        try:
            await self._subscribe(state, deliver)
        except BaseException:
            state.acquired = None
            ours.close()
            theirs.close()
            raise
        self.tree.set(path, CHARACTERISTIC, NotifyAcquired=Variant("b", True))
        asyncio.get_running_loop().add_reader(ours.fileno(), self._released, state)
        return theirs

    def _released(self, state: CharacteristicState) -> None:
        """The client closed its end of an acquired socket: notifications end."""
        sock = state.acquired
        if sock is None:
            return
        with contextlib.suppress(BlockingIOError):
            if sock.recv(1):
                return
        asyncio.get_running_loop().remove_reader(sock.fileno())
        sock.close()
        state.acquired = None
        self.tree.set(state.path, CHARACTERISTIC, NotifyAcquired=Variant("b", False))
        # Unsubscribing writes the CCCD: a task of the twin's group does it.
        self.spawn(self._unsubscribe(state))

    async def _subscribe(
        self, state: CharacteristicState, deliver: Callable[[bytes], None]
    ) -> None:
        indicate_only = not state.proxy.properties & Characteristic.Properties.NOTIFY
        state.subscriber = deliver
        try:
            await self.peer.subscribe(state.proxy, deliver, prefer_notify=not indicate_only)
        except att.ATT_Error as exc:
            state.subscriber = None
            raise att_error(exc) from exc
        except core.BaseBumbleError:
            state.subscriber = None
            raise BluezError(FAILED, "Not connected") from None

    async def _unsubscribe(self, state: CharacteristicState) -> None:
        subscriber, state.subscriber = state.subscriber, None
        if subscriber is None:
            return
        with contextlib.suppress(core.BaseBumbleError, att.ATT_Error):
            await self.peer.unsubscribe(state.proxy, subscriber)


def _really_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
