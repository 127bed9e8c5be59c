"""A simulated heart-rate chest strap: a second Bumble peripheral on the simulator's link.

Heart Rate Service 0x180D (Measurement 0x2A37 notify, Body Sensor Location 0x2A38 read, Control
Point 0x2A39 write: 0x01 resets Energy Expended) and Battery Service 0x180F (Battery Level
0x2A19 read, notify), unencrypted, advertising both UUIDs and its name. Frames are built with
the shared codec (:mod:`treadctl.hrs`), not Bumble's Heart Rate profile: that profile picks
the value format itself, and a fault must be able to send exact bytes.

Every ``interval_s`` simulated seconds the strap advances :class:`Heart` with the treadmill's
belt speed and incline (while the walker is on the belt) and notifies one measurement with the
sensor contact flags, an RR interval and, every tenth frame, the energy expended (HRS v1.0
§3.1.1.3 suggests that rhythm). Faults (docs/simulator.md, "Heart-rate strap"): contact lost,
drop-out, a one-frame spike (0, 255, ...), a frozen value, battery level, disconnection, raw
bytes, new model parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from bumble import att, hci
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from simulators.treadsim.actions import ActionResult
from simulators.treadsim.heart import Heart, HeartParams
from simulators.treadsim.peripheral import Peripheral, advertise, link_controller, power_off
from simulators.treadsim.trace import Trace
from treadctl.clock import Clock
from treadctl.hrs import (
    BATTERY_LEVEL_UUID16,
    BATTERY_SERVICE_UUID16,
    BODY_SENSOR_LOCATION_UUID16,
    HEART_RATE_CONTROL_POINT_UUID16,
    HEART_RATE_MEASUREMENT_UUID16,
    HEART_RATE_SERVICE_UUID16,
    BatteryLevel,
    BodySensorLocation,
    HeartRateMeasurement,
    SensorContact,
)
from treadctl.hrs.measurement import RR_PER_SECOND

logger = logging.getLogger(__name__)

STRAP_ADDRESS = "E0:E1:E2:E3:E4:E5"
"""Static random address of the simulated strap (top bits 11: static, Core Vol 6 B §1.3)."""
STRAP_NAME = "treadsim-HRM"
ADVERTISING_INTERVAL_MS = (100.0, 120.0)
HRCP_NOT_SUPPORTED = 0x80
"""ATT error for an unknown Heart Rate Control Point value (HRS v1.0 §3.3.1)."""
ENERGY_EVERY = 10
"""Energy Expended goes out in every tenth measurement (HRS v1.0 §3.1.1.3)."""

Effort = Callable[[], tuple[int, int, bool]]
"""(belt speed 0.01 km/h, incline 0.1 %, walker on the belt) of the treadmill, now."""


@dataclass(frozen=True, slots=True)
class StrapOptions:
    address: str = STRAP_ADDRESS
    name: str = STRAP_NAME
    params: HeartParams = field(default_factory=HeartParams)
    interval_s: float = 1.0
    """Simulated seconds between measurements (real straps: about 1 s)."""
    wide: bool = False
    """Send the u16 value format (flags bit 0) even below 256."""
    battery: int = 90
    location: int = 1
    """Body Sensor Location: 1 = chest."""


@dataclass(frozen=True, slots=True)
class StrapState:
    """What a test or the control socket can see of the strap."""

    connected: bool
    subscribed: bool
    model_bpm: float
    """The model's exact rate (what a perfect sensor would say)."""
    sent_bpm: int | None
    """The value of the last measurement sent (None before the first)."""
    contact: bool
    notifying: bool
    frozen: int | None
    battery: int
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HeartRateStrap(Peripheral):
    """The strap device; ``async with`` powers it on ``link`` and runs it."""

    def __init__(
        self,
        *,
        link: LocalLink,
        clock: Clock,
        trace: Trace,
        effort: Effort,
        changed: Callable[[], Awaitable[None]],
        options: StrapOptions | None = None,
    ) -> None:
        self.options = options or StrapOptions()
        self.link = link
        self.clock = clock
        self.trace = trace
        self._effort = effort
        self._changed = changed
        self.heart = Heart(self.options.params, now=clock.now())
        self.address = self.options.address
        self.name = self.options.name
        self.device: Device | None = None
        self._connections: dict[int, Connection] = {}
        self._contact = True
        self._notifying = True
        self._resume_at: float | None = None
        self._spike: int | None = None
        self._frozen: int | None = None
        self._battery = self.options.battery
        self._sent: int | None = None
        self._frames = 0
        self._beats = 0.0
        self._wake = asyncio.Event()
        self._stack = contextlib.AsyncExitStack()
        self.measurement: Characteristic[bytes] = Characteristic(
            f"{HEART_RATE_MEASUREMENT_UUID16:04X}",
            Characteristic.Properties.NOTIFY,
            Characteristic.Permissions.READABLE,
            b"",
        )
        self.location: Characteristic[bytes] = Characteristic(
            f"{BODY_SENSOR_LOCATION_UUID16:04X}",
            Characteristic.Properties.READ,
            Characteristic.Permissions.READABLE,
            bytes(BodySensorLocation(self.options.location)),
        )
        self.control_point: Characteristic[bytes] = Characteristic(
            f"{HEART_RATE_CONTROL_POINT_UUID16:04X}",
            Characteristic.Properties.WRITE,
            Characteristic.Permissions.WRITEABLE,
            CharacteristicValue(write=self._on_control_point),
        )
        self.battery: Characteristic[bytes] = Characteristic(
            f"{BATTERY_LEVEL_UUID16:04X}",
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.Permissions.READABLE,
            CharacteristicValue(read=lambda _c: bytes(BatteryLevel(self._battery))),
        )

    # ================================================================ lifecycle
    async def _start(self) -> None:
        controller = link_controller(self._stack, self.link, "strap")
        device = Device(
            name=self.name,
            address=hci.Address(self.address),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        self.device = device
        device.add_services(
            [
                Service(
                    f"{HEART_RATE_SERVICE_UUID16:04X}",
                    [self.measurement, self.location, self.control_point],
                ),
                Service(f"{BATTERY_SERVICE_UUID16:04X}", [self.battery]),
            ]
        )
        device.on(device.EVENT_CONNECTION, self._on_connection)
        device.on("characteristic_subscription", lambda *_: self._wake.set())
        await device.power_on()
        self._stack.push_async_callback(power_off, device)
        tasks = await self._stack.enter_async_context(asyncio.TaskGroup())
        engine = tasks.create_task(self._engine())
        self._stack.callback(engine.cancel)
        await advertise(device, ADVERTISING_INTERVAL_MS, self._advertising_data())
        self.trace.record("strap_start", address=self.address, name=self.name)

    def _advertising_data(self) -> bytes:
        uuids = HEART_RATE_SERVICE_UUID16.to_bytes(2, "little") + BATTERY_SERVICE_UUID16.to_bytes(
            2, "little"
        )
        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuids),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                ]
            )
        )

    # ================================================================ engine
    async def _engine(self) -> None:
        next_frame = self.clock.now()
        while True:
            now = self.clock.now()
            speed, incline, walking = self._effort()
            self.heart.advance(now, speed, incline, walking)
            if self._resume_at is not None and now >= self._resume_at:
                self._resume_at = None
                self._notifying = True
            if now >= next_frame:
                await self._send_frame()
                next_frame = max(next_frame + self.options.interval_s, now)
                await self._changed()
            deadlines = [next_frame] + ([self._resume_at] if self._resume_at is not None else [])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.clock.wall(min(deadlines) - self.clock.now())):
                    await self._wake.wait()

    def _measurement(self) -> HeartRateMeasurement:
        model = self.heart.reading()
        self._beats += model / 60 * self.options.interval_s
        if not self._contact:
            return HeartRateMeasurement(0, SensorContact.NOT_DETECTED, wide=self.options.wide)
        bpm = self._frozen if self._frozen is not None else model
        if self._spike is not None:
            bpm, self._spike = self._spike, None
        energy = int(self._beats // 20) & 0xFFFF if self._frames % ENERGY_EVERY == 0 else None
        rr = (round(60 / bpm * RR_PER_SECOND),) if 20 <= bpm <= 300 else None
        return HeartRateMeasurement(
            bpm, SensorContact.DETECTED, energy, rr, wide=self.options.wide or bpm > 0xFF
        )

    async def _send_frame(self) -> None:
        value = self._measurement()
        self._frames += 1
        if not self._notifying:
            return
        data = bytes(value)
        self._sent = value.heart_rate
        self.trace.record(
            "strap",
            bpm=value.heart_rate,
            contact=value.contact.value,
            model=round(self.heart.exact_bpm, 1),
            hex=data.hex(),
        )
        await self._notify(self.measurement, data)

    async def _notify(self, characteristic: Characteristic[bytes], data: bytes) -> None:
        if self.device is None:
            return
        for connection in list(self._connections.values()):
            with contextlib.suppress(Exception):  # the link may be going away
                await self.device.notify_subscriber(connection, characteristic, data)

    def _on_control_point(self, _connection: Connection, value: bytes) -> None:
        if bytes(value) != b"\x01":
            raise att.ATT_Error(HRCP_NOT_SUPPORTED, self.control_point.handle)
        self._beats = 0.0

    # ================================================================ connections
    def _on_connection(self, connection: Connection) -> None:
        if connection.role != hci.Role.PERIPHERAL:
            return
        self._connections[connection.handle] = connection
        peer = str(connection.peer_address)
        self.trace.record("strap_connection", event="connected", peer=peer)

        def on_disconnection(reason: int) -> None:
            self._connections.pop(connection.handle, None)
            self.trace.record("strap_connection", event="disconnected", peer=peer, reason=reason)
            self._wake.set()

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)
        self._wake.set()

    def state(self) -> StrapState:
        subscribed = False
        if self.device is not None:
            for connection in self._connections.values():
                cccd = self.device.gatt_server.subscribers.get(connection, {})
                value = cccd.get(self.measurement.handle, b"\0\0")
                subscribed = subscribed or bool(value and value[0] & 1)
        return StrapState(
            connected=bool(self._connections),
            subscribed=subscribed,
            model_bpm=round(self.heart.exact_bpm, 2),
            sent_bpm=self._sent,
            contact=self._contact,
            notifying=self._notifying,
            frozen=self._frozen,
            battery=self._battery,
            frames=self._frames,
        )

    # ================================================================ faults
    async def _fault(self, action: str, done: bool = True, **fields: object) -> ActionResult:
        self.trace.record("fault", action=action, done=done, **fields)
        self._wake.set()
        await self._changed()
        return ActionResult(action, done, "" if done else "no client connected")

    async def strap_contact(self, detected: bool) -> ActionResult:
        """Skin contact lost (False: value 0, contact flags "supported, not detected") or back."""
        self._contact = bool(detected)
        return await self._fault("strap_contact", detected=self._contact)

    async def strap_dropout(self, seconds: float | None = None) -> ActionResult:
        """No measurement for ``seconds`` (simulated), or until :meth:`strap_resume`."""
        self._notifying = False
        self._resume_at = None if seconds is None else self.clock.now() + float(seconds)
        return await self._fault("strap_dropout", seconds=seconds)

    async def strap_resume(self) -> ActionResult:
        self._notifying, self._resume_at = True, None
        return await self._fault("strap_resume")

    async def strap_spike(self, bpm: int) -> ActionResult:
        """The next measurement carries ``bpm`` (0, 255, ...; u16 format above 255), once."""
        if not 0 <= int(bpm) <= 0xFFFF:
            raise ValueError("strap_spike: bpm must be in 0..65535")
        self._spike = int(bpm)
        return await self._fault("strap_spike", bpm=self._spike)

    async def strap_freeze(self, bpm: int | None = None) -> ActionResult:
        """Repeat ``bpm`` (default: the last value sent) until :meth:`strap_unfreeze`."""
        value = bpm if bpm is not None else (self._sent or self.heart.reading())
        if not 0 <= int(value) <= 0xFFFF:
            raise ValueError("strap_freeze: bpm must be in 0..65535")
        self._frozen = int(value)
        return await self._fault("strap_freeze", bpm=self._frozen)

    async def strap_unfreeze(self) -> ActionResult:
        self._frozen = None
        return await self._fault("strap_unfreeze")

    async def strap_battery(self, percent: int) -> ActionResult:
        """Set the battery level (notified to subscribers)."""
        self._battery = BatteryLevel(int(percent)).percent
        await self._notify(self.battery, bytes(BatteryLevel(self._battery)))
        return await self._fault("strap_battery", percent=self._battery)

    async def strap_disconnect(self) -> ActionResult:
        connections = list(self._connections.values())
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.disconnect(
                    hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR
                )
        return await self._fault("strap_disconnect", bool(connections))

    async def strap_notify_raw(self, hex: str) -> ActionResult:
        """Send exactly these bytes once as a Heart Rate Measurement notification."""
        value = bytes.fromhex(hex)
        await self._notify(self.measurement, value)
        return await self._fault("strap_notify_raw", bool(self._connections), hex=value.hex())

    async def strap_model(self, **params: Any) -> ActionResult:
        """Change the heart model's parameters (``rest_bpm``, ``bpm_per_kmh``, ...)."""
        self.heart.reconfigure(self.heart.params.updated(**params))
        return await self._fault("strap_model", **params)

    ACTIONS = (
        "strap_contact",
        "strap_dropout",
        "strap_resume",
        "strap_spike",
        "strap_freeze",
        "strap_unfreeze",
        "strap_battery",
        "strap_disconnect",
        "strap_notify_raw",
        "strap_model",
    )
