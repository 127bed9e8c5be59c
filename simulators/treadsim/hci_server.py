"""HCI server transports (``tcp-server:HOST:PORT``, ``unix-server:PATH``) for a virtual controller.

Bumble's own server transports let a second host silently take the port over (both then share
one parser and the first one's packets go to the second) and never tell anyone that the host
left. Here each server belongs to one :class:`SimController`: one host at a time (a second
connection is closed at once and counted), a fresh HCI parser per host, and the host leaving
(EOF, reset, crash) calls :meth:`SimController.on_host_lost`, which drops the host's links.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
from types import TracebackType
from typing import Self

from bumble import core
from bumble.transport.common import PacketParser

from simulators.treadsim.controller import SimController

logger = logging.getLogger(__name__)

SERVER_SCHEMES = ("tcp-server", "unix-server")


def remove_stale_socket(path: str | os.PathLike[str]) -> None:
    """Remove a unix socket left behind by a killed run (and nothing else)."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)


class _HostSink:
    """Controller -> host bytes, onto one accepted stream."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport

    def on_packet(self, packet: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(packet)


class _HostProtocol(asyncio.Protocol):
    def __init__(self, server: HciServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser: PacketParser | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._accept(self)

    def data_received(self, data: bytes) -> None:
        if self.parser is None:
            return
        try:
            self.parser.feed_data(data)
        except core.InvalidPacketError:
            logger.warning("%s: invalid HCI packet from the host, closing", self.server.spec)
            if self.transport is not None:
                self.transport.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._lost(self)


class HciServer:
    """Expose ``controller`` to one host process at a time on ``spec``.

    ``async with HciServer(controller, "tcp-server:127.0.0.1:0") as server: server.spec``
    gives the bound address (the real port when 0 was asked).
    """

    def __init__(self, controller: SimController, spec: str) -> None:
        scheme, _, rest = spec.partition(":")
        if scheme not in SERVER_SCHEMES or not rest:
            raise ValueError(
                f"not an HCI server spec: {spec!r} (tcp-server:HOST:PORT, unix-server:PATH)"
            )
        self.controller = controller
        self.scheme = scheme
        self._rest = rest
        self.spec = spec
        self._server: asyncio.Server | None = None
        self._active: _HostProtocol | None = None
        self.hosts_accepted = 0
        self.hosts_refused = 0
        self.hosts_left = 0
        self.changed = asyncio.Event()
        """Set (and replaced) whenever a host arrives, is refused or leaves."""

    @property
    def has_host(self) -> bool:
        return self._active is not None

    @property
    def port(self) -> int | None:
        """The TCP port (tcp-server only)."""
        if self.scheme != "tcp-server":
            return None
        return int(self.spec.rsplit(":", 1)[1])

    def _signal(self) -> None:
        event, self.changed = self.changed, asyncio.Event()
        event.set()

    def _accept(self, protocol: _HostProtocol) -> None:
        assert protocol.transport is not None
        if self._active is not None:
            # Finding 3: a second host must not take over a controller that already has one.
            logger.warning("%s: refused a second host", self.spec)
            self.hosts_refused += 1
            protocol.transport.close()
            self._signal()
            return
        self._active = protocol
        self.hosts_accepted += 1
        protocol.parser = PacketParser(self.controller)
        self.controller.host = _HostSink(protocol.transport)
        logger.info("%s: host connected", self.spec)
        self._signal()

    def _lost(self, protocol: _HostProtocol) -> None:
        if self._active is not protocol:
            return
        self._active = None
        self.hosts_left += 1
        logger.info("%s: host left", self.spec)
        # Finding 4: the host leaving is reported, and its links are dropped.
        self.controller.on_host_lost()
        self._signal()

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        if self.scheme == "tcp-server":
            host, _, port = self._rest.rpartition(":")
            self._server = await loop.create_server(
                lambda: _HostProtocol(self),
                host=None if host in ("", "_") else host,
                port=int(port),
            )
            bound = self._server.sockets[0].getsockname()
            self.spec = f"tcp-server:{host}:{bound[1]}"
        else:
            path = self._rest
            if not path.startswith("@"):
                remove_stale_socket(path)
            address = "\0" + path[1:] if path.startswith("@") else path
            self._server = await loop.create_unix_server(lambda: _HostProtocol(self), address)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        if self._active is not None and self._active.transport is not None:
            self._active.transport.close()
        await self._server.wait_closed()
        if self.scheme == "unix-server" and not self._rest.startswith("@"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._rest)
