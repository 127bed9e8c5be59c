"""The reconnect loop both supervisors share: connect, stream until the link drops, back off,
connect again; forever, until cancelled.

:class:`ReconnectLoop` is generic in the link type and knows no treadmill and no governor:
the treadmill's supervisor (supervisor.py) and the heart-rate strap's (strap.py) each say what
one connection is (``_one_connection``, which returns their own typed reason for its end and
clears ``_link``) and how a loss is reported (``_report_down``) on the one stream. Waits
between attempts follow a pure backoff function (treadctl/backoff.py);
:meth:`ReconnectLoop.reconnect_now` cuts a wait short.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

from treadctl.backoff import backoff_delay
from treadctl.ble.stream import ObservationStream

Link = TypeVar("Link")
"""One connection (a new one per attempt, from ``open_link``)."""
Item = TypeVar("Item")
"""What the supervisor's single stream carries."""
Reason = TypeVar("Reason")
"""Why a connection (or an attempt at one) ended, in the supervisor's own type."""


class ReconnectLoop(ABC, Generic[Link, Item, Reason]):
    def __init__(
        self,
        open_link: Callable[[], Link],
        *,
        backoff: Callable[[int], float] = backoff_delay,
        max_queued_readings: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_link = open_link
        self._backoff = backoff
        self._clock = clock
        self._stream: ObservationStream[Item] = ObservationStream(max_queued_readings)
        self._link: Link | None = None
        self._wake = asyncio.Event()
        self.attempt = 0
        """Consecutive failed attempts (0 once connected)."""
        self.connections = 0
        """Connections made so far."""

    @property
    def link(self) -> Link | None:
        """The connection being made or up; None between attempts."""
        return self._link

    def reconnect_now(self) -> None:
        """Cut the current backoff wait short (e.g. the user pressed "connect")."""
        self._wake.set()

    async def run(self) -> NoReturn:
        try:
            while True:
                reason = await self._one_connection()
                self.attempt += 1
                delay = self._backoff(self.attempt)
                self._report_down(reason, delay)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        finally:
            self._link = None
            self._stream.close()

    def _connected(self, link: Link) -> None:
        """Call once ``link`` is up: the attempts start again from 0."""
        self._link = link
        self.attempt = 0
        self.connections += 1

    @abstractmethod
    async def _one_connection(self) -> Reason:
        """Connect, stream until the link drops; why it ended (never raises for a BLE failure)."""

    @abstractmethod
    def _report_down(self, reason: Reason, retry_in_s: float) -> None:
        """Tell the consumer the link is down and when the next attempt starts."""
