"""Time, injectable so that tests drive it: one clock abstraction for the daemon, the control
layer and the simulator.

``now()`` is seconds on a monotonic scale; ``wall(seconds)`` converts a duration on that scale
into the real seconds it takes; ``wait(event, until)`` returns when ``event`` is set or the
deadline ``until`` (on the clock's scale) passes, whichever comes first, and always yields to
the event loop at least once (so a caller's loop can never starve the others). No sleeps
anywhere else: every wait of the control layer is one of these.

:class:`MonotonicClock` is the real clock, optionally compressed (``speedup``): against the
simulator started with the same ``--speedup`` (physics, counters and data interval compressed
alike), acceleration limits, ramps, segment durations and the stale-telemetry timeout keep their
meaning in simulated seconds. A real treadmill never gets a speedup: that would multiply the
real acceleration (the configuration refuses it).
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def wall(self, seconds: float) -> float: ...

    async def wait(self, event: asyncio.Event, until: float | None) -> None: ...


class MonotonicClock:
    """``time.monotonic()``, running ``speedup`` times faster from the moment it is made.

    ``start`` is the first reading of ``now()``: by default the monotonic time at creation (so
    a clock without speedup reads exactly like ``time.monotonic()``); the simulator counts
    from 0.
    """

    def __init__(self, speedup: float = 1.0, *, start: float | None = None) -> None:
        if not speedup > 0:
            raise ValueError(f"speedup must be positive, got {speedup!r}")
        self.speedup = speedup
        self._origin = time.monotonic()
        self._start = self._origin if start is None else start
        self._plain = speedup == 1.0 and start is None

    def now(self) -> float:
        if self._plain:
            return time.monotonic()
        return self._start + (time.monotonic() - self._origin) * self.speedup

    def wall(self, seconds: float) -> float:
        """Real seconds that ``seconds`` of this clock take (never negative)."""
        return max(0.0, seconds) / self.speedup

    async def wait(self, event: asyncio.Event, until: float | None) -> None:
        if until is None:
            if event.is_set():
                await asyncio.sleep(0)  # a yield, not a delay
            await event.wait()
            return
        delay = self.wall(until - self.now())
        if delay <= 0 or event.is_set():
            await asyncio.sleep(0)  # a yield, not a delay: let the other tasks run
            return
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            return
