"""When to log a failed connection attempt: the first at once, repeats with a growing interval.

A treadmill that is switched off (or a Bluetooth stack that is down) makes the supervisor fail
every few seconds, for hours. Each failure is counted; a log line is due for the first failure,
for a failure whose explanation differs from the last one logged, and otherwise once the
current interval has passed since the last line (10 s, doubling up to 10 min). Every line says
how many attempts failed so far and how many were not logged since the previous line.
Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.backoff import backoff_delay

FIRST_REPEAT_S = 10.0
"""A repeated failure is logged again after this long, then after twice as long, ...
(project choice: a person reading the journal sees the reason at once, and the journal does
not fill with identical lines)."""
MAX_REPEAT_S = 600.0


@dataclass(frozen=True, slots=True)
class FailureLine:
    """A failure that is due in the log."""

    attempts: int
    """Consecutive failed attempts, this one included."""
    unlogged: int
    """Failures since the previous line that were not logged."""


@dataclass(slots=True)
class FailureLog:
    """See the module docstring."""

    first_repeat_s: float = FIRST_REPEAT_S
    max_repeat_s: float = MAX_REPEAT_S
    attempts: int = 0
    _unlogged: int = 0
    _last_message: str | None = None
    _next_at: float = 0.0
    _lines: int = 0
    """Lines logged for the current message (the repeat interval grows with them)."""

    def failed(self, now: float, message: str) -> FailureLine | None:
        """One more failed attempt; the line to log, or None when it is not due."""
        self.attempts += 1
        if message != self._last_message:
            self._lines = 0
        elif now < self._next_at:
            self._unlogged += 1
            return None
        self._lines += 1
        line = FailureLine(self.attempts, self._unlogged)
        self._last_message = message
        self._unlogged = 0
        self._next_at = now + backoff_delay(
            self._lines, initial_s=self.first_repeat_s, maximum_s=self.max_repeat_s
        )
        return line

    def recovered(self) -> int:
        """The link is up: forget the failures; returns how many there were."""
        attempts = self.attempts
        self.attempts = 0
        self._unlogged = 0
        self._last_message = None
        self._next_at = 0.0
        self._lines = 0
        return attempts
