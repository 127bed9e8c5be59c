"""The governor's reaction to the heart-rate guard (sans-IO; docs/heart-rate.md).

The guard (``treadctl.safety.heart_rate``) judges the samples; this part of the governor acts on
its verdicts: no start at or above the hard limit, rises held while the guard holds, and at the
hard limit a ramp down (at most ``RAMP_DOWN_MAX_S``) then a latch, which stops the belt.
"""

from __future__ import annotations

from treadctl.hrs.sample import HeartRateItem
from treadctl.safety.errors import HeartRateRefusal
from treadctl.safety.events import LatchReason
from treadctl.safety.governor_core import GovernorCore
from treadctl.safety.heart_rate import RAMP_DOWN_MAX_S
from treadctl.safety.phases import Phase


class HeartRateReaction(GovernorCore):
    """The heart-rate part of :class:`treadctl.safety.governor.Governor`."""

    __slots__ = ()

    # ----------------------------------------------------------------- heart rate

    def observe_heart_rate(self, item: HeartRateItem) -> None:
        """Feed one heart-rate sample or sensor status (nothing happens without a guard)."""
        if self.heart_rate is not None:
            self.heart_rate.observe(item)

    def _check_heart_rate_start(self, now: float) -> None:
        """docs/heart-rate.md: no start while the heart rate is at or above the hard limit."""
        guard = self.heart_rate
        if guard is None:
            return
        verdict = guard.verdict(now)
        if verdict.stop or (verdict.bpm is not None and verdict.bpm >= guard.limits.hard_bpm):
            why = verdict.text if verdict.stop else f"heart rate {verdict.bpm} bpm"
            raise HeartRateRefusal("start", f"{why} (hard limit {guard.limits.hard_bpm} bpm)")

    def _check_heart_rate(self, now: float) -> None:
        """docs/heart-rate.md: hold increases while the guard says so; at the hard limit ramp
        down (at most RAMP_DOWN_MAX_S), then latch, which stops the belt."""
        guard = self.heart_rate
        if guard is None:
            # No guard (any more): nothing of a former one may linger.
            if self._hr_hold is not None:
                self._note(now, "heart-rate hold ended (no heart-rate guard)")
            self._hr_hold = self._hr_hold_kind = self._hr_bpm = None
            self._hr_stop = self._hr_deadline = None
            return
        verdict = guard.verdict(now)
        self._hr_bpm = verdict.bpm
        hold = verdict.text if verdict.hold is not None else None
        kind = verdict.hold.value if verdict.hold is not None else None
        if kind != self._hr_hold_kind:  # a notice per change of kind, not per new bpm value
            self._note(now, f"heart-rate hold: {hold}" if hold else "heart-rate hold ended")
        self._hr_hold, self._hr_hold_kind = hold, kind
        self._hr_deadline = guard.next_deadline(now)
        if self.latch is not None or self.phase not in (Phase.STARTING, Phase.RUNNING):
            self._hr_stop = None
            return
        if verdict.stop and self._hr_stop is None:
            self._hr_stop = (now, verdict.text)
            self._note(now, f"{verdict.text}: ramping down, then stopping")
        if self._hr_stop is None:
            return
        since, why = self._hr_stop
        rng, commanded = self.info.speed_range, self._speed.commanded
        if (
            self.phase != Phase.RUNNING
            or rng is None
            or commanded is None
            or commanded <= rng.minimum
            or now - since >= RAMP_DOWN_MAX_S
        ):
            self._hr_stop = None
            self._latch(LatchReason.HEART_RATE, now, why)
            return
        self._speed.target = rng.minimum
        irng = self.info.incline_range
        if self._incline.target is not None and irng is not None:
            self._incline.target = irng.minimum
