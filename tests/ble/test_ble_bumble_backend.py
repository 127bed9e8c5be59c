"""bleak's own BleakScanner/BleakClient, on the Bumble backend, against a Bumble peripheral."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakError, BleakGATTProtocolError
from bumble import hci
from bumble.link import LocalLink

from harness.peripheral import ADDRESS, peripheral
from treadctl.ble import bumble_host
from treadctl.ble.backend import bumble_backends, select

FTMS = "00001826-0000-1000-8000-00805f9b34fb"
CP = "00002ad9-0000-1000-8000-00805f9b34fb"
SPEED_RANGE = "00002ad4-0000-1000-8000-00805f9b34fb"
TRAINING = "00002ad3-0000-1000-8000-00805f9b34fb"
DATA = "00002acd-0000-1000-8000-00805f9b34fb"


async def _first(scanner: BleakScanner) -> tuple[BLEDevice, AdvertisementData]:
    async with asyncio.timeout(5):
        return await anext(aiter(scanner.advertisement_data()))


async def _find(spec: str, **kwargs: object) -> BLEDevice:
    scanner_cls, _ = bumble_backends(spec)
    device = await BleakScanner.find_device_by_address(
        ADDRESS,
        timeout=5,
        backend=scanner_cls,
        **kwargs,  # type: ignore[arg-type]
    )
    assert device is not None
    return device


async def test_scan_reports_name_service_uuid_and_service_data(link: LocalLink, spec: str) -> None:
    scanner_cls, _ = bumble_backends(spec)
    async with (
        peripheral(link),
        BleakScanner(backend=scanner_cls, service_uuids=[FTMS]) as scanner,
    ):
        device, adv = await _first(scanner)
    assert device.address == ADDRESS
    assert adv.local_name == "TestTread"
    assert FTMS in adv.service_uuids
    # FTMS Service Data: flags 0x01 (available), machine type 0x0001 (treadmill)
    assert adv.service_data[FTMS] == bytes([0x01, 0x01, 0x00])
    assert isinstance(device.details, hci.Address)


async def test_a_service_uuid_filter_excludes_other_advertisers(link: LocalLink, spec: str) -> None:
    scanner_cls, _ = bumble_backends(spec)
    config = {"advertise_uuid": False, "service_data": False}
    async with peripheral(link, **config):
        found = await BleakScanner.find_device_by_filter(
            lambda d, a: True, timeout=0.5, backend=scanner_cls, service_uuids=[FTMS]
        )
        unfiltered = await BleakScanner.find_device_by_filter(
            lambda d, a: True, timeout=5, backend=scanner_cls
        )
    assert found is None
    assert unfiltered is not None


async def test_connect_discovers_services_reads_writes_and_indicates(
    link: LocalLink, spec: str
) -> None:
    _, client_cls = bumble_backends(spec)
    async with peripheral(link) as tread:
        device = await _find(spec)
        async with BleakClient(device, backend=client_cls) as client:
            assert client.is_connected
            assert client.mtu_size == 247
            service = client.services.get_service(FTMS)
            assert service is not None
            cp = service.get_characteristic(CP)
            assert cp is not None
            assert set(cp.properties) == {"write", "indicate"}
            assert await client.read_gatt_char(SPEED_RANGE) == bytes.fromhex("32005802 0a00")
            indications: asyncio.Queue[bytes] = asyncio.Queue()
            await client.start_notify(CP, lambda _c, data: indications.put_nowait(bytes(data)))
            await client.write_gatt_char(CP, b"\x00", response=True)
            async with asyncio.timeout(5):
                assert await indications.get() == bytes([0x80, 0x00, 0x01])
            assert tread.cp_writes == [b"\x00"]
            await client.stop_notify(CP)
    assert tread.connection is None


async def test_notifications_arrive_in_order(link: LocalLink, spec: str) -> None:
    _, client_cls = bumble_backends(spec)
    async with peripheral(link) as tread:
        device = await _find(spec)
        async with BleakClient(device, backend=client_cls) as client:
            got: asyncio.Queue[bytes] = asyncio.Queue()
            await client.start_notify(DATA, lambda _c, data: got.put_nowait(bytes(data)))
            for speed in range(100, 150):
                await tread.notify_speed(speed)
            async with asyncio.timeout(5):
                frames = [await got.get() for _ in range(50)]
    assert [int.from_bytes(f[2:4], "little") for f in frames] == list(range(100, 150))


async def test_an_att_error_becomes_bleaks_protocol_error(link: LocalLink, spec: str) -> None:
    _, client_cls = bumble_backends(spec)
    async with peripheral(link, training_read_fails=True):
        device = await _find(spec)
        async with BleakClient(device, backend=client_cls) as client:
            with pytest.raises(BleakGATTProtocolError) as caught:
                await client.read_gatt_char(TRAINING)
    assert caught.value.code == 0x0E  # Unlikely Error, as the peripheral answered


async def test_peer_disconnect_calls_back_and_fails_later_requests(
    link: LocalLink, spec: str
) -> None:
    _, client_cls = bumble_backends(spec)
    gone = asyncio.Event()
    async with peripheral(link) as tread:
        device = await _find(spec)
        client = BleakClient(device, lambda _c: gone.set(), backend=client_cls)
        await client.connect()
        try:
            await tread.drop_connection()
            async with asyncio.timeout(5):
                await gone.wait()
            assert not client.is_connected
            with pytest.raises(BleakError):
                await client.read_gatt_char(SPEED_RANGE)
        finally:
            await client.disconnect()


async def test_disconnect_mid_request_is_an_error_not_a_cancellation(
    link: LocalLink, spec: str
) -> None:
    _, client_cls = bumble_backends(spec)
    async with peripheral(link) as tread:
        tread.mode = "silent"
        device = await _find(spec)
        async with BleakClient(device, backend=client_cls) as client:
            # A write whose response never comes: the peripheral's handler blocks.
            release = asyncio.Event()
            entered = asyncio.Event()

            async def blocking_write(_connection: object, _value: bytes) -> None:
                entered.set()
                await release.wait()

            tread.cp_char.value.write = blocking_write  # type: ignore[union-attr,method-assign]
            write = asyncio.create_task(client.write_gatt_char(CP, b"\x00", response=True))
            async with asyncio.timeout(5):
                await entered.wait()
                await tread.drop_connection()
                with pytest.raises(BleakError, match="Disconnected"):
                    await write
            release.set()


async def test_scanner_and_client_share_one_host(link: LocalLink, spec: str) -> None:
    scanner_cls, client_cls = bumble_backends(spec)
    async with peripheral(link), bumble_host.hold(spec) as host:
        async with BleakScanner(backend=scanner_cls) as scanner:
            device, _adv = await _first(scanner)
            async with BleakClient(device, backend=client_cls) as client:
                assert client.is_connected
                assert bumble_host.registry().open_specs() == [spec]
                assert len(host.device.connections) == 1
        assert host.device.powered_on
    assert bumble_host.registry().open_specs() == []


async def test_public_address_needs_the_p_suffix(link: LocalLink, spec: str) -> None:
    _, client_cls = bumble_backends(spec)
    async with peripheral(link), bumble_host.hold(spec) as host:
        # Never seen by a scan: a plain address is random (Bumble's default), /P is public.
        assert host.resolve("F1:F2:F3:F4:F5:F6").address_type == hci.Address.RANDOM_DEVICE_ADDRESS
        assert host.resolve("f1:f2:f3:f4:f5:f6/P").address_type == hci.Address.PUBLIC_DEVICE_ADDRESS
        # A plain string address works because the peripheral's address is random static.
        async with BleakClient(ADDRESS, backend=client_cls, timeout=5) as client:
            assert client.is_connected


async def test_unknown_local_link_is_a_transport_error() -> None:
    _, client_cls = select("bumble", "local:nobody")
    client = BleakClient(ADDRESS, backend=client_cls)
    with pytest.raises(Exception, match="no in-process link"):
        await client.connect()


async def test_a_client_connects_again_after_the_peer_dropped_it(
    link: LocalLink, spec: str
) -> None:
    _, client_cls = bumble_backends(spec)
    gone = asyncio.Event()
    async with peripheral(link) as tread:
        device = await _find(spec)
        client = BleakClient(device, lambda _c: gone.set(), backend=client_cls)
        await client.connect()
        try:
            await tread.drop_connection()
            async with asyncio.timeout(5):
                await gone.wait()
            await client.connect()  # the same object, a new connection on a fresh host
            assert client.is_connected
            assert bumble_host.registry().open_specs() == [spec]
            assert await client.read_gatt_char(SPEED_RANGE) == bytes.fromhex("32005802 0a00")
        finally:
            await client.disconnect()
