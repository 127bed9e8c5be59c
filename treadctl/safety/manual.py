"""The rules for a person's speed changes, as the governor applies them (pure, no I/O).

A person may lower the speed at any time. A rise of the belt's target (on the device grid,
after rounding down: never above what was asked) must respect, with or without a session
(docs/safety.md, "Limits"):

- at most +0.1 km/h at a time, or one device increment when the device's grid is coarser;
- at most +0.1 km/h per minute: a rise of ``d`` waits ``max(60 s, 60 s * d / 0.1 km/h)`` after
  the previous manual rise (so +0.5 km/h on a 0.5 km/h grid waits 5 minutes);
- none in the first 3 minutes of a block: the block starts when the belt starts moving, or when
  a session says its backward block began (a session's forward segments and rests are no
  block).

Profile targets are not manual changes: a profile is checked for the same block rule when it is
loaded (``treadctl.workout.check``).
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.safety import limits as L
from treadctl.safety.errors import NudgeRefusedError


@dataclass(slots=True)
class ManualSpeedRules:
    """Bookkeeping for manual speed rises. Times are the governor's monotonic seconds."""

    last_raise_at: float = float("-inf")
    block_start: float | None = None
    """When the current block began; None when no block hold applies."""

    def belt_moving(self, at: float) -> None:
        """The belt started moving after an explicit start: a block begins."""
        self.block_start = at

    def set_block_start(self, start: float | None) -> None:
        """A session's own block: when its backward block began, or None outside one."""
        self.block_start = start

    def check(self, current: int, new: int, increment: int, now: float, *, moving: bool) -> None:
        """Raise NudgeRefusedError if moving the target from ``current`` to ``new`` (both on
        the device grid) breaks a rule; lowering or keeping the speed is always allowed.
        ``moving``: the belt runs under our ramp (before it does, no block has begun)."""
        delta = new - current
        if delta <= 0:
            return
        step = max(L.NUDGE_MAX_CENTI, increment)
        if delta > step:
            extra = "" if step == L.NUDGE_MAX_CENTI else f" (one {step / 100:g} km/h device step)"
            raise NudgeRefusedError(delta, f"at most +0.1 km/h at a time{extra}")
        # docs/references.md#retro-defaults: "at most +0.1 km/h per minute for manual nudges".
        interval = max(L.NUDGE_INTERVAL_S, L.NUDGE_INTERVAL_S * delta / L.NUDGE_MAX_CENTI)
        wait = self.last_raise_at + interval - now
        if wait > 0:
            raise NudgeRefusedError(delta, "at most +0.1 km/h per minute", wait)
        hold = L.NO_INCREASE_AT_BLOCK_START_S
        if not moving:
            raise NudgeRefusedError(
                delta, "no speed increase in the first 3 minutes of a block", hold
            )
        if self.block_start is not None and now - self.block_start < hold:
            raise NudgeRefusedError(
                delta,
                "no speed increase in the first 3 minutes of a block",
                hold - (now - self.block_start),
            )

    def raised(self, now: float) -> None:
        self.last_raise_at = now
