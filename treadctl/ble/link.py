"""TreadmillLink: one FTMS treadmill connection through bleak, implementing ``TreadmillPort``.

``async with TreadmillLink(options) as link:`` finds the treadmill, connects (bleak-retry-connector
inside an outer deadline), reads its ranges (missing or failing 0x2AD5/0x2AD3 degrade, never
crash), subscribes to Treadmill Data, Machine Status, Training Status and the Control Point, and
yields. ``link.observations()`` streams merged Treadmill Data records as :class:`Reading` and
status changes as :class:`DeviceEvent`; the stream ends after the link disconnects.

Real-device rules enforced here on every command, whoever sent it (docs/references.md#ftms-devices):

- Start/Resume is never sent while the last reported speed is above zero (Start toggles the belt
  on some pads), nor before any speed has been reported.
- After Start, a speed write waits until the belt reports > 0 or ``cold_start_timeout_s``
  (one pad drops the link when a speed is written while its motor spins up).
- A speed is rounded *down* to the device increment and capped at the device maximum; below the
  device minimum it is refused (many pads silently revert a lower target).
- After a speed change a settled reported/requested ratio near 1.609 (or its inverse) emits
  ``MPH_SUSPECTED``; speed-ups are refused until :meth:`clear_mph_suspicion`.
- Control is requested before the first command and again after Reset or status 0xFF, with
  backoff after a refusal; it is released after ``idle_release_s`` without commands while the
  belt stands (a held control locks some consoles).

The link never retries a command and never reconnects; see :mod:`treadctl.ble.supervisor`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Self

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError

from treadctl.ble.belt_watch import BeltWatch
from treadctl.ble.connect import connect, disconnect, find_treadmill_device
from treadctl.ble.control_access import ControlAccess
from treadctl.ble.device_gatt import DeviceGatt, count_diagnostics
from treadctl.ble.errors import (
    BleError,
    ConnectFailed,
    NotConnected,
)
from treadctl.ble.observation_map import (
    BELT_STOPPED_KINDS,
    mph_event,
    reading_from,
    status_event,
    training_event,
)
from treadctl.ble.options import LinkOptions
from treadctl.ble.procedure import ControlChannel
from treadctl.ble.rules import device_incline, device_speed
from treadctl.ble.stream import ObservationStream
from treadctl.ftms import (
    CONTROL_POINT_UUID16,
    MACHINE_STATUS_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
    FtmsDecodeError,
    MachineStatus,
    MoreDataAssembler,
    Reset,
    SetTargetInclination,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    TrainingStatus,
    TreadmillData,
)
from treadctl.observations import (
    DeviceEvent,
    DeviceInfo,
    EventKind,
    Observation,
)


class TreadmillLink:
    """A connected FTMS treadmill (``treadctl.control.port.TreadmillPort``). Not re-entrant."""

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
        self._stream: ObservationStream[Observation] = ObservationStream(
            self.options.max_queued_readings
        )
        self._client: BleakClient | None = None
        self._assembler = MoreDataAssembler()
        self._info = DeviceInfo(address="", name=None, speed_range=None, incline_range=None)
        self._connected = False
        self._entered = False
        self._closed_event = asyncio.Event()
        self._exit = contextlib.AsyncExitStack()
        # belt and control state
        self._belt = BeltWatch(clock=clock, mph_check=self.options.mph_check)
        self._access = ControlAccess(
            clock=clock,
            retry_base_s=self.options.control_retry_base_s,
            require_connected=self._require_connected,
        )
        self._commands = asyncio.Lock()
        self._disconnect_reason = "not connected"
        self._closing: str | None = None
        self.stats: Counter[str] = Counter()
        """Diagnostics and decode failures by code (for logs and ``treadctl`` status)."""

    # -- TreadmillPort -------------------------------------------------------------------------

    @property
    def info(self) -> DeviceInfo:
        return self._info

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def has_control(self) -> bool:
        return self._access.session.has_control

    @property
    def last_speed(self) -> int | None:
        """The last reported Instantaneous Speed (0.01 km/h), None before any Treadmill Data."""
        return self._belt.last_speed

    @property
    def mph_suspected(self) -> float | None:
        """The suspicious ratio when an mph device was suspected, else None."""
        return self._belt.mph_ratio

    @property
    def dropped_readings(self) -> int:
        return self._stream.dropped_readings

    def observations(self) -> AsyncIterator[Observation]:
        """Readings and events in arrival order (one consumer); ends after disconnection."""
        return self._stream

    async def wait_disconnected(self) -> str:
        """Wait until the link is down; returns the reason."""
        await self._closed_event.wait()
        return self._disconnect_reason

    async def request_control(self) -> None:
        async with self._commands:
            self._require_connected()
            self._access.session.withdraw()
            await self._access.ensure_control()

    async def set_target_speed(self, speed: int) -> None:
        value = device_speed(speed, self._info.speed_range)
        self._belt.check_mph(value)
        # The cold-start wait happens outside the command lock: a stop must never queue behind it.
        self._require_connected()
        await self._belt.wait_cold_start()
        self._require_connected()
        async with self._commands:
            self._belt.check_mph(value)
            await self._access.ensure_control()
            await self._access.run(SetTargetSpeed(value))
            self._belt.sent_speed(value)

    async def set_target_incline(self, incline: int) -> None:
        value = device_incline(incline, self._info.incline_range)
        async with self._commands:
            await self._access.ensure_control()
            await self._access.run(SetTargetInclination(value))

    async def start(self) -> None:
        self._require_connected()
        if not self._belt.first_reading.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.options.first_reading_timeout_s):
                    await self._belt.first_reading.wait()
        async with self._commands:
            self._require_connected()
            self._belt.check_stands()
            await self._access.ensure_control()
            self._belt.check_stands()  # it may have been started from the console meanwhile
            self._belt.moving.clear()
            self._belt.cold_start_deadline = self._clock() + self.options.cold_start_timeout_s
            try:
                await self._access.run(StartOrResume())
            except BaseException:
                self._belt.cold_start_deadline = None
                raise

    async def stop(self) -> None:
        await self._stop_or_pause(StopKind.STOP)

    async def pause(self) -> None:
        await self._stop_or_pause(StopKind.PAUSE)

    async def _stop_or_pause(self, kind: StopKind) -> None:
        async with self._commands:
            await self._access.ensure_control()
            await self._access.run(StopOrPause(kind))
            self._belt.cold_start_deadline = None

    # -- extras the daemon may use ---------------------------------------------------------------

    async def release_control(self) -> None:
        """Give control back now (Reset or disconnect, per ``options.idle_release``)."""
        if not self._connected:
            return
        if self.options.idle_release == "disconnect":
            await self._disconnect("control released by disconnecting")
            return
        async with self._commands:
            if self._access.session.has_control and self._connected:
                try:
                    await self._access.run(Reset())
                finally:
                    self._access.session.withdraw()

    def clear_mph_suspicion(self) -> None:
        """The operator checked the treadmill's units: allow speed-ups again."""
        self._belt.mph_ratio = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._entered:
            raise RuntimeError("TreadmillLink is not reusable; make a new one per connection")
        self._entered = True
        try:
            await self._open()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()

    async def _open(self) -> None:
        opts = self.options
        self._device, client = await connect(
            opts,
            self._device,
            self._on_disconnect,
            find=find_treadmill_device,
            bumble_mtu=opts.bumble_mtu,
        )
        device = self._device
        self._client = client
        self._connected = True
        self._exit.push_async_callback(self._disconnect, "closed by the daemon")
        try:
            await self._setup(client, device)
        except (BleakError, TimeoutError) as exc:  # the peer went away during set-up
            raise ConnectFailed(device.address, f"during set-up: {exc}") from exc
        if opts.idle_release_s is not None:
            group = await self._exit.enter_async_context(asyncio.TaskGroup())
            watcher = group.create_task(self._idle_watch(opts.idle_release_s))
            self._exit.callback(watcher.cancel)

    async def _close(self) -> None:
        try:
            await self._exit.aclose()
        finally:
            self._mark_down("closed by the daemon")

    async def _setup(self, client: BleakClient, device: BLEDevice) -> None:
        opts = self.options
        gatt = DeviceGatt(
            client, device.address, gatt_timeout_s=opts.gatt_timeout_s, stats=self.stats
        )
        gatt.find_characteristics()
        self._info = await gatt.read_info(device.name)
        self._stream.push(DeviceEvent(self._clock(), EventKind.CONNECTED, detail=device.address))
        if (cp := gatt.chars.get(CONTROL_POINT_UUID16)) is not None:

            async def write(data: bytes) -> None:
                await client.write_gatt_char(cp, data, response=True)

            self._access.channel = ControlChannel(write, deadline_s=opts.control_timeout_s)
            # Required: without its indications no procedure can complete (FTMS §4.16.3), so a
            # failed subscription fails the set-up and the supervisor tries again.
            await gatt.subscribe(CONTROL_POINT_UUID16, self._on_control_point, required=True)
        await gatt.subscribe(MACHINE_STATUS_UUID16, self._on_status)
        training = gatt.chars.get(TRAINING_STATUS_UUID16)
        if training is not None:
            if "read" in training.properties:
                raw = await gatt.read_optional(TRAINING_STATUS_UUID16)
                if raw is not None:
                    self._on_training_status(training, raw)
            if "notify" in training.properties:
                await gatt.subscribe(TRAINING_STATUS_UUID16, self._on_training_status)
        await gatt.subscribe(TREADMILL_DATA_UUID16, self._on_data, required=True)

    # -- notification callbacks (synchronous, never block) ----------------------------------------

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            fragment, diagnostics = TreadmillData.decode(bytes(data))
        except FtmsDecodeError:
            self.stats["decode_failed_2acd"] += 1
            return
        count_diagnostics(self.stats, diagnostics)
        record = self._assembler.feed(fragment)
        if record is None:
            return
        now = self._clock()
        if record.instantaneous_speed is not None:
            speed = record.instantaneous_speed
            ratio = self._belt.observed(speed)
            if ratio is not None:
                self._stream.push(mph_event(now, speed, ratio))
        self._stream.push(reading_from(record, now))

    def _on_status(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            status, diagnostics = MachineStatus.decode(bytes(data))
        except FtmsDecodeError:
            self.stats["decode_failed_2ada"] += 1
            return
        count_diagnostics(self.stats, diagnostics)
        now = self._clock()
        verdict = self._access.session.status(status, now)
        op = int(status.op)
        kind, value = status_event(status)
        if kind in BELT_STOPPED_KINDS:
            self._belt.cold_start_deadline = None
        if kind is None:
            self.stats[f"status_{op:02x}"] += 1
            return
        ours = verdict.echo_of
        detail = "" if ours is None else f"echo of our {ours.name.lower()}"
        self._stream.push(DeviceEvent(now, kind, value=value, detail=detail, echo=ours is not None))

    def _on_training_status(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            status, diagnostics = TrainingStatus.decode(bytes(data))
        except FtmsDecodeError:
            self.stats["decode_failed_2ad3"] += 1
            return
        count_diagnostics(self.stats, diagnostics)
        self._stream.push(training_event(self._clock(), status))

    def _on_control_point(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if self._access.channel is not None:
            self._access.channel.on_indication(bytes(data))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._mark_down(self._closing or "the treadmill disconnected")

    def _mark_down(self, reason: str) -> None:
        if self._closed_event.is_set():
            return
        was_connected = self._connected
        self._connected = False
        self._access.session.link_lost()
        self._disconnect_reason = reason
        self._assembler.reset()  # a partial record is dropped on disconnect (§4.18)
        if self._access.channel is not None:
            self._access.channel.close(reason)
        if was_connected:
            self._stream.push(DeviceEvent(self._clock(), EventKind.DISCONNECTED, detail=reason))
        self._stream.close()
        self._closed_event.set()
        # wake every waiter so that it sees the link is down
        self._belt.wake()
        self._access.activity.set()

    async def _disconnect(self, reason: str) -> None:
        self._closing = self._closing or reason
        await disconnect(self._client, self.options.gatt_timeout_s)
        self._mark_down(reason)

    # -- procedures ----------------------------------------------------------------------------

    def _require_connected(self) -> None:
        if not self._connected:
            raise NotConnected(self._disconnect_reason)

    async def _idle_watch(self, idle_s: float) -> None:
        """Release control after ``idle_s`` without a procedure while the belt stands."""
        while self._connected:
            self._access.activity.clear()
            try:
                async with asyncio.timeout(idle_s):
                    await self._access.activity.wait()
                continue
            except TimeoutError:
                pass
            if (
                self._access.session.has_control
                and self._belt.last_speed == 0
                and not self._commands.locked()
            ):
                try:
                    await self.release_control()
                except BleError as exc:
                    self.stats[f"release_failed_{type(exc).__name__}"] += 1
