"""A minimal FTMS treadmill GATT peripheral on plain Bumble, for the BLE link's tests.

Test code, not a simulator: no physics, no timing. The test decides what the "treadmill" reports
(``notify_speed``) and how its control point answers (``mode``, ``results``). It encodes frames by
hand with ``struct`` (independently of ``treadctl.ftms``), following FTMS v1.0 §4.4, §4.16, §4.17.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from bumble import att, hci
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

FTMS = 0x1826
ADDRESS = "F1:F2:F3:F4:F5:F6"

CpMode = Literal["normal", "indicate-first", "bare", "silent", "wrong-op"]


def u16(value: int) -> UUID:
    return UUID.from_16_bits(value)


def treadmill_data(speed: int, *, more_data: bool = False, distance: int | None = None) -> bytes:
    """Flags u16 + speed u16 (bit 0 clear = speed present) [+ u24 distance, bit 2]."""
    flags = 0x0001 if more_data else 0x0000
    body = b"" if more_data else struct.pack("<H", speed)
    if distance is not None:
        flags |= 0x0004
        body += distance.to_bytes(3, "little")
    return struct.pack("<H", flags) + body


@dataclass
class PeripheralConfig:
    name: str = "TestTread"
    service_data: bool = True
    advertise_uuid: bool = True
    speed_range: tuple[int, int, int] = (50, 600, 10)
    incline_range: tuple[int, int, int] | None = (0, 150, 5)
    training_read_fails: bool = False
    permissive_control: bool = False
    treadmill_data: bool = True
    drop_on_range_read: bool = False
    """Drop the link when the client reads the Supported Speed Range (a crash during set-up)."""


@dataclass
class FtmsPeripheral:
    """One treadmill on a LocalLink. ``async with FtmsPeripheral(link) as p:`` advertises it."""

    link: LocalLink
    config: PeripheralConfig = field(default_factory=PeripheralConfig)
    mode: CpMode = "normal"
    results: dict[int, int] = field(default_factory=dict)
    """Result code per op code (default success; ops needing control get 0x05 without it)."""
    cp_writes: list[bytes] = field(default_factory=list)
    speed_at_write: list[int] = field(default_factory=list)
    """The last speed this peripheral had reported when each control point write arrived."""
    reported_speed: int = 0
    has_control: bool = False
    written: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.controller = Controller("tread", link=self.link)
        self.device = Device(
            name=self.config.name,
            address=hci.Address(ADDRESS),
            host=Host(self.controller, AsyncPipeSink(self.controller)),
        )
        cfg = self.config
        read = Characteristic.Properties.READ
        self.data_char = Characteristic(
            u16(0x2ACD), Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.status_char = Characteristic(
            u16(0x2ADA), Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.training_char: Characteristic[bytes] = Characteristic(
            u16(0x2AD3),
            read | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=self._read_training),
        )
        self.cp_char: Characteristic[bytes] = Characteristic(
            u16(0x2AD9),
            Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_cp_write),
        )
        chars = [
            Characteristic(u16(0x2ACC), read, Characteristic.READABLE, bytes(8)),
            *([self.data_char] if cfg.treadmill_data else []),
            self.training_char,
            Characteristic(
                u16(0x2AD4),
                read,
                Characteristic.READABLE,
                CharacteristicValue(read=self._read_speed_range),
            ),
        ]
        if cfg.incline_range is not None:
            chars.append(
                Characteristic(
                    u16(0x2AD5),
                    read,
                    Characteristic.READABLE,
                    struct.pack("<hhH", *cfg.incline_range),
                )
            )
        chars += [self.cp_char, self.status_char]
        self.device.add_service(Service(u16(FTMS), chars))

    def advertising_data(self) -> bytes:
        parts: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([0x06]))]
        if self.config.advertise_uuid:
            parts.append(
                (
                    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                    struct.pack("<H", FTMS),
                )
            )
        if self.config.service_data:
            # flags: machine available; machine type: treadmill (FTMS §3.1.1)
            parts.append(
                (AdvertisingData.SERVICE_DATA_16_BIT_UUID, struct.pack("<HBH", FTMS, 1, 1))
            )
        parts.append((AdvertisingData.COMPLETE_LOCAL_NAME, self.config.name.encode()))
        return bytes(AdvertisingData(parts))

    async def __aenter__(self) -> FtmsPeripheral:
        await self.device.power_on()
        await self.device.start_advertising(
            advertising_data=self.advertising_data(),
            auto_restart=True,
            advertising_interval_min=20,
            advertising_interval_max=20,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        await self.device.power_off()
        self.link.remove_controller(self.controller)

    # -- what the test drives -------------------------------------------------------------------

    @property
    def connection(self) -> Connection | None:
        return next(iter(self.device.connections.values()), None)

    async def notify(self, char: Characteristic[bytes], value: bytes) -> None:
        await self.device.notify_subscribers(char, value)

    async def notify_speed(self, speed: int) -> None:
        self.reported_speed = speed
        await self.notify(self.data_char, treadmill_data(speed))

    async def notify_status(self, raw: bytes) -> None:
        await self.notify(self.status_char, raw)

    async def drop_connection(self) -> None:
        if (connection := self.connection) is not None:
            await connection.disconnect()

    async def next_write(self) -> bytes:
        """Wait for the next control point write (no deadline here: tests wrap in one)."""
        await self.written.wait()
        self.written.clear()
        return self.cp_writes[-1]

    # -- GATT callbacks ------------------------------------------------------------------------

    async def _read_speed_range(self, connection: Connection) -> bytes:
        if self.config.drop_on_range_read:
            await connection.disconnect()
        return struct.pack("<HHH", *self.config.speed_range)

    def _read_training(self, _connection: Connection) -> bytes:
        if self.config.training_read_fails:
            raise att.ATT_Error(att.ErrorCode.UNLIKELY_ERROR)
        return bytes([0x00, 0x01])  # no string, Idle (FTMS §4.10)

    def _result_for(self, op: int) -> int:
        if op in self.results:
            return self.results[op]
        if op == 0x00:
            return 0x01
        if not self.has_control and not self.config.permissive_control:
            return 0x05  # control not permitted (FTMS §4.16.2.22)
        return 0x01

    async def _on_cp_write(self, connection: Connection, value: bytes) -> None:
        self.cp_writes.append(bytes(value))
        self.speed_at_write.append(self.reported_speed)
        self.written.set()
        op = value[0] if value else 0xFF
        result = self._result_for(op)
        if op == 0x00 and result == 0x01:
            self.has_control = True
        if op == 0x01 and result == 0x01:
            self.has_control = False
        if self.mode == "silent":
            return
        payload = {
            "bare": bytes([result]),
            "wrong-op": bytes([0x80, (op + 1) & 0xFF, result]),
        }.get(self.mode, bytes([0x80, op, result]))
        if self.mode == "indicate-first":
            # Indication (and its confirmation) before this write's response, as a real pad does.
            await self.device.indicate_subscriber(connection, self.cp_char, payload)
        else:
            # After the write response: Bumble sends the response when this callback returns.
            asyncio.get_running_loop().call_soon(self._indicate_later, connection, payload)

    def _indicate_later(self, connection: Connection, payload: bytes) -> None:
        task = asyncio.get_running_loop().create_task(
            self.device.indicate_subscriber(connection, self.cp_char, payload)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    _tasks: set[asyncio.Task[None]] = field(default_factory=set)


@contextlib.asynccontextmanager
async def peripheral(link: LocalLink, **config: object) -> AsyncIterator[FtmsPeripheral]:
    async with FtmsPeripheral(link, PeripheralConfig(**config)) as p:  # type: ignore[arg-type]
        yield p
