"""The simulator's clock: simulated seconds, optionally faster than wall time (``--speedup``)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Simulated time. ``now()`` is in simulated seconds; ``wall(s)`` converts a simulated
    duration to the wall-clock seconds to wait for it."""

    def now(self) -> float: ...

    def wall(self, sim_seconds: float) -> float: ...


class ScaledClock:
    """Monotonic time multiplied by ``speedup`` (physics, counters and the Treadmill Data
    interval all run ``speedup`` times faster than real time)."""

    def __init__(self, speedup: float = 1.0) -> None:
        if not speedup > 0:
            raise ValueError(f"speedup must be positive, got {speedup!r}")
        self.speedup = speedup
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speedup

    def wall(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.speedup
