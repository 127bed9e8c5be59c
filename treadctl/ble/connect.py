"""Finding (unless given) and connecting to a peripheral, the treadmill or a heart-rate strap:
the bleak backend of ``options``, the caller's scan (``find``), bleak-retry-connector's attempts
inside one outer deadline, failures as :class:`ConnectFailed`; and letting go of a client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from bleak import BleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from treadctl.ble.backend import select
from treadctl.ble.discovery import find_treadmill
from treadctl.ble.errors import ConnectFailed
from treadctl.ble.options import LinkOptions


class DeviceFinder(Protocol):
    """A scan for one peripheral (:func:`find_treadmill_device`, ``strap.find_strap``); it
    raises its own typed not-found error at ``timeout_s``."""

    async def __call__(
        self,
        scanner_backend: type[BaseBleakScanner] | None,
        *,
        adapter: str | None,
        address: str | None,
        name: str | None,
        timeout_s: float,
    ) -> BLEDevice: ...


async def find_treadmill_device(
    scanner_backend: type[BaseBleakScanner] | None,
    *,
    adapter: str | None,
    address: str | None,
    name: str | None,
    timeout_s: float,
) -> BLEDevice:
    """The treadmill :func:`find_treadmill` chooses."""
    candidate = await find_treadmill(
        scanner_backend, adapter=adapter, address=address, name=name, timeout_s=timeout_s
    )
    return candidate.device


async def connect(
    opts: LinkOptions,
    device: BLEDevice | None,
    on_disconnect: Callable[[BleakClient], None],
    *,
    find: DeviceFinder,
    bumble_mtu: int | None,
) -> tuple[BLEDevice, BleakClient]:
    """The device (``device``, or the one ``find`` finds with the selection of ``opts``) and a
    connected client for it. ``bumble_mtu``: the MTU a Bumble client asks for (None: Bumble's
    default)."""
    scanner_cls, client_cls = select(opts.backend, opts.transport)
    if device is None:
        device = await find(
            scanner_cls,
            adapter=opts.adapter,
            address=opts.address,
            name=opts.name,
            timeout_s=opts.scan_timeout_s,
        )
    kwargs: dict[str, Any] = {}
    if client_cls is not None:
        kwargs["backend"] = client_cls
        if bumble_mtu is not None:
            kwargs["bumble_mtu"] = bumble_mtu
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


async def disconnect(client: BleakClient | None, timeout_s: float) -> None:
    """Let go of ``client`` within ``timeout_s``; failures are ignored (the link is going down).

    Also when the peer left first: the backend still needs its disconnect() to let go of its
    resources (e.g. the Bumble host)."""
    if client is None:
        return
    with contextlib.suppress(BleakError, TimeoutError):
        async with asyncio.timeout(timeout_s):
            await client.disconnect()
