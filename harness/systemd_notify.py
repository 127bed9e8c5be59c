"""A stand-in for systemd's notification socket (``sd_notify``), for the daemon tests.

``NotifyListener(path=None)``: a bound ``AF_UNIX``/``SOCK_DGRAM`` socket like systemd's; a
    ``path`` binds a file, None an abstract name. ``address`` is the ``NOTIFY_SOCKET`` value
    (``@name`` for abstract). ``received``: every datagram as ``dict`` (``KEY: value``).
    ``await wait_for(key, value=None, within=30.0) -> dict`` (the first such datagram, also one
    received earlier); ``await wait_count(key, count, within=30.0)``; ``drain() -> list``
    (read what is waiting, no wait); ``close()``; a context manager.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from harness.polling import DEFAULT_WITHIN, poll


class NotifyListener:
    """A socket bound like systemd's notification socket (see the module docstring)."""

    def __init__(self, path: Path | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if path is None:
            name = f"treadctl-test-{os.getpid()}-{os.urandom(6).hex()}"
            self.sock.bind(b"\0" + name.encode())
            self.address = "@" + name
        else:
            self.sock.bind(str(path))
            self.address = str(path)
        self.sock.setblocking(False)
        self.received: list[dict[str, str]] = []

    def drain(self) -> list[dict[str, str]]:
        """Read every datagram waiting on the socket (no waiting); returns ``received``."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.received
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if line)
            self.received.append(fields)

    async def wait_for(
        self, key: str, value: str | None = None, *, within: float = DEFAULT_WITHIN
    ) -> dict[str, str]:
        """The first datagram (received so far or later) with ``key`` (equal to ``value``)."""

        def find() -> dict[str, str] | None:
            self.drain()
            return next(
                (m for m in self.received if key in m and (value is None or m[key] == value)),
                None,
            )

        return await poll(find, within=within, what=f"notify {key}")

    async def wait_count(self, key: str, count: int, *, within: float = DEFAULT_WITHIN) -> None:
        """Until at least ``count`` datagrams carried ``key``."""
        await poll(
            lambda: sum(1 for m in self.drain() if key in m) >= count,
            within=within,
            what=f"{count} x notify {key}",
        )

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NotifyListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
