"""The FTMS GATT service on a Bumble device, and the per-connection outbox.

Service 0x1826 (FTMS v1.0 §4): Feature 0x2ACC (read), Treadmill Data 0x2ACD (notify),
Training Status 0x2AD3 (read, notify), Supported Speed Range 0x2AD4 (read), Supported
Inclination Range 0x2AD5 (read; absent with no-inclination-range), Control Point 0x2AD9
(write, indicate), Machine Status 0x2ADA (notify). Unencrypted, as real pads accept. Next to it
the Device Information Service 0x180A with the preset's manufacturer, model, serial number and
revisions.

Everything the server sends on one connection goes through that connection's :class:`Outbox`,
one item after the other, so notifications and indications keep the order the machine chose.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bumble import att
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from simulators.treadsim import wire
from simulators.treadsim.presets import Preset
from simulators.treadsim.quirks import Quirk
from treadctl.ftms import (
    CONTROL_POINT_UUID16,
    FEATURE_UUID16,
    FTMS_SERVICE_UUID16,
    INCLINE_RANGE_UUID16,
    MACHINE_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
)

logger = logging.getLogger(__name__)

CCCD_NOTIFY = 0x01
CCCD_INDICATE = 0x02
ATT_UNLIKELY_ERROR = 0x0E
"""ATT error answered by training-status-read-fails (Core v5.3 Vol 3 Part F §3.4.1.1)."""


def _uuid(u16: int) -> str:
    return f"{u16:04X}"


Properties = Characteristic.Properties
READ = Characteristic.Permissions.READABLE
WRITE = Characteristic.Permissions.WRITEABLE


class FtmsService:
    """The characteristics, built for one preset; reads are answered from callbacks."""

    def __init__(
        self,
        preset: Preset,
        training_status: Callable[[], bytes],
        on_control_point: Callable[[Connection, bytes], Awaitable[None]],
    ) -> None:
        self.preset = preset
        self._training_status = training_status
        self.feature: Characteristic[bytes] = Characteristic(
            _uuid(FEATURE_UUID16), Properties.READ, READ, wire.feature(preset)
        )
        self.treadmill_data: Characteristic[bytes] = Characteristic(
            _uuid(TREADMILL_DATA_UUID16), Properties.NOTIFY, READ, b""
        )
        self.training: Characteristic[bytes] = Characteristic(
            _uuid(TRAINING_STATUS_UUID16),
            Properties.READ | Properties.NOTIFY,
            READ,
            CharacteristicValue(read=self._read_training),
        )
        self.speed_range: Characteristic[bytes] = Characteristic(
            _uuid(SPEED_RANGE_UUID16), Properties.READ, READ, wire.speed_range(preset)
        )
        incline = wire.incline_range(preset)
        self.incline_range: Characteristic[bytes] | None = (
            Characteristic(_uuid(INCLINE_RANGE_UUID16), Properties.READ, READ, incline)
            if incline is not None
            else None
        )
        self.control_point: Characteristic[bytes] = Characteristic(
            _uuid(CONTROL_POINT_UUID16),
            Properties.WRITE | Properties.INDICATE,
            WRITE,
            CharacteristicValue(write=on_control_point),
        )
        self.machine_status: Characteristic[bytes] = Characteristic(
            _uuid(MACHINE_STATUS_UUID16), Properties.NOTIFY, READ, b""
        )
        characteristics = [
            self.feature,
            self.treadmill_data,
            self.training,
            self.speed_range,
            *([self.incline_range] if self.incline_range is not None else []),
            self.control_point,
            self.machine_status,
        ]
        self.service = Service(_uuid(FTMS_SERVICE_UUID16), characteristics)

    def _read_training(self, _connection: Connection) -> bytes:
        if Quirk.TRAINING_STATUS_READ_FAILS in self.preset.quirks:
            raise att.ATT_Error(
                ATT_UNLIKELY_ERROR, self.training.handle, "training-status-read-fails"
            )
        return self._training_status()

    def install(self, device: Device) -> None:
        device.add_service(self.service)
        device.add_service(device_information(self.preset))

    @staticmethod
    def cccd(device: Device, connection: Connection, characteristic: Characteristic[bytes]) -> int:
        """The client's CCCD value for ``characteristic`` on ``connection`` (0 when unset)."""
        subscribers = device.gatt_server.subscribers.get(connection, {})
        value = subscribers.get(characteristic.handle, b"\0\0")
        return int(value[0]) if value else 0


DIS_SERVICE_UUID16 = 0x180A
DIS_UUID16 = {
    "manufacturer": 0x2A29,
    "model_number": 0x2A24,
    "serial_number": 0x2A25,
    "hardware_revision": 0x2A27,
    "firmware_revision": 0x2A26,
    "software_revision": 0x2A28,
}
"""Device Information Service strings (Bluetooth DIS v1.1 §3; docs/references.md#ble-dis)."""


def device_information(preset: Preset) -> Service:
    """Service 0x180A with the preset's identity strings (read-only UTF-8)."""
    characteristics: list[Characteristic[bytes]] = [
        Characteristic(_uuid(DIS_UUID16[key]), Properties.READ, READ, text.encode())
        for key, text in preset.identity.items()
    ]
    return Service(_uuid(DIS_SERVICE_UUID16), characteristics)


@dataclass
class Notify:
    characteristic: Characteristic[bytes]
    value: bytes


@dataclass
class Indicate:
    characteristic: Characteristic[bytes]
    value: bytes
    done: asyncio.Future[None]


OutboxItem = Notify | Indicate


@dataclass
class IndicationFaults:
    """One-shot faults applied to the next control point indication."""

    delay_next: float | None = None
    drop_next: bool = False


@dataclass
class Outbox:
    """What one connection will be sent, in order; drained by :meth:`run`."""

    device: Device
    connection: Connection
    faults: IndicationFaults
    on_indication_done: Callable[[], None]
    queue: asyncio.Queue[OutboxItem] = field(default_factory=asyncio.Queue)

    def notify(self, characteristic: Characteristic[bytes], value: bytes) -> None:
        self.queue.put_nowait(Notify(characteristic, value))

    def indicate(self, characteristic: Characteristic[bytes], value: bytes) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(Indicate(characteristic, value, done))
        return done

    async def run(self) -> None:
        """Send items until cancelled (the owner cancels it when the link drops)."""
        task = asyncio.current_task()
        try:
            while True:
                if task is not None and task.cancelling():
                    # Python 3.11's wait_for (inside Bumble's indicate) swallows a cancellation
                    # that races with the confirmation: honour it here.
                    raise asyncio.CancelledError
                item = await self.queue.get()
                if isinstance(item, Notify):
                    await self.device.notify_subscriber(
                        self.connection, item.characteristic, item.value
                    )
                    continue
                try:
                    await self._indicate(item)
                finally:
                    if not item.done.done():
                        item.done.set_result(None)
                    self.on_indication_done()
        finally:
            while not self.queue.empty():
                leftover = self.queue.get_nowait()
                if isinstance(leftover, Indicate) and not leftover.done.done():
                    leftover.done.set_result(None)

    async def _indicate(self, item: Indicate) -> None:
        delay, self.faults.delay_next = self.faults.delay_next, None
        if delay:
            await asyncio.sleep(delay)  # the injected fault *is* this delay
        if self.faults.drop_next:
            self.faults.drop_next = False
            logger.info("fault: dropped indication %s", item.value.hex())
            return
        try:
            await self.device.indicate_subscriber(self.connection, item.characteristic, item.value)
        except TimeoutError:
            logger.warning("indication %s not confirmed", item.value.hex())
