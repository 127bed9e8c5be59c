"""The adapter half of the twin: ``org.bluez.Adapter1`` (discovery, filters, power,
RemoveDevice) and the ``Device1`` objects that discovery creates from advertising reports.

When the last discovery session stops, ``RSSI`` and ``TxPower`` are invalidated and devices that
are not connected vanish after ``temporary_timeout_s`` (bluetoothd's TemporaryTimeout, 30 s by
default). :class:`Adapter` is the base of :class:`simulators.bluez_twin.twin.BluezTwin`, which
adds the bus, connections and GATT.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from bumble import core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device
from dbus_fast import Message, Variant

from simulators.bluez_twin.faults import Faults
from simulators.bluez_twin.gatt import FAILED, GattSession, uuid_text
from simulators.bluez_twin.tree import BluezError, ObjectTree, Reply

ADAPTER_PATH = "/org/bluez/hci0"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
TEMPORARY_TIMEOUT_S = 30.0
"""bluetoothd's TemporaryTimeout default (main.conf): an unconnected, unpaired device object is
removed this long after it was last seen outside discovery."""
DISCOVERY_FILTERS = ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable",
                     "Pattern"]  # fmt: skip


def device_path(address: str) -> str:
    return f"{ADAPTER_PATH}/dev_{address.upper().replace(':', '_')}"


@dataclass(eq=False)
class DeviceState:
    path: str
    address: hci.Address
    connection: Connection | None = None
    session: GattSession | None = None
    connecting: bool = False
    paired: bool = False
    expiry: asyncio.Task[None] | None = None


@dataclass(eq=False, kw_only=True)
class Adapter:
    """``/org/bluez/hci0`` and its devices (see the module docstring)."""

    temporary_timeout_s: float = TEMPORARY_TIMEOUT_S
    adapter_alias: str = "bluez-twin"
    faults: Faults = field(default_factory=Faults)
    tree: ObjectTree = field(default_factory=ObjectTree)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    powered: bool = True
    discovery_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Discovery sessions by client (bus unique name) -> its discovery filter."""
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    serving: bool = False
    """``org.bluez`` is owned (false while "bluetoothd" is down)."""
    _host: Device | None = None
    _group: asyncio.TaskGroup | None = None

    # ================================================================ adapter
    def _running_host(self) -> Device:
        if self._host is None:
            raise BluezError("org.bluez.Error.NotReady", "Resource Not Ready")
        return self._host

    def _adapter_props(self) -> dict[str, Variant]:
        host = self._running_host()
        address = host.public_address
        if address == hci.Address.ANY:
            address = host.random_address
        return {
            "Address": Variant("s", address.to_string(False).upper()),
            "AddressType": Variant("s", "public" if address.is_public else "random"),
            "Name": Variant("s", self.adapter_alias),
            "Alias": Variant("s", self.adapter_alias),
            "Class": Variant("u", 0),
            "Powered": Variant("b", self.powered),
            "PowerState": Variant("s", "on" if self.powered else "off"),
            "Discoverable": Variant("b", False),
            "Pairable": Variant("b", True),
            "PairableTimeout": Variant("u", 0),
            "DiscoverableTimeout": Variant("u", 180),
            "Discovering": Variant("b", bool(self.discovery_sessions)),
            "UUIDs": Variant("as", []),
            "Roles": Variant("as", ["central", "peripheral"]),
            "Manufacturer": Variant("q", 0xFFFF),
            "Version": Variant("y", 0x0C),
        }

    async def set_powered(self, on: bool) -> None:
        """Switch the adapter on or off (off: links dropped, discovery stopped)."""
        if on == self.powered:
            return
        self.powered = on
        if not on:
            for state in list(self.devices.values()):
                if state.connection is not None:
                    with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                        await state.connection.disconnect()
            self.discovery_sessions.clear()
            await self._stop_scanning()
        self.tree.set(
            ADAPTER_PATH,
            ADAPTER,
            Powered=Variant("b", on),
            PowerState=Variant("s", "on" if on else "off"),
            Discovering=Variant("b", bool(self.discovery_sessions)),
        )

    def _require_powered(self) -> None:
        if not self.powered:
            raise BluezError("org.bluez.Error.NotReady", "Resource Not Ready")

    def _fault(self, method: str) -> None:
        failure = self.faults.take(method)
        if failure is not None:
            raise BluezError(failure.error, failure.message)

    async def _start_discovery(self, _path: str, msg: Message) -> Reply:
        self._require_powered()
        self._fault("StartDiscovery")
        sender = msg.sender or ""
        if sender in self.discovery_sessions:
            raise BluezError("org.bluez.Error.InProgress", "Operation already in progress")
        first = not self.discovery_sessions
        self.discovery_sessions[sender] = self.filters.get(sender, {})
        if first:
            await self._running_host().start_scanning(active=True, filter_duplicates=False)
            self.tree.set(ADAPTER_PATH, ADAPTER, Discovering=Variant("b", True))
        return Reply()

    async def _stop_discovery(self, _path: str, msg: Message) -> Reply:
        self._require_powered()
        if self.discovery_sessions.pop(msg.sender or "", None) is None:
            raise BluezError(FAILED, "No discovery started")
        await self._discovery_may_end()
        return Reply()

    async def discovery_client_left(self, client: str) -> None:
        """A client left the bus: its discovery session and filter go (bluetoothd watches)."""
        self.filters.pop(client, None)
        if self.discovery_sessions.pop(client, None) is not None:
            await self._discovery_may_end()

    async def _discovery_may_end(self) -> None:
        if self.discovery_sessions:
            return
        await self._stop_scanning()
        self.tree.set(ADAPTER_PATH, ADAPTER, Discovering=Variant("b", False))
        for state in self.devices.values():
            self.tree.invalidate(state.path, DEVICE, "RSSI", "TxPower")
            self._expire_later(state)

    async def _stop_scanning(self) -> None:
        if self._host is not None and self._host.is_scanning:
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                await self._host.stop_scanning()

    async def _set_discovery_filter(self, _path: str, msg: Message) -> Reply:
        self._require_powered()
        wanted: dict[str, Variant] = msg.body[0]
        unknown = set(wanted) - set(DISCOVERY_FILTERS)
        if unknown:
            raise BluezError("org.bluez.Error.InvalidArguments", f"Invalid arguments: {unknown}")
        sender = msg.sender or ""
        self.filters[sender] = {k: v.value for k, v in wanted.items()}
        if sender in self.discovery_sessions:
            self.discovery_sessions[sender] = self.filters[sender]
        return Reply()

    async def _get_discovery_filters(self, _path: str, _msg: Message) -> Reply:
        return Reply("as", [DISCOVERY_FILTERS])

    async def _remove_device(self, _path: str, msg: Message) -> Reply:
        path = msg.body[0]
        state = self.devices.get(path)
        if state is None:
            raise BluezError("org.bluez.Error.DoesNotExist", "Does Not Exist")
        if state.connection is not None:
            with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                await state.connection.disconnect()
        self._forget(state)
        return Reply()

    def _forget(self, state: DeviceState) -> None:
        if state.expiry is not None:
            state.expiry.cancel()
        self.devices.pop(state.path, None)
        self.tree.remove_under(state.path)
        self.tree.remove(state.path)

    def _expire_later(self, state: DeviceState) -> None:
        if state.connection is not None or state.paired or self._group is None:
            return
        if state.expiry is not None:
            state.expiry.cancel()
        state.expiry = self._group.create_task(self._expire(state))

    async def _expire(self, state: DeviceState) -> None:
        await asyncio.sleep(self.temporary_timeout_s)  # bluetoothd's TemporaryTimeout
        if state.connection is None and not self.discovery_sessions:
            state.expiry = None
            self._forget(state)

    # ================================================================ advertisements
    def _on_advertisement(self, adv: Advertisement) -> None:
        if not self.powered or not self.discovery_sessions or not self.serving:
            return
        address = adv.address.to_string(False).upper()
        path = device_path(address)
        heard = advertisement_props(adv)
        state = self.devices.get(path)
        if state is None:
            state = DeviceState(path, adv.address)
            self.devices[path] = state
            name = heard.get("Name")
            props: dict[str, Variant] = {
                "Address": Variant("s", address),
                "AddressType": Variant("s", "random" if adv.address.is_random else "public"),
                "Alias": Variant("s", name.value if name else address.replace(":", "-")),
                "Paired": Variant("b", False),
                "Bonded": Variant("b", False),
                "Trusted": Variant("b", False),
                "Blocked": Variant("b", False),
                "LegacyPairing": Variant("b", False),
                "Connected": Variant("b", False),
                "ServicesResolved": Variant("b", False),
                "Adapter": Variant("o", ADAPTER_PATH),
                **heard,
            }
            self.tree.add(path, {DEVICE: props})
            return
        if state.expiry is not None:
            state.expiry.cancel()
            state.expiry = None
        known = self.tree.objects.get(path, {}).get(DEVICE, {})
        uuids = list(known.get("UUIDs", Variant("as", [])).value)
        for uuid in heard.get("UUIDs", Variant("as", [])).value:
            if uuid not in uuids:
                uuids.append(uuid)
        if uuids:
            heard["UUIDs"] = Variant("as", uuids)
        if "Name" in heard and "Name" not in known:
            heard["Alias"] = heard["Name"]
        duplicates = any(f.get("DuplicateData") for f in self.discovery_sessions.values())
        repeat = {k: v for k, v in heard.items() if k in ("ServiceData", "ManufacturerData")}
        self.tree.set(path, DEVICE, **heard)
        if duplicates and repeat:
            self.tree.signal_again(path, DEVICE, **repeat)


def advertisement_props(adv: Advertisement) -> dict[str, Variant]:
    """Device1 properties from one (merged) advertising report."""
    props: dict[str, Variant] = {"RSSI": Variant("n", int(adv.rssi))}
    data = adv.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    if isinstance(name, str) and name:
        props["Name"] = Variant("s", name)
    uuids: list[str] = []
    service_data: dict[str, Variant] = {}
    manufacturer: dict[int, Variant] = {}
    for ad_type, value in data.ad_structures:
        if ad_type in UUID_LISTS:
            size = UUID_LISTS[ad_type]
            for offset in range(0, len(value) - size + 1, size):
                text = uuid_text(core.UUID.from_bytes(value[offset : offset + size]))
                if text not in uuids:
                    uuids.append(text)
        elif ad_type in SERVICE_DATA and len(value) >= SERVICE_DATA[ad_type]:
            size = SERVICE_DATA[ad_type]
            key = uuid_text(core.UUID.from_bytes(value[:size]))
            service_data[key] = Variant("ay", bytes(value[size:]))
        elif ad_type == AdvertisingData.MANUFACTURER_SPECIFIC_DATA and len(value) >= 2:
            manufacturer[int.from_bytes(value[:2], "little")] = Variant("ay", bytes(value[2:]))
        elif ad_type == AdvertisingData.TX_POWER_LEVEL and len(value) >= 1:
            props["TxPower"] = Variant("n", int.from_bytes(value[:1], "little", signed=True))
        elif ad_type == AdvertisingData.FLAGS:
            props["AdvertisingFlags"] = Variant("ay", bytes(value))
    if uuids:
        props["UUIDs"] = Variant("as", uuids)
    if service_data:
        props["ServiceData"] = Variant("a{sv}", service_data)
    if manufacturer:
        props["ManufacturerData"] = Variant("a{qv}", manufacturer)
    return props


UUID_LISTS = {
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
SERVICE_DATA = {
    AdvertisingData.SERVICE_DATA_16_BIT_UUID: 2,
    AdvertisingData.SERVICE_DATA_32_BIT_UUID: 4,
    AdvertisingData.SERVICE_DATA_128_BIT_UUID: 16,
}
