"""Backend selection: the only place that knows whether bleak runs on BlueZ or on Bumble.

``select("bluez", None)`` returns ``(None, None)``: bleak then uses the platform default
(BlueZ over D-Bus on Linux). ``select("bumble", "tcp-client:127.0.0.1:9001")`` returns backend
classes bound to that transport; pass them as ``backend=`` to ``BleakScanner``/``BleakClient``.
"""

from __future__ import annotations

from typing import Literal

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner

BackendName = Literal["bluez", "bumble"]


def select(
    backend: BackendName, transport: str | None
) -> tuple[type[BaseBleakScanner] | None, type[BaseBleakClient] | None]:
    """Scanner and client backend classes for ``backend`` (None = bleak's platform default)."""
    if backend == "bluez":
        if transport:
            raise ValueError("ble.transport applies to the bumble backend only")
        return None, None
    if backend == "bumble":
        if not transport:
            raise ValueError("the bumble backend needs ble.transport, e.g. tcp-client:HOST:PORT")
        return bumble_backends(transport)
    raise ValueError(f"unknown BLE backend {backend!r} (expected 'bluez' or 'bumble')")


def bumble_backends(transport: str) -> tuple[type[BaseBleakScanner], type[BaseBleakClient]]:
    """The Bumble scanner and client backends bound to ``transport``."""
    # Bumble is imported only when selected: the BlueZ path does not need it.
    from treadctl.ble.bumble_backend import (  # noqa: PLC0415
        BleakClientBumble,
        BleakScannerBumble,
        bind_transport,
    )

    return bind_transport(BleakScannerBumble, transport), bind_transport(
        BleakClientBumble, transport
    )
