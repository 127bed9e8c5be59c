"""The reconnect loop both supervisors share: connect, stream until the link drops, back off,
connect again; forever, until cancelled.

:class:`ReconnectLoop` knows no link type, no treadmill and no governor: the treadmill's
supervisor (supervisor.py) and the heart-rate strap's (strap.py) each say what one connection is
(``_one_connection``, which returns their own typed reason for its end) and how a loss is
reported (``_report_down``). Waits between attempts follow a pure backoff function
(treadctl/backoff.py); :meth:`ReconnectLoop.reconnect_now` cuts a wait short.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, NoReturn, TypeVar

from treadctl.backoff import backoff_delay

Reason = TypeVar("Reason")
"""Why a connection (or an attempt at one) ended, in the supervisor's own type."""


class ReconnectLoop(ABC, Generic[Reason]):
    def __init__(
        self,
        *,
        backoff: Callable[[int], float] = backoff_delay,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backoff = backoff
        self._clock = clock
        self._wake = asyncio.Event()
        self.attempt = 0
        """Consecutive failed attempts (0 once connected)."""
        self.connections = 0
        """Connections made so far."""

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
            self._stopped()

    def _connected(self) -> None:
        """Call once a connection is up: the attempts start again from 0."""
        self.attempt = 0
        self.connections += 1

    @abstractmethod
    async def _one_connection(self) -> Reason:
        """Connect, stream until the link drops; why it ended (never raises for a BLE failure)."""

    @abstractmethod
    def _report_down(self, reason: Reason, retry_in_s: float) -> None:
        """Tell the consumer the link is down and when the next attempt starts."""

    @abstractmethod
    def _stopped(self) -> None:
        """The loop ended (cancelled): drop the link and end the stream."""
