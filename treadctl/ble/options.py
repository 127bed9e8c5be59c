"""Options of the BLE link (the daemon maps its ``ble.*`` configuration onto these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from treadctl.ble.backend import BackendName


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How :class:`treadctl.ble.link.TreadmillLink` finds, connects to and drives a treadmill.

    The daemon fills every field from the ``[ble]`` configuration section and the device
    (``treadctl.daemon.compose.link_options``); the defaults here are the configuration's.
    """

    backend: BackendName = "bluez"
    """``bluez``: bleak's platform backend; ``bumble``: the Bumble host on ``transport``."""
    transport: str | None = None
    """Bumble transport spec (``tcp-client:HOST:PORT``, ``unix:PATH``, ``usb:0``, ...)."""
    adapter: str | None = None
    """BlueZ adapter (``hci0``); the system default when None. Ignored by the bumble backend."""
    address: str | None = None
    """Connect to this address only (``AA:BB:CC:DD:EE:FF``)."""
    name: str | None = None
    """Connect to the advertiser with this local name only."""
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 20.0
    """Outer deadline of the whole connect (all retries), on top of bleak's own timeouts."""
    connect_attempts: int = 3
    """bleak-retry-connector attempts inside one connect."""
    gatt_timeout_s: float = 5.0
    """Deadline of each GATT read, subscription and disconnect during set-up and teardown."""
    control_timeout_s: float = 3.0
    """Deadline of a control point procedure; peers use 2-5 s
    (docs/references.md#ftms-procedures)."""
    first_reading_timeout_s: float = 3.0
    """Start waits this long for the first Treadmill Data after connecting (belt state unknown)."""
    cold_start_timeout_s: float = 8.0
    """After Start, speed writes wait until the belt reports > 0 or this long (cold-start drops,
    docs/references.md#ftms-devices; a walking pad's start countdown is about 3 s)."""
    idle_release_s: float | None = 60.0
    """Release control after this long without a command while the belt stands (console lock,
    docs/references.md#ftms-devices). None: never."""
    idle_release: Literal["reset", "disconnect"] = "reset"
    """How control is released: Reset (0x01, ends permission, §4.16.2.2) or disconnecting."""
    control_retry_base_s: float = 2.0
    """After a refused Request Control, no new request before this (doubling per refusal)."""
    mph_check: bool = True
    """Flag a ~1.609 reported/requested ratio and refuse speed-ups afterwards."""
    max_queued_readings: int = 64
    """Readings held for a slow consumer before the oldest is dropped (counted)."""
    bumble_mtu: int | None = None
    """ATT MTU the Bumble backend requests (None: its default, 247)."""
