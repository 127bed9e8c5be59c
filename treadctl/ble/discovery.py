"""Finding a treadmill: FTMS Service Data first, then the 0x1826 UUID, or a configured address/name.

FTMS v1.0 §3.1.1: a fitness machine advertises the service UUID 0x1826 and, optionally, Service
Data for 0x1826 (flags u8, bit 0 "available"; machine type u16, bit 0 "treadmill"). Some devices
send no Service Data, so a device advertising only the UUID is taken when no Service Data
treadmill shows up within a short grace period. A device matched by a configured address or name
is taken whatever it advertises; the link then checks for Treadmill Data (0x2ACD) after
connecting (:class:`treadctl.ble.errors.NotATreadmill` if absent).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bleak import BleakAdapter, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from treadctl.ble.errors import DeviceNotFound
from treadctl.ftms import FTMS_SERVICE_UUID16, FtmsDecodeError, FtmsServiceData, uuid128

FTMS_UUID = uuid128(FTMS_SERVICE_UUID16)

UUID_ONLY_GRACE_S = 1.5
"""How long a UUID-only candidate waits for a Service Data treadmill to show up: a few
advertising intervals (FTMS devices typically advertise every 100-500 ms)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One advertiser, as ``treadctl scan`` lists it and discovery ranks it."""

    device: BLEDevice
    name: str | None
    rssi: int
    advertises_ftms: bool
    service_data: FtmsServiceData | None
    connected: bool = False
    """Held connected by BlueZ (not heard: a connected treadmill does not advertise)."""

    @property
    def address(self) -> str:
        return self.device.address

    @property
    def is_treadmill(self) -> bool | None:
        """True/False per Service Data; None when the device did not say (UUID only or nothing)."""
        return None if self.service_data is None else self.service_data.is_treadmill

    @property
    def available(self) -> bool | None:
        return None if self.service_data is None else self.service_data.available

    @property
    def machine_type(self) -> str:
        if self.service_data is None:
            return "unknown"
        flags = self.service_data.machine_type
        return "|".join(f.name.lower() for f in type(flags) if f in flags and f.name) or "none"


def classify(device: BLEDevice, adv: AdvertisementData) -> Candidate:
    service_data: FtmsServiceData | None = None
    raw = adv.service_data.get(FTMS_UUID)
    if raw is not None:
        try:
            service_data = FtmsServiceData.from_bytes(raw)
        except FtmsDecodeError:
            service_data = None  # malformed Service Data: treated as absent (UUID fallback)
    return Candidate(
        device=device,
        name=adv.local_name or device.name,
        rssi=adv.rssi,
        advertises_ftms=FTMS_UUID in adv.service_uuids or raw is not None,
        service_data=service_data,
    )


def matches_configured(candidate: Candidate, address: str | None, name: str | None) -> bool:
    if address is not None and candidate.address.upper() != address.upper().removesuffix("/P"):
        return False
    return name is None or candidate.name == name


def rank(candidate: Candidate) -> int | None:
    """2 = Service Data treadmill, 1 = FTMS UUID without Service Data, None = not a candidate."""
    if candidate.is_treadmill:
        return 2
    if candidate.is_treadmill is None and candidate.advertises_ftms:
        return 1
    return None


def make_scanner(
    scanner_backend: type[BaseBleakScanner] | None, adapter: str | None = None
) -> BleakScanner:
    """A BleakScanner on ``scanner_backend`` (None: bleak's platform backend on ``adapter``)."""
    if scanner_backend is not None:
        return BleakScanner(backend=scanner_backend)
    if adapter is not None:
        return BleakScanner(bluez={"adapter": adapter})
    return BleakScanner()


async def connected_treadmill(
    adapter: str | None, address: str | None, name: str | None
) -> Candidate | None:
    """A treadmill BlueZ already holds a connection to (bleak's platform backend only).

    bluetoothd keeps a link up when the program that made it dies (bleak's BlueZ backend notes
    it; the BlueZ twin does the same): a daemon restarted after a crash would scan in vain for
    a treadmill that does not advertise while connected. Such a device serving FTMS (0x1826)
    and matching the configured address / name is taken without scanning.
    """
    for candidate in await connected_ftms(adapter):
        if matches_configured(candidate, address, name):
            return candidate
    return None


async def connected_ftms(adapter: str | None) -> list[Candidate]:
    """FTMS devices BlueZ holds connected (bleak's platform backend only)."""
    bleak_adapter = await BleakAdapter.get(bluez={"adapter": adapter} if adapter else {})
    return [
        Candidate(
            device=device,
            name=device.name,
            rssi=-127,
            advertises_ftms=True,
            service_data=None,
            connected=True,
        )
        for device in await bleak_adapter.get_connected_devices([FTMS_UUID])
    ]


def selection_text(address: str | None, name: str | None) -> str:
    """The configured selection as the not-found errors name it: ``address=… name='…'``."""
    parts = (f"address={address}" if address else "", f"name={name!r}" if name else "")
    return " ".join(p for p in parts if p)


async def find_treadmill(
    scanner_backend: type[BaseBleakScanner] | None,
    *,
    adapter: str | None = None,
    address: str | None = None,
    name: str | None = None,
    timeout_s: float = 10.0,
    grace_s: float = UUID_ONLY_GRACE_S,
) -> Candidate:
    """Scan until a treadmill turns up (see module docstring); DeviceNotFound at the deadline."""
    configured = address is not None or name is not None
    fallback: Candidate | None = None
    fallback_deadline = 0.0
    criteria = selection_text(address, name)
    if scanner_backend is None:
        held = await connected_treadmill(adapter, address, name)
        if held is not None:
            return held
    scanner = make_scanner(scanner_backend, adapter)
    try:
        async with scanner, asyncio.timeout(timeout_s):
            advertisements = scanner.advertisement_data()
            while True:
                wait = None if fallback is None else max(0.0, fallback_deadline - time.monotonic())
                try:
                    async with asyncio.timeout(wait):
                        device, adv = await anext(advertisements)
                except TimeoutError:
                    if fallback is not None and time.monotonic() >= fallback_deadline:
                        return fallback
                    raise
                candidate = classify(device, adv)
                if configured:
                    if matches_configured(candidate, address, name):
                        return candidate
                    continue
                level = rank(candidate)
                if level == 2:
                    return candidate
                if level == 1 and (fallback is None or candidate.rssi > fallback.rssi):
                    if fallback is None:
                        fallback_deadline = time.monotonic() + grace_s
                    fallback = candidate
    except TimeoutError:
        if fallback is not None:
            return fallback
        raise DeviceNotFound(
            criteria or "FTMS treadmill advertising", timeout_s, address=address, name=name
        ) from None


async def scan(
    scanner_backend: type[BaseBleakScanner] | None,
    *,
    adapter: str | None = None,
    timeout_s: float = 5.0,
) -> list[Candidate]:
    """Everything heard for ``timeout_s``, treadmills first, then by signal strength. With
    BlueZ, FTMS devices it holds connected are listed too (``connected``), since they do not
    advertise."""
    scanner = make_scanner(scanner_backend, adapter)
    seen: dict[str, Candidate] = {}
    if scanner_backend is None:
        seen.update((c.address, c) for c in await connected_ftms(adapter))
    async with scanner:
        try:
            async with asyncio.timeout(timeout_s):
                async for device, adv in scanner.advertisement_data():
                    seen[device.address] = classify(device, adv)
        except TimeoutError:
            pass
    return sorted(seen.values(), key=lambda c: (-(rank(c) or 0), -c.rssi))
