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
from typing import Any, Self

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from treadctl.backoff import backoff_delay
from treadctl.ble.backend import select
from treadctl.ble.discovery import Candidate, find_treadmill
from treadctl.ble.errors import (
    BeltMoving,
    BeltStateUnknown,
    BleError,
    ConnectFailed,
    ControlRefused,
    ControlWriteFailed,
    MphSuspected,
    NotATreadmill,
    NotConnected,
)
from treadctl.ble.identity import DIS_SERVICE_UUID16, DIS_STRINGS, read_identity
from treadctl.ble.options import LinkOptions
from treadctl.ble.procedure import ControlChannel
from treadctl.ble.rules import MphCheck, device_incline, device_speed
from treadctl.ble.stream import ObservationStream
from treadctl.ftms import (
    CONTROL_POINT_UUID16,
    INCLINE_RANGE_UUID16,
    MACHINE_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
    ControlRequest,
    FtmsDecodeError,
    MachineStatus,
    MachineStatusOp,
    MoreDataAssembler,
    RequestControl,
    Reset,
    SetTargetInclination,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TrainingStatus,
    TreadmillData,
    uuid128,
)
from treadctl.ftms.control_session import ControlSession
from treadctl.ftms.fields import TREADMILL_DATA_FIELDS
from treadctl.observations import (
    DeviceEvent,
    DeviceInfo,
    EventKind,
    InclineRange,
    Observation,
    Reading,
    SpeedRange,
)

_READING_FIELDS = tuple((f.name, f.reading) for f in TREADMILL_DATA_FIELDS if f.reading)
"""(Treadmill Data field, Reading attribute) pairs, from the one field table."""


def reading_from(record: TreadmillData, at: float) -> Reading:
    """The Reading of a merged record: the fields the field table maps to a Reading."""
    values: dict[str, int | None] = {
        reading: getattr(record, name) for name, reading in _READING_FIELDS
    }
    return Reading(at, **values)


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
        self._chars: dict[int, BleakGATTCharacteristic] = {}
        self._channel: ControlChannel | None = None
        self._assembler = MoreDataAssembler()
        self._info = DeviceInfo(address="", name=None, speed_range=None, incline_range=None)
        self._connected = False
        self._entered = False
        self._closed_event = asyncio.Event()
        self._exit = contextlib.AsyncExitStack()
        # belt and control state
        self._last_speed: int | None = None
        self._first_reading = asyncio.Event()
        self._moving = asyncio.Event()
        self._cold_start_deadline: float | None = None
        self._control = ControlSession()
        self._control_refusals = 0
        self._control_retry_at = 0.0
        self._last_refusal: ControlRefused | None = None
        self._last_target: int | None = None
        self._mph = MphCheck()
        self._mph_ratio: float | None = None
        self._activity = asyncio.Event()
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
        return self._control.has_control

    @property
    def last_speed(self) -> int | None:
        """The last reported Instantaneous Speed (0.01 km/h), None before any Treadmill Data."""
        return self._last_speed

    @property
    def mph_suspected(self) -> float | None:
        """The suspicious ratio when an mph device was suspected, else None."""
        return self._mph_ratio

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
            self._control.withdraw()
            await self._ensure_control()

    async def set_target_speed(self, speed: int) -> None:
        value = device_speed(speed, self._info.speed_range)
        self._check_mph(value)
        # The cold-start wait happens outside the command lock: a stop must never queue behind it.
        await self._wait_cold_start()
        async with self._commands:
            self._check_mph(value)
            await self._ensure_control()
            await self._procedure(SetTargetSpeed(value))
            self._last_target = value
            if self.options.mph_check:
                self._mph.expect(value)

    async def set_target_incline(self, incline: int) -> None:
        value = device_incline(incline, self._info.incline_range)
        async with self._commands:
            await self._ensure_control()
            await self._procedure(SetTargetInclination(value))

    async def start(self) -> None:
        self._require_connected()
        if not self._first_reading.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.options.first_reading_timeout_s):
                    await self._first_reading.wait()
        async with self._commands:
            self._require_connected()
            self._check_belt_stands()
            await self._ensure_control()
            self._check_belt_stands()  # it may have been started from the console meanwhile
            self._moving.clear()
            self._cold_start_deadline = self._clock() + self.options.cold_start_timeout_s
            try:
                await self._procedure(StartOrResume())
            except BaseException:
                self._cold_start_deadline = None
                raise

    async def stop(self) -> None:
        await self._stop_or_pause(StopKind.STOP)

    async def pause(self) -> None:
        await self._stop_or_pause(StopKind.PAUSE)

    async def _stop_or_pause(self, kind: StopKind) -> None:
        async with self._commands:
            await self._ensure_control()
            await self._procedure(StopOrPause(kind))
            self._cold_start_deadline = None

    def _check_belt_stands(self) -> None:
        if self._last_speed is None:
            raise BeltStateUnknown()
        if self._last_speed > 0:
            raise BeltMoving(self._last_speed)

    def _check_mph(self, value: int) -> None:
        if self._mph_ratio is not None and (self._last_target is None or value > self._last_target):
            raise MphSuspected(value, self._mph_ratio)

    # -- extras the daemon may use ---------------------------------------------------------------

    async def release_control(self) -> None:
        """Give control back now (Reset or disconnect, per ``options.idle_release``)."""
        if not self._connected:
            return
        if self.options.idle_release == "disconnect":
            await self._disconnect("control released by disconnecting")
            return
        async with self._commands:
            if self._control.has_control and self._connected:
                try:
                    await self._procedure(Reset())
                finally:
                    self._control.withdraw()

    def clear_mph_suspicion(self) -> None:
        """The operator checked the treadmill's units: allow speed-ups again."""
        self._mph_ratio = None

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
        scanner_cls, client_cls = select(opts.backend, opts.transport)
        if self._device is None:
            candidate: Candidate = await find_treadmill(
                scanner_cls,
                adapter=opts.adapter,
                address=opts.address,
                name=opts.name,
                timeout_s=opts.scan_timeout_s,
            )
            self._device = candidate.device
        device = self._device
        kwargs: dict[str, Any] = {}
        if client_cls is not None:
            kwargs["backend"] = client_cls
            if opts.bumble_mtu is not None:
                kwargs["bumble_mtu"] = opts.bumble_mtu
        elif opts.adapter is not None:
            kwargs["bluez"] = {"adapter": opts.adapter}
        try:
            async with asyncio.timeout(opts.connect_timeout_s):
                client = await establish_connection(
                    BleakClient,
                    device,
                    device.name or device.address,
                    disconnected_callback=self._on_disconnect,
                    max_attempts=opts.connect_attempts,
                    **kwargs,
                )
        except TimeoutError as exc:
            raise ConnectFailed(
                device.address, f"no connection within {opts.connect_timeout_s:g} s"
            ) from exc
        except BleakError as exc:
            raise ConnectFailed(device.address, str(exc)) from exc
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
        for uuid16 in (
            TREADMILL_DATA_UUID16,
            MACHINE_STATUS_UUID16,
            TRAINING_STATUS_UUID16,
            SPEED_RANGE_UUID16,
            INCLINE_RANGE_UUID16,
            CONTROL_POINT_UUID16,
        ):
            char = client.services.get_characteristic(uuid128(uuid16))
            if char is not None:
                self._chars[uuid16] = char
        if TREADMILL_DATA_UUID16 not in self._chars:
            raise NotATreadmill(device.address)
        with contextlib.suppress(BleakError):  # two 0x180A services: no identity, no failure
            if (dis := client.services.get_service(uuid128(DIS_SERVICE_UUID16))) is not None:
                for uuid16 in DIS_STRINGS:
                    if (char := dis.get_characteristic(uuid128(uuid16))) is not None:
                        self._chars[uuid16] = char
        speed_range = await self._read_range(SPEED_RANGE_UUID16)
        incline_range = await self._read_range(INCLINE_RANGE_UUID16)
        self._info = DeviceInfo(
            address=device.address,
            name=device.name,
            speed_range=speed_range if isinstance(speed_range, SpeedRange) else None,
            incline_range=incline_range if isinstance(incline_range, InclineRange) else None,
            identity=await read_identity(self._read_bytes),
        )
        self._stream.push(DeviceEvent(self._clock(), EventKind.CONNECTED, detail=device.address))
        if (cp := self._chars.get(CONTROL_POINT_UUID16)) is not None:

            async def write(data: bytes) -> None:
                await client.write_gatt_char(cp, data, response=True)

            self._channel = ControlChannel(write, deadline_s=opts.control_timeout_s)
            # Required: without its indications no procedure can complete (FTMS §4.16.3), so a
            # failed subscription fails the set-up and the supervisor tries again.
            await self._subscribe(CONTROL_POINT_UUID16, self._on_control_point, required=True)
        await self._subscribe(MACHINE_STATUS_UUID16, self._on_status)
        training = self._chars.get(TRAINING_STATUS_UUID16)
        if training is not None:
            if "read" in training.properties:
                raw = await self._read_optional(TRAINING_STATUS_UUID16)
                if raw is not None:
                    self._on_training_status(training, raw)
            if "notify" in training.properties:
                await self._subscribe(TRAINING_STATUS_UUID16, self._on_training_status)
        await self._subscribe(TREADMILL_DATA_UUID16, self._on_data, required=True)

    async def _read_optional(self, uuid16: int) -> bytearray | None:
        char = self._chars.get(uuid16)
        if char is None or self._client is None:
            return None
        try:
            async with asyncio.timeout(self.options.gatt_timeout_s):
                return await self._client.read_gatt_char(char)
        except (BleakError, TimeoutError):
            # 0x2AD3 reads fail on some devices, 0x2AD5 on others (docs/references.md#ftms-devices):
            # degrade.
            self.stats[f"read_failed_{uuid16:04x}"] += 1
            if not self._client.is_connected:
                raise
            return None

    async def _read_bytes(self, uuid16: int) -> bytes | None:
        raw = await self._read_optional(uuid16)
        return None if raw is None else bytes(raw)

    async def _read_range(self, uuid16: int) -> SpeedRange | InclineRange | None:
        raw = await self._read_optional(uuid16)
        if raw is None:
            return None
        try:
            if uuid16 == SPEED_RANGE_UUID16:
                s, diagnostics = SupportedSpeedRange.decode(bytes(raw))
                self._count(diagnostics)
                return SpeedRange(s.minimum, s.maximum, s.increment)
            i, diagnostics = SupportedInclinationRange.decode(bytes(raw))
            self._count(diagnostics)
            return InclineRange(i.minimum, i.maximum, i.increment)
        except FtmsDecodeError:
            self.stats[f"decode_failed_{uuid16:04x}"] += 1
            return None

    async def _subscribe(
        self,
        uuid16: int,
        callback: Callable[[BleakGATTCharacteristic, bytearray], None],
        *,
        required: bool = False,
    ) -> None:
        char = self._chars.get(uuid16)
        if char is None or self._client is None:
            return
        try:
            async with asyncio.timeout(self.options.gatt_timeout_s):
                await self._client.start_notify(char, callback)
        except (BleakError, TimeoutError) as exc:
            self.stats[f"subscribe_failed_{uuid16:04x}"] += 1
            if required or not self._client.is_connected:
                raise ConnectFailed(
                    self._info.address, f"subscribing to 0x{uuid16:04X}: {exc}"
                ) from exc

    def _count(self, diagnostics: tuple[Any, ...]) -> None:
        for diagnostic in diagnostics:
            self.stats[diagnostic.code] += 1

    # -- notification callbacks (synchronous, never block) ----------------------------------------

    def _on_data(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            fragment, diagnostics = TreadmillData.decode(bytes(data))
        except FtmsDecodeError:
            self.stats["decode_failed_2acd"] += 1
            return
        self._count(diagnostics)
        record = self._assembler.feed(fragment)
        if record is None:
            return
        now = self._clock()
        if record.instantaneous_speed is not None:
            speed = record.instantaneous_speed
            self._last_speed = speed
            self._first_reading.set()
            if speed > 0:
                self._moving.set()
            ratio = self._mph.observe(speed) if self.options.mph_check else None
            if ratio is not None:
                self._mph_ratio = ratio
                self._stream.push(
                    DeviceEvent(
                        now,
                        EventKind.MPH_SUSPECTED,
                        value=speed,
                        detail=f"reported/requested ratio {ratio:.3f}",
                    )
                )
        self._stream.push(reading_from(record, now))

    def _on_status(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            status, diagnostics = MachineStatus.decode(bytes(data))
        except FtmsDecodeError:
            self.stats["decode_failed_2ada"] += 1
            return
        self._count(diagnostics)
        now = self._clock()
        verdict = self._control.status(status, now)
        op = int(status.op)
        kind: EventKind | None = None
        value: int | None = None
        if op == MachineStatusOp.RESET:
            kind = EventKind.RESET  # control permission ended (the control session noted it)
        elif op == MachineStatusOp.CONTROL_PERMISSION_LOST:
            kind = EventKind.CONTROL_LOST
        elif op == MachineStatusOp.STOPPED_OR_PAUSED_BY_USER:
            kind = (
                EventKind.CONSOLE_PAUSE
                if status.stop_kind == StopKind.PAUSE
                else EventKind.CONSOLE_STOP
            )
            self._cold_start_deadline = None
        elif op == MachineStatusOp.STOPPED_BY_SAFETY_KEY:
            kind = EventKind.SAFETY_KEY
            self._cold_start_deadline = None
        elif op == MachineStatusOp.STARTED_OR_RESUMED_BY_USER:
            kind = EventKind.CONSOLE_START
        elif op == MachineStatusOp.TARGET_SPEED_CHANGED:
            kind, value = EventKind.TARGET_SPEED_CHANGED, status.target_speed
        elif op == MachineStatusOp.TARGET_INCLINE_CHANGED:
            kind, value = EventKind.TARGET_INCLINE_CHANGED, status.target_incline
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
        self._count(diagnostics)
        self._stream.push(
            DeviceEvent(
                self._clock(),
                EventKind.TRAINING_STATUS,
                value=int(status.status),
                detail=status.text or "",
            )
        )

    def _on_control_point(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        if self._channel is not None:
            self._channel.on_indication(bytes(data))

    def _on_disconnect(self, _client: BleakClient) -> None:
        self._mark_down(self._closing or "the treadmill disconnected")

    def _mark_down(self, reason: str) -> None:
        if self._closed_event.is_set():
            return
        was_connected = self._connected
        self._connected = False
        self._control.link_lost()
        self._disconnect_reason = reason
        self._assembler.reset()  # a partial record is dropped on disconnect (§4.18)
        if self._channel is not None:
            self._channel.close(reason)
        if was_connected:
            self._stream.push(DeviceEvent(self._clock(), EventKind.DISCONNECTED, detail=reason))
        self._stream.close()
        self._closed_event.set()
        # wake every waiter so that it sees the link is down
        self._first_reading.set()
        self._moving.set()
        self._activity.set()

    async def _disconnect(self, reason: str) -> None:
        self._closing = self._closing or reason
        client = self._client
        if client is not None and client.is_connected:
            with contextlib.suppress(BleakError, TimeoutError):
                async with asyncio.timeout(self.options.gatt_timeout_s):
                    await client.disconnect()
        elif client is not None:
            # The peer left first: the backend still needs its disconnect() to let go of its
            # resources (e.g. the Bumble host).
            with contextlib.suppress(BleakError, TimeoutError):
                async with asyncio.timeout(self.options.gatt_timeout_s):
                    await client.disconnect()
        self._mark_down(reason)

    # -- procedures ----------------------------------------------------------------------------

    def _require_connected(self) -> None:
        if not self._connected:
            raise NotConnected(self._disconnect_reason)

    async def _procedure(self, request: ControlRequest) -> None:
        self._require_connected()
        if self._channel is None:
            raise ControlWriteFailed(int(request.op_code), None, "the device has no control point")
        self._activity.set()
        stop_kind = request.kind if isinstance(request, StopOrPause) else None
        self._control.sent(request.op_code, self._clock(), stop_kind=stop_kind)
        try:
            await self._channel.run(request)
        except ControlRefused as exc:
            self._control.answered(request.op_code, success=False, result_code=exc.result_code)
            raise
        else:
            self._control.answered(request.op_code, success=True)
        finally:
            self._activity.set()

    async def _ensure_control(self) -> None:
        self._require_connected()
        if self._control.has_control:
            return
        now = self._clock()
        if now < self._control_retry_at and self._last_refusal is not None:
            raise self._last_refusal
        try:
            await self._procedure(RequestControl())
        except ControlRefused as exc:
            self._control_refusals += 1
            self._control_retry_at = now + backoff_delay(
                self._control_refusals, initial_s=self.options.control_retry_base_s
            )
            self._last_refusal = exc
            raise
        self._control_refusals = 0
        self._last_refusal = None

    async def _wait_cold_start(self) -> None:
        self._require_connected()
        deadline = self._cold_start_deadline
        if deadline is None:
            return
        remaining = deadline - self._clock()
        if remaining > 0 and not self._moving.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._moving.wait()
        self._cold_start_deadline = None
        self._require_connected()

    async def _idle_watch(self, idle_s: float) -> None:
        """Release control after ``idle_s`` without a procedure while the belt stands."""
        while self._connected:
            self._activity.clear()
            try:
                async with asyncio.timeout(idle_s):
                    await self._activity.wait()
                continue
            except TimeoutError:
                pass
            if self._control.has_control and self._last_speed == 0 and not self._commands.locked():
                try:
                    await self.release_control()
                except BleError as exc:
                    self.stats[f"release_failed_{type(exc).__name__}"] += 1
