"""Time for the daemon: the real monotonic clock, or a compressed one for the simulator.

``ScaledClock(speedup)`` runs ``speedup`` times faster than the wall clock, from the moment it
is made. It is used only against the simulator started with the same ``--speedup`` (physics,
counters and data interval compressed alike), so that acceleration limits, ramps, segment
durations and the stale-telemetry timeout keep their meaning in simulated seconds. A real
treadmill never gets a ScaledClock: that would multiply the real acceleration (issue 7).
"""

from __future__ import annotations

import asyncio
import time


class ScaledClock:
    """A :class:`treadctl.control.clock.Clock` whose seconds pass ``speedup`` times faster."""

    def __init__(self, speedup: float) -> None:
        if not speedup >= 1:
            raise ValueError(f"speedup must be >= 1, got {speedup!r}")
        self.speedup = speedup
        self._origin = time.monotonic()

    def now(self) -> float:
        """Simulated monotonic seconds (same origin as ``time.monotonic()`` at creation)."""
        return self._origin + (time.monotonic() - self._origin) * self.speedup

    async def wait(self, event: asyncio.Event, until: float | None) -> None:
        """Return when ``event`` is set or the simulated deadline ``until`` passes."""
        if until is None:
            if event.is_set():
                await asyncio.sleep(0)  # a yield, not a delay
            await event.wait()
            return
        delay = (until - self.now()) / self.speedup
        if delay <= 0 or event.is_set():
            await asyncio.sleep(0)  # a yield, not a delay
            return
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            return
