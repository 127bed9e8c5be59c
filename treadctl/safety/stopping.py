"""Stop planning: which Stop or Pause goes out next, and how a failed one is retried (pure).

A Stop wins over a Pause. Without control permission, Request Control goes first. A failed
attempt is retried every ``STOP_RETRY_INTERVAL_S`` for as long as the belt reports motion (a
device busy with a pending procedure answers ATT 0xFE until it is done); once the belt reports
0 it is given up after ``STOP_ATTEMPTS`` (docs/safety.md, "Limits": "failed Stop").
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.safety import limits as L
from treadctl.safety.actions import Pause, RequestControl, Stop, Wait


@dataclass(slots=True)
class StopPlan:
    """A Stop (or Pause) to send, retried until it succeeds or is given up."""

    pause: bool
    reason: str
    attempts: int = 0
    not_before: float = float("-inf")

    def next(
        self, *, connected: bool, has_control: bool, now: float
    ) -> RequestControl | Stop | Pause | Wait:
        """What to send for this plan now, or how long to wait."""
        if not connected:
            return Wait(None)
        if now < self.not_before:
            return Wait(self.not_before)
        if not has_control:
            return RequestControl(self.reason)
        return Pause(self.reason) if self.pause else Stop(self.reason)

    def failed(self, belt_speed: int | None, now: float) -> bool:
        """An attempt (Request Control, Stop or Pause) failed: True when the plan is given up
        (the belt reports it stands and every attempt was used), else it is retried later."""
        self.attempts += 1
        moving = belt_speed is not None and belt_speed > 0
        if self.attempts >= L.STOP_ATTEMPTS and not moving:
            return True
        self.not_before = now + L.STOP_RETRY_INTERVAL_S
        return False


def plan_stop(current: StopPlan | None, *, pause: bool, reason: str) -> StopPlan:
    """The plan after a person's (or the governor's own) stop or pause request."""
    if current is not None and not current.pause:
        return current  # a Stop already wins over a Pause
    return StopPlan(pause=pause, reason=reason)
