"""Heart-rate straps: a connection (``StrapLink``) and its reconnect loop (``StrapSupervisor``).

The strap goes through the same bleak machinery and backends as the treadmill (BlueZ, or a
Bumble host on ``ble.transport``: one host serves both connections), with the connection
fields of :class:`LinkOptions` (``address`` / ``name`` select the strap; without them the first
advertiser of the Heart Rate Service 0x180D is taken).

``StrapLink`` subscribes to Heart Rate Measurement 0x2A37 (required), reads Body Sensor
Location 0x2A38 and Battery Level 0x2A19 and subscribes to the battery when it notifies (all
optional), and yields :class:`HeartRateSample` / :class:`SensorStatus` items from
``readings()`` until the strap goes away. Undecodable frames are counted in ``stats``
(``decode_failed_2a37``), never raised.

``StrapLink`` connects with the treadmill's connect step (connect.py, with :func:`find_strap`);
``StrapSupervisor`` keeps a strap connected forever with backoff, on the treadmill's reconnect
loop (reconnect.py, which knows no treadmill either). It has no reference to any
treadmill or governor: it cannot touch the belt. What a lost strap means for the session is the
heart-rate guard's decision (docs/heart-rate.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Self

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError

from treadctl.backoff import backoff_delay
from treadctl.ble.connect import connect, disconnect
from treadctl.ble.discovery import make_scanner, selection_text
from treadctl.ble.errors import (
    BleError,
    ConnectFailed,
    HeartRateSensorNotFound,
    NotAHeartRateSensor,
)
from treadctl.ble.options import LinkOptions
from treadctl.ble.reconnect import ReconnectLoop
from treadctl.ble.stream import ObservationStream
from treadctl.ftms import uuid128
from treadctl.hrs import (
    BATTERY_LEVEL_UUID16,
    BODY_SENSOR_LOCATION_UUID16,
    HEART_RATE_MEASUREMENT_UUID16,
    HEART_RATE_SERVICE_UUID16,
    BatteryLevel,
    BodySensorLocation,
    HeartRateItem,
    HeartRateMeasurement,
    HeartRateSample,
    HeartRateSource,
    HrsDecodeError,
    SensorStatus,
)

HRS_UUID = uuid128(HEART_RATE_SERVICE_UUID16)


async def find_strap(
    scanner_backend: type[BaseBleakScanner] | None,
    *,
    adapter: str | None = None,
    address: str | None = None,
    name: str | None = None,
    timeout_s: float = 10.0,
) -> BLEDevice:
    """The first advertiser matching ``address`` / ``name``, or (neither given) advertising the
    Heart Rate Service; :class:`HeartRateSensorNotFound` at the deadline."""
    wanted = address.upper().removesuffix("/P") if address else None
    criteria = selection_text(address, name)
    scanner = make_scanner(scanner_backend, adapter)
    try:
        async with scanner, asyncio.timeout(timeout_s):
            async for device, adv in scanner.advertisement_data():
                local_name = adv.local_name or device.name
                if wanted is not None and device.address.upper() != wanted:
                    continue
                if name is not None and local_name != name:
                    continue
                if wanted is None and name is None and HRS_UUID not in adv.service_uuids:
                    continue
                return device
    except TimeoutError:
        pass
    raise HeartRateSensorNotFound(criteria or "Heart Rate Service advertising", timeout_s)


class StrapLink:
    """One connected heart-rate sensor. Not re-entrant: make a new one per connection."""

    def __init__(
        self,
        options: LinkOptions | None = None,
        *,
        device: BLEDevice | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options or LinkOptions()
        self._device = device
        self._clock = clock
        self._stream: ObservationStream[HeartRateItem] = ObservationStream(
            self.options.max_queued_readings
        )
        self._client: BleakClient | None = None
        self._entered = False
        self._connected = False
        self._closed = asyncio.Event()
        self._reason = "not connected"
        self._closing: str | None = None
        self.address = ""
        self.battery_percent: int | None = None
        self.location: str | None = None
        self.stats: Counter[str] = Counter()
        """Decode failures and lenient-decode diagnostics by code."""

    @property
    def connected(self) -> bool:
        return self._connected

    def readings(self) -> AsyncIterator[HeartRateItem]:
        """Samples and status changes in arrival order (one consumer); ends after disconnection."""
        return self._stream

    async def wait_disconnected(self) -> str:
        await self._closed.wait()
        return self._reason

    # -- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("StrapLink is not reusable; make a new one per connection")
        self._entered = True
        try:
            await self._open()
        except BaseException:
            await self._disconnect("closed during set-up")
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._disconnect("closed by the daemon")

    async def _open(self) -> None:
        # The strap keeps Bumble's default MTU: ``ble.bumble_mtu`` is the treadmill's setting.
        self._device, client = await connect(
            self.options, self._device, self._on_disconnect, find=find_strap, bumble_mtu=None
        )
        device = self._device
        self.address = device.address
        self._client = client
        self._connected = True
        try:
            await self._setup(client)
        except (BleakError, TimeoutError) as exc:
            raise ConnectFailed(device.address, f"during set-up: {exc}") from exc

    async def _setup(self, client: BleakClient) -> None:
        services = client.services
        measurement = services.get_characteristic(uuid128(HEART_RATE_MEASUREMENT_UUID16))
        if measurement is None:
            raise NotAHeartRateSensor(self.address)
        location = services.get_characteristic(uuid128(BODY_SENSOR_LOCATION_UUID16))
        battery = services.get_characteristic(uuid128(BATTERY_LEVEL_UUID16))
        if location is not None and (raw := await self._read(location)) is not None:
            with contextlib.suppress(HrsDecodeError):
                self.location = BodySensorLocation.from_bytes(raw).name
        if battery is not None and (raw := await self._read(battery)) is not None:
            self._battery(raw)
        self._stream.push(self._status(True, reason=self.address))
        if battery is not None and "notify" in battery.properties:
            with contextlib.suppress(BleakError, TimeoutError):
                async with asyncio.timeout(self.options.gatt_timeout_s):
                    await client.start_notify(battery, self._on_battery)
        async with asyncio.timeout(self.options.gatt_timeout_s):
            await client.start_notify(measurement, self._on_measurement)

    async def _read(self, char: BleakGATTCharacteristic) -> bytearray | None:
        assert self._client is not None
        try:
            async with asyncio.timeout(self.options.gatt_timeout_s):
                return await self._client.read_gatt_char(char)
        except (BleakError, TimeoutError):
            self.stats[f"read_failed_{char.uuid[4:8]}"] += 1
            if not self._client.is_connected:
                raise
            return None

    def _status(self, connected: bool, reason: str = "") -> SensorStatus:
        return SensorStatus(
            self._clock(),
            HeartRateSource.STRAP,
            connected,
            reason=reason,
            battery_percent=self.battery_percent,
            location=self.location,
        )

    def _battery(self, raw: bytes | bytearray) -> bool:
        try:
            level, _diagnostics = BatteryLevel.decode(raw)
        except HrsDecodeError:
            self.stats["decode_failed_2a19"] += 1
            return False
        self.battery_percent = level.percent if level.valid else None
        return True

    # -- notification callbacks (synchronous, never block) --------------------------------------
    def _on_measurement(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            value, diagnostics = HeartRateMeasurement.decode(data)
        except HrsDecodeError:
            self.stats["decode_failed_2a37"] += 1
            return
        for diagnostic in diagnostics:
            self.stats[diagnostic.code] += 1
        self._stream.push(
            HeartRateSample(
                self._clock(),
                value.heart_rate,
                value.contact,
                HeartRateSource.STRAP,
                value.rr_intervals or (),
                value.energy_expended,
            )
        )

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if self._battery(data):
            self._stream.push(self._status(True, reason="battery"))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._mark_down(self._closing or "the strap disconnected")

    def _mark_down(self, reason: str) -> None:
        if self._closed.is_set():
            return
        if self._connected:
            self._stream.push(self._status(False, reason=reason))
        self._connected = False
        self._reason = reason
        self._stream.close()
        self._closed.set()

    async def _disconnect(self, reason: str) -> None:
        self._closing = self._closing or reason
        await disconnect(self._client, self.options.gatt_timeout_s)
        self._mark_down(reason)


class StrapSupervisor(ReconnectLoop[StrapLink, HeartRateItem, str]):
    """Keeps one strap connected: connect, stream, back off, connect again; until cancelled.

    ``readings()`` carries every connection's samples plus a ``SensorStatus(connected=False,
    retry_in_s=...)`` after each loss or failed attempt. Nothing here can reach a treadmill.
    """

    def __init__(
        self,
        open_link: Callable[[], StrapLink],
        *,
        backoff: Callable[[int], float] = backoff_delay,
        max_queued_readings: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            open_link, backoff=backoff, max_queued_readings=max_queued_readings, clock=clock
        )

    @classmethod
    def from_options(cls, options: LinkOptions, **kwargs: Any) -> StrapSupervisor:
        return cls(lambda: StrapLink(options), **kwargs)

    def readings(self) -> AsyncIterator[HeartRateItem]:
        """Samples and status changes of every connection, in order (one consumer)."""
        return self._stream

    def _report_down(self, reason: str, retry_in_s: float) -> None:
        self._stream.push(
            SensorStatus(
                self._clock(),
                HeartRateSource.STRAP,
                False,
                reason=reason,
                retry_in_s=retry_in_s,
            )
        )

    async def _one_connection(self) -> str:
        link = self._open_link()
        try:
            async with link:
                self._connected(link)
                async for item in link.readings():
                    if isinstance(item, SensorStatus) and not item.connected:
                        continue  # reported once, with retry_in_s, by run()
                    self._stream.push(item)
                return await link.wait_disconnected()
        except (BleError, BleakError, TimeoutError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            self._link = None
