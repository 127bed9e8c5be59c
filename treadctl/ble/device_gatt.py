"""The treadmill's GATT characteristics on one connected client: which ones the link uses, the
device's ranges and Device Information strings, reads that degrade instead of failing, and
subscriptions.

Missing or failing 0x2AD5/0x2AD3 reads degrade to None and are counted in ``stats``; a failure
after the peer has gone re-raises so that the set-up fails (docs/references.md#ftms-devices).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakError

from treadctl.ble.errors import ConnectFailed, NotATreadmill
from treadctl.ble.identity import DIS_SERVICE_UUID16, DIS_STRINGS, read_identity
from treadctl.ftms import (
    CONTROL_POINT_UUID16,
    INCLINE_RANGE_UUID16,
    MACHINE_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
    FtmsDecodeError,
    SupportedInclinationRange,
    SupportedSpeedRange,
    uuid128,
)
from treadctl.observations import DeviceInfo, InclineRange, SpeedRange

_FTMS_CHARACTERISTICS = (
    TREADMILL_DATA_UUID16,
    MACHINE_STATUS_UUID16,
    TRAINING_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    INCLINE_RANGE_UUID16,
    CONTROL_POINT_UUID16,
)
"""The FTMS characteristics the link reads or subscribes to."""


def count_diagnostics(stats: Counter[str], diagnostics: tuple[Any, ...]) -> None:
    """Count decoder diagnostics by code."""
    for diagnostic in diagnostics:
        stats[diagnostic.code] += 1


class DeviceGatt:
    """The characteristics of one connected treadmill, by UUID16, and their reads/subscriptions."""

    def __init__(
        self, client: BleakClient, address: str, *, gatt_timeout_s: float, stats: Counter[str]
    ) -> None:
        self.client = client
        self.address = address
        self.gatt_timeout_s = gatt_timeout_s
        self.stats = stats
        self.chars: dict[int, BleakGATTCharacteristic] = {}

    def find_characteristics(self) -> None:
        """Look up the FTMS and DIS characteristics; raises NotATreadmill without Treadmill Data."""
        services = self.client.services
        for uuid16 in _FTMS_CHARACTERISTICS:
            char = services.get_characteristic(uuid128(uuid16))
            if char is not None:
                self.chars[uuid16] = char
        if TREADMILL_DATA_UUID16 not in self.chars:
            raise NotATreadmill(self.address)
        with contextlib.suppress(BleakError):  # two 0x180A services: no identity, no failure
            if (dis := services.get_service(uuid128(DIS_SERVICE_UUID16))) is not None:
                for uuid16 in DIS_STRINGS:
                    if (char := dis.get_characteristic(uuid128(uuid16))) is not None:
                        self.chars[uuid16] = char

    async def read_info(self, name: str | None) -> DeviceInfo:
        """The device's ranges and DIS identity (each None when missing, failing or malformed)."""
        speed_range = await self.read_range(SPEED_RANGE_UUID16)
        incline_range = await self.read_range(INCLINE_RANGE_UUID16)
        return DeviceInfo(
            address=self.address,
            name=name,
            speed_range=speed_range if isinstance(speed_range, SpeedRange) else None,
            incline_range=incline_range if isinstance(incline_range, InclineRange) else None,
            identity=await read_identity(self.read_bytes),
        )

    async def read_optional(self, uuid16: int) -> bytearray | None:
        char = self.chars.get(uuid16)
        if char is None:
            return None
        try:
            async with asyncio.timeout(self.gatt_timeout_s):
                return await self.client.read_gatt_char(char)
        except (BleakError, TimeoutError):
            # 0x2AD3 reads fail on some devices, 0x2AD5 on others (docs/references.md#ftms-devices):
            # degrade.
            self.stats[f"read_failed_{uuid16:04x}"] += 1
            if not self.client.is_connected:
                raise
            return None

    async def read_bytes(self, uuid16: int) -> bytes | None:
        raw = await self.read_optional(uuid16)
        return None if raw is None else bytes(raw)

    async def read_range(self, uuid16: int) -> SpeedRange | InclineRange | None:
        raw = await self.read_optional(uuid16)
        if raw is None:
            return None
        try:
            if uuid16 == SPEED_RANGE_UUID16:
                s, diagnostics = SupportedSpeedRange.decode(bytes(raw))
                count_diagnostics(self.stats, diagnostics)
                return SpeedRange(s.minimum, s.maximum, s.increment)
            i, diagnostics = SupportedInclinationRange.decode(bytes(raw))
            count_diagnostics(self.stats, diagnostics)
            return InclineRange(i.minimum, i.maximum, i.increment)
        except FtmsDecodeError:
            self.stats[f"decode_failed_{uuid16:04x}"] += 1
            return None

    async def subscribe(
        self,
        uuid16: int,
        callback: Callable[[BleakGATTCharacteristic, bytearray], None],
        *,
        required: bool = False,
    ) -> None:
        char = self.chars.get(uuid16)
        if char is None:
            return
        try:
            async with asyncio.timeout(self.gatt_timeout_s):
                await self.client.start_notify(char, callback)
        except (BleakError, TimeoutError) as exc:
            self.stats[f"subscribe_failed_{uuid16:04x}"] += 1
            if required or not self.client.is_connected:
                raise ConnectFailed(self.address, f"subscribing to 0x{uuid16:04X}: {exc}") from exc
