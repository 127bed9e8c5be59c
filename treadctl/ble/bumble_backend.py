"""A bleak backend on a Bumble host: ``BleakScanner(backend=...)`` / ``BleakClient(backend=...)``.

The transport comes from the ``bumble_transport=`` keyword argument (extra keyword arguments to
``BleakScanner``/``BleakClient`` reach the backend) or, when absent, from the class attribute
``transport`` of a subclass made by :func:`bind_transport` (what
:func:`treadctl.ble.backend.select` returns). Scanner and client share one host per transport
(:mod:`treadctl.ble.bumble_host`).

Addresses: bleak addresses are ``AA:BB:CC:DD:EE:FF``; ``BLEDevice.details`` holds the typed
``bumble.hci.Address``. A plain address string takes the type it was advertised with on the same
host; ``/P`` (public) and ``/R`` (random) suffixes force a type.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import att, core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt_client import CharacteristicProxy

from treadctl.ble import bumble_host

_T = TypeVar("_T")

DEFAULT_MTU = 247
"""ATT MTU requested after connecting (BlueZ negotiates up to 517; 247 fits one LE data PDU)."""

DEFAULT_CONNECT_TIMEOUT_S = 10.0


def bumble_uuid_to_str(value: core.UUID) -> str:
    """A Bumble UUID as bleak's normalised 128-bit lower-case string."""
    return str(uuid.UUID(bytes=bytes(value.to_bytes(force_128=True))[::-1]))


def _plain(address: hci.Address) -> str:
    return str(address.to_string(False)).upper()


def _transport_from(cls: type[Any], kwargs: dict[str, Any]) -> str:
    spec = kwargs.get("bumble_transport") or getattr(cls, "transport", None)
    if not spec:
        raise BleakError(
            "the Bumble backend needs a transport: pass bumble_transport='tcp-client:HOST:PORT' "
            "or use treadctl.ble.backend.select('bumble', transport)"
        )
    return str(spec)


def advertisement_data(adv: Advertisement) -> AdvertisementData:
    """Bumble advertisement (advertising data + scan response, merged) to bleak's tuple."""
    name: str | None = None
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    service_uuids: list[str] = []
    tx_power: int | None = None
    uuid_sizes = {
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
        AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
        AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    }
    service_data_sizes = {
        AdvertisingData.SERVICE_DATA_16_BIT_UUID: 2,
        AdvertisingData.SERVICE_DATA_32_BIT_UUID: 4,
        AdvertisingData.SERVICE_DATA_128_BIT_UUID: 16,
    }
    for ad_type, data in adv.data.ad_structures:
        if ad_type in uuid_sizes:
            size = uuid_sizes[ad_type]
            for offset in range(0, len(data) - size + 1, size):
                text = bumble_uuid_to_str(core.UUID.from_bytes(data[offset : offset + size]))
                if text not in service_uuids:
                    service_uuids.append(text)
        elif ad_type in service_data_sizes:
            size = service_data_sizes[ad_type]
            if len(data) >= size:
                key = bumble_uuid_to_str(core.UUID.from_bytes(data[:size]))
                service_data[key] = bytes(data[size:])
        elif ad_type == AdvertisingData.COMPLETE_LOCAL_NAME or (
            ad_type == AdvertisingData.SHORTENED_LOCAL_NAME and name is None
        ):
            name = bytes(data).decode("utf-8", errors="replace")
        elif ad_type == AdvertisingData.MANUFACTURER_SPECIFIC_DATA and len(data) >= 2:
            manufacturer[int.from_bytes(data[:2], "little")] = bytes(data[2:])
        elif ad_type == AdvertisingData.TX_POWER_LEVEL and len(data) >= 1:
            tx_power = int.from_bytes(data[:1], "little", signed=True)
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )


class BleakScannerBumble(BaseBleakScanner):
    """bleak scanner backend on a Bumble host."""

    transport: ClassVar[str | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._spec = _transport_from(type(self), kwargs)
        self._active = scanning_mode != "passive"
        self._host: bumble_host.BumbleHost | None = None

    async def start(self) -> None:
        if self._host is not None:
            raise BleakError("scanner already started")
        self.seen_devices = {}
        host = await bumble_host.registry().acquire(self._spec)
        self._host = host
        host.device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        host.scanners += 1
        try:
            if not host.device.is_scanning:
                await host.device.start_scanning(active=self._active, filter_duplicates=False)
        except BaseException:
            host.scanners -= 1
            await self._release()
            raise

    async def stop(self) -> None:
        host = self._host
        if host is None:
            return
        host.scanners -= 1
        try:
            # Another scanner of the same host (the treadmill's, a strap's) may still run.
            if host.scanners == 0 and host.device.is_scanning:
                await host.device.stop_scanning()
        finally:
            await self._release()

    async def _release(self) -> None:
        host, self._host = self._host, None
        if host is not None:
            host.device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            await bumble_host.registry().release(self._spec)

    def _on_advertisement(self, adv: Advertisement) -> None:
        if self._host is not None:
            self._host.remember(adv.address)
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = _plain(adv.address)
        device = self.create_or_update_device(
            str(adv.address), address, data.local_name, adv.address, data
        )
        self.call_detection_callbacks(device, data)


def _property_names(properties: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if properties & bit]


class BleakClientBumble(BaseBleakClient):
    """bleak client backend on a Bumble host (central role, LE)."""

    transport: ClassVar[str | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
        )
        self._spec = _transport_from(type(self), kwargs)
        self._mtu_wanted = int(kwargs.get("bumble_mtu", DEFAULT_MTU))
        self._target: hci.Address | None = None
        if isinstance(address_or_ble_device, BLEDevice) and isinstance(
            address_or_ble_device.details, hci.Address
        ):
            self._target = address_or_ble_device.details
        self._device_name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._host: bumble_host.BumbleHost | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._proxies: dict[int, CharacteristicProxy[bytes]] = {}
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    # -- properties ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._device_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        if self._connection is None:
            return att.ATT_DEFAULT_MTU
        return int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    # -- connectivity --------------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self._connection is not None:
            return
        if self._host is not None:  # the peer dropped the last connection: let go of its host
            await self._teardown(disconnect=False)
        timeout = float(kwargs.get("timeout", self._timeout))
        host = await bumble_host.registry().acquire(self._spec)
        self._host = host
        try:
            async with asyncio.timeout(timeout):
                target = self._target or host.resolve(self.address)
                connection = await host.device.connect(target, timeout=None)
                self._connection = connection
                connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
                peer = Peer(connection)
                self._peer = peer
                if self._mtu_wanted > att.ATT_DEFAULT_MTU:
                    await self._guard(peer.request_mtu(self._mtu_wanted))
                await self._guard(self._discover_all(peer))
                self.services = self._build_services(peer)
                if pair:
                    await self._guard(connection.pair())
        except TimeoutError as exc:
            await self._teardown(disconnect=True)
            raise TimeoutError(f"connecting to {self.address} timed out") from exc
        except core.BaseBumbleError as exc:
            await self._teardown(disconnect=True)
            raise BleakError(f"connecting to {self.address}: {exc}") from exc
        except BaseException:
            await self._teardown(disconnect=True)
            raise

    async def disconnect(self) -> None:
        await self._teardown(disconnect=True)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        await self._guard(self._require_connection().pair())

    async def unpair(self) -> None:
        host = self._host
        target = self._connection.peer_address if self._connection is not None else None
        await self.disconnect()
        if host is not None and target is not None and host.device.keystore is not None:
            with contextlib.suppress(KeyError):
                await host.device.keystore.delete(str(target))

    def _on_disconnection(self, reason: int) -> None:
        if self._connection is None:
            return
        self._connection = None
        self._peer = None
        self._proxies.clear()
        self._subscribers.clear()
        # Only the release of the host is asynchronous; it cannot be awaited from this
        # synchronous Bumble event, so the next disconnect()/connect() call does it.
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _teardown(self, *, disconnect: bool) -> None:
        connection, self._connection = self._connection, None
        self._peer = None
        self._proxies.clear()
        self._subscribers.clear()
        try:
            if disconnect and connection is not None:
                connection.remove_listener(Connection.EVENT_DISCONNECTION, self._on_disconnection)
                with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error, TimeoutError):
                    async with asyncio.timeout(self._timeout):
                        await connection.disconnect()
                if self._disconnected_callback is not None:
                    self._disconnected_callback()
        finally:
            host, self._host = self._host, None
            if host is not None:
                await bumble_host.registry().release(self._spec)

    # -- services ------------------------------------------------------------------------------

    @staticmethod
    async def _discover_all(peer: Peer) -> None:
        client = peer.gatt_client
        await client.discover_services()
        for service in client.services:
            await client.discover_characteristics(uuids=(), service=service)
            for characteristic in service.characteristics:
                await client.discover_descriptors(characteristic)

    def _build_services(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        self._proxies.clear()
        for service in peer.services:
            bleak_service = BleakGATTService(
                service, service.handle, bumble_uuid_to_str(service.uuid)
            )
            collection.add_service(bleak_service)
            for characteristic in service.characteristics:
                self._proxies[characteristic.handle] = characteristic
                bleak_char = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bumble_uuid_to_str(characteristic.uuid),
                    _property_names(int(characteristic.properties)),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in characteristic.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            bumble_uuid_to_str(descriptor.type),
                            bleak_char,
                        )
                    )
        return collection

    # -- I/O -----------------------------------------------------------------------------------

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def _guard(self, awaitable: Awaitable[_T]) -> _T:
        """Await a Bumble GATT call, translating its failures into bleak's exceptions.

        Bumble cancels the pending ATT response future when the link drops; that surfaces as
        ``CancelledError`` in the caller although nobody cancelled the caller. It is turned into
        a ``BleakError`` here unless the calling task really is being cancelled.
        """
        try:
            return await awaitable
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except core.TimeoutError as exc:
            raise TimeoutError(str(exc)) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            raise BleakError("Disconnected during a GATT request") from None
        except core.BaseBumbleError as exc:
            raise BleakError(str(exc)) from exc

    def _proxy(self, characteristic: BleakGATTCharacteristic) -> CharacteristicProxy[bytes]:
        self._require_connection()
        proxy = self._proxies.get(characteristic.handle)
        if proxy is None:
            raise BleakError(f"characteristic {characteristic.uuid} is not on this connection")
        return proxy

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        proxy = self._proxy(characteristic)
        peer = self._require_peer()
        if use_cached and (cached := peer.gatt_client.cached_values.get(proxy.handle)):
            return bytearray(cached[1])
        value = await self._guard(peer.read_value(proxy))
        return bytearray(value)

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        peer = self._require_peer()
        if use_cached and (cached := peer.gatt_client.cached_values.get(descriptor.handle)):
            return bytearray(cached[1])
        value = await self._guard(peer.read_value(descriptor.handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        proxy = self._proxy(characteristic)
        await self._guard(
            self._require_peer().write_value(proxy, bytes(data), with_response=response)
        )

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        await self._guard(
            self._require_peer().write_value(descriptor.handle, bytes(data), with_response=True)
        )

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        proxy = self._proxy(characteristic)
        peer = self._require_peer()
        if proxy.handle in self._subscribers:
            raise BleakError(f"notifications already started on {characteristic.uuid}")

        def deliver(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[proxy.handle] = deliver
        try:
            await self._guard(peer.subscribe(proxy, deliver, prefer_notify=True))
        except BaseException:
            self._subscribers.pop(proxy.handle, None)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        proxy = self._proxy(characteristic)
        deliver = self._subscribers.pop(proxy.handle, None)
        if deliver is None:
            return
        await self._guard(self._require_peer().unsubscribe(proxy, deliver))


_B = TypeVar("_B", BleakScannerBumble, BleakClientBumble)


def bind_transport(base: type[_B], spec: str) -> type[_B]:
    """A subclass of ``base`` whose default transport is ``spec``."""
    return type(f"{base.__name__}[{spec}]", (base,), {"transport": spec})
