"""One Bumble host (a ``bumble.device.Device``) per HCI transport, shared by scanner and client.

The bleak backends in :mod:`treadctl.ble.bumble_backend` do not open transports themselves: they
acquire a :class:`BumbleHost` from the registry of the running event loop, keyed by the transport
spec string, and release it when they are done. The host opens on the first acquire and closes
(power off, transport closed) when the last holder releases it. ``async with hold(spec)`` keeps a
host open across a scan and a connection.

Transport specs are Bumble's (``tcp-client:HOST:PORT``, ``unix:PATH``, ``usb:0``, ``hci-socket:0``,
...; see ``bumble.transport.open_transport``) plus ``local:NAME``: an in-process
``bumble.link.LocalLink`` registered with :func:`register_local_link`. ``local:`` is a test and
demo facility (a simulator in the same process); production uses a real transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from treadctl.ble.errors import BleTransportError

LOCAL_SCHEME = "local:"
HOST_NAME = "treadctl"

ControllerFactory = Callable[[str, LocalLink], Controller]
"""Makes the host's virtual controller on a local link (name, link)."""


def _bumble_controller(name: str, link: LocalLink) -> Controller:
    return Controller(name, link=link)


_local_links: dict[str, tuple[LocalLink, ControllerFactory]] = {}


@contextlib.contextmanager
def register_local_link(
    name: str, link: LocalLink, *, controller: ControllerFactory = _bumble_controller
) -> Iterator[str]:
    """Make ``link`` reachable as transport ``local:<name>`` while the context is open.

    Yields the transport spec. ``controller`` makes the host's virtual controller (default:
    Bumble's; a test may pass the simulator's, which fixes gaps of Bumble's, docs/simulator.md).
    Test and demo facility (see module docstring).
    """
    if name in _local_links:
        raise ValueError(f"local link {name!r} is already registered")
    _local_links[name] = (link, controller)
    try:
        yield f"{LOCAL_SCHEME}{name}"
    finally:
        del _local_links[name]


@dataclass(eq=False)
class BumbleHost:
    """An open Bumble host: the device, how it reaches its controller, and what it has seen."""

    spec: str
    device: Device
    transport: Transport | None = None
    controller: Controller | None = None
    link: LocalLink | None = None
    seen: dict[str, hci.Address] = field(default_factory=dict)
    """Typed addresses of advertisers seen on this host, by ``AA:BB:CC:DD:EE:FF``."""
    scanners: int = 0
    """Scanners of this host now running: scanning stops only when the last one stops (the
    treadmill and a heart-rate strap may be looked for at the same time)."""

    def remember(self, address: hci.Address) -> None:
        self.seen[address.to_string(False).upper()] = address

    def resolve(self, address: str) -> hci.Address:
        """A bleak address string to a typed Bumble address.

        ``/P`` or ``/R`` suffixes are honoured; a plain address takes the type it was advertised
        with on this host, or random (Bumble's default) if it was never seen.
        """
        text = address.strip().upper()
        if text.endswith(("/P", "/R")):
            return hci.Address(text)
        if known := self.seen.get(text):
            return known
        return hci.Address(text)

    async def close(self) -> None:
        try:
            if self.device.powered_on:
                await self.device.power_off()
        finally:
            if self.link is not None and self.controller is not None:
                self.link.remove_controller(self.controller)
            if self.transport is not None:
                await self.transport.close()


async def _open_host(spec: str) -> BumbleHost:
    if spec.startswith(LOCAL_SCHEME):
        name = spec.removeprefix(LOCAL_SCHEME)
        registered = _local_links.get(name)
        if registered is None:
            raise BleTransportError(spec, "no in-process link registered under that name")
        link, make_controller = registered
        controller = make_controller(f"{HOST_NAME}-{name}", link)
        device = Device(name=HOST_NAME, host=Host(controller, AsyncPipeSink(controller)))
        host = BumbleHost(spec, device, controller=controller, link=link)
    else:
        try:
            transport = await open_transport(spec)
        except Exception as exc:  # bumble raises OSError, ValueError, TransportSpecError...
            raise BleTransportError(spec, f"cannot open transport: {exc}") from exc
        device = Device(name=HOST_NAME, host=Host(transport.source, transport.sink))
        host = BumbleHost(spec, device, transport=transport)
    try:
        await device.power_on()
    except Exception as exc:
        # E.g. bumble's TransportLostError: a simulator port serves one host at a time and
        # closes a second one at once. A typed error lets the reconnect supervisor back off
        # and retry instead of the daemon failing.
        await host.close()
        raise BleTransportError(
            spec, f"controller lost while powering on ({exc!r}); is another host using it?"
        ) from exc
    except BaseException:
        await host.close()
        raise
    return host


@dataclass(eq=False)
class _Entry:
    opening: asyncio.Task[BumbleHost]
    holders: int = 0


class HostRegistry:
    """Reference-counted hosts of one event loop, keyed by transport spec."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def acquire(self, spec: str) -> BumbleHost:
        entry = self._entries.get(spec)
        if entry is None:
            # The open runs as a task owned by the entry so that concurrent acquirers share it;
            # it is awaited right here (and by every later acquirer), never left running alone.
            entry = _Entry(asyncio.get_running_loop().create_task(_open_host(spec)))
            self._entries[spec] = entry
        entry.holders += 1
        try:
            return await asyncio.shield(entry.opening)
        except BaseException:
            await self._drop(spec, entry)
            raise

    async def release(self, spec: str) -> None:
        entry = self._entries.get(spec)
        if entry is None:
            return
        await self._drop(spec, entry)

    async def _drop(self, spec: str, entry: _Entry) -> None:
        entry.holders -= 1
        if entry.holders > 0:
            return
        if self._entries.get(spec) is entry:
            del self._entries[spec]
        if not entry.opening.done():
            entry.opening.cancel()
        await asyncio.wait([entry.opening])  # never raises the task's own outcome
        if entry.opening.cancelled() or entry.opening.exception() is not None:
            return
        await entry.opening.result().close()

    def open_specs(self) -> list[str]:
        return list(self._entries)


_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HostRegistry] = (
    weakref.WeakKeyDictionary()
)


def registry() -> HostRegistry:
    """The host registry of the running event loop."""
    loop = asyncio.get_running_loop()
    reg = _registries.get(loop)
    if reg is None:
        reg = HostRegistry()
        _registries[loop] = reg
    return reg


@contextlib.asynccontextmanager
async def hold(spec: str) -> AsyncIterator[BumbleHost]:
    """Keep the host for ``spec`` open for the duration of the block (and yield it)."""
    reg = registry()
    host = await reg.acquire(spec)
    try:
        yield host
    finally:
        await reg.release(spec)
