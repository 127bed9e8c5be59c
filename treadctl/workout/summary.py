"""The end-of-session summary, built from Treadmill Data readings (FTMS §4.4). Pure module."""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.observations import Reading


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a session did. Speeds in 0.01 km/h, distance in metres, times in seconds."""

    profile: str | None
    ended: str
    """"finished" or "aborted"."""
    reason: str | None
    """Why it was aborted (a latch reason) or stopped early; None when it ran to the end."""
    duration_s: float
    """Wall time from the start request to the end."""
    active_s: float
    """Time the profile ran (paused time excluded)."""
    distance_m: int
    average_speed: int
    """Distance over the time the belt was moving (rests and pauses excluded)."""
    max_speed: int
    steps: int | None


class SummaryBuilder:
    """Accumulates readings during a session.

    Distance: the device's Total Distance difference when it sends one, else speed integrated
    over the readings' time stamps. Steps: the vendor step counter difference, if any.
    """

    def __init__(self) -> None:
        self._first_distance: int | None = None
        self._last_distance: int | None = None
        self._first_steps: int | None = None
        self._last_steps: int | None = None
        self._integrated_m = 0.0
        self._moving_s = 0.0
        self._prev: tuple[float, int] | None = None
        self.max_speed = 0

    def add(self, reading: Reading) -> None:
        if reading.distance_m is not None:
            if self._first_distance is None or reading.distance_m < (self._last_distance or 0):
                # first value, or the device reset its counter: restart the difference
                self._first_distance = reading.distance_m - self._distance_so_far()
            self._last_distance = reading.distance_m
        if reading.steps is not None:
            if self._first_steps is None:
                self._first_steps = reading.steps
            self._last_steps = reading.steps
        if reading.speed is not None:
            self.max_speed = max(self.max_speed, reading.speed)
            if self._prev is not None:
                at, speed = self._prev
                dt = max(0.0, reading.at - at)
                # 0.01 km/h for dt seconds = speed * dt / 360 metres
                self._integrated_m += speed * dt / 360
                if speed > 0:
                    self._moving_s += dt
            self._prev = (reading.at, reading.speed)

    def pause(self) -> None:
        """No distance accrues across a gap (pause, disconnect)."""
        self._prev = None

    def _distance_so_far(self) -> int:
        if self._first_distance is None or self._last_distance is None:
            return 0
        return self._last_distance - self._first_distance

    @property
    def distance_m(self) -> int:
        if self._first_distance is not None:
            return self._distance_so_far()
        return int(self._integrated_m)

    def build(
        self,
        *,
        profile: str | None,
        ended: str,
        reason: str | None,
        duration_s: float,
        active_s: float,
    ) -> SessionSummary:
        distance = self.distance_m
        moving = self._moving_s or active_s
        average = int(distance * 360 / moving) if moving > 0 else 0
        steps = (
            None
            if self._first_steps is None or self._last_steps is None
            else max(0, self._last_steps - self._first_steps)
        )
        return SessionSummary(
            profile=profile,
            ended=ended,
            reason=reason,
            duration_s=duration_s,
            active_s=active_s,
            distance_m=distance,
            average_speed=average,
            max_speed=self.max_speed,
            steps=steps,
        )
