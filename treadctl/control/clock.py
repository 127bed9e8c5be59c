"""Time for the control layer, injectable so that tests drive it.

``now()`` is monotonic seconds (the same base as ``Reading.at``, ``time.monotonic()``);
``wait(event, until)`` returns when ``event`` is set or the deadline ``until`` passes, whichever
comes first, and always yields to the event loop at least once (so a caller's loop can never
starve the others). No sleeps anywhere else: every wait in control/ is one of these.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    async def wait(self, event: asyncio.Event, until: float | None) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic()`` and ``asyncio.timeout`` deadlines."""

    def now(self) -> float:
        return time.monotonic()

    async def wait(self, event: asyncio.Event, until: float | None) -> None:
        if until is None:
            if event.is_set():
                await asyncio.sleep(0)  # a yield, not a delay
            await event.wait()
            return
        delay = until - time.monotonic()
        if delay <= 0 or event.is_set():
            await asyncio.sleep(0)  # a yield, not a delay: let the other tasks run
            return
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            return
