"""Finding (unless given) and connecting to a treadmill: the bleak backend of ``options``,
bleak-retry-connector's attempts inside one outer deadline, failures as :class:`ConnectFailed`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from treadctl.ble.backend import select
from treadctl.ble.discovery import Candidate, find_treadmill
from treadctl.ble.errors import ConnectFailed
from treadctl.ble.options import LinkOptions


async def connect(
    opts: LinkOptions,
    device: BLEDevice | None,
    on_disconnect: Callable[[BleakClient], None],
) -> tuple[BLEDevice, BleakClient]:
    """The device (``device``, or the one a scan finds) and a connected client for it."""
    scanner_cls, client_cls = select(opts.backend, opts.transport)
    if device is None:
        candidate: Candidate = await find_treadmill(
            scanner_cls,
            adapter=opts.adapter,
            address=opts.address,
            name=opts.name,
            timeout_s=opts.scan_timeout_s,
        )
        device = candidate.device
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
                disconnected_callback=on_disconnect,
                max_attempts=opts.connect_attempts,
                **kwargs,
            )
    except TimeoutError as exc:
        raise ConnectFailed(
            device.address, f"no connection within {opts.connect_timeout_s:g} s"
        ) from exc
    except BleakError as exc:
        raise ConnectFailed(device.address, str(exc)) from exc
    return device, client
