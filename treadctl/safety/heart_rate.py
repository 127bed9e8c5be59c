"""The heart-rate guard: what a person's heart rate allows the belt to do (pure, no I/O).

Fed :class:`~treadctl.hrs.sample.HeartRateSample` / :class:`~treadctl.hrs.sample.SensorStatus`
items (stamped with the governor's clock) and asked for a :class:`HeartRateVerdict` at a time:

- at or above the soft limit, or with the signal lost (no plausible sample for
  ``signal_timeout_s``, sensor disconnected, skin contact lost): *hold*, no speed or incline
  increase; the hold ends by itself when a plausible sample below the soft limit arrives (a
  hold never stopped anything, so nothing is restarted);
- at or above the hard limit for longer than ``hard_window_s``: *stop* (the governor ramps
  down, then stops and latches; only a person's explicit start moves the belt again);
- implausible samples (0 bpm, above 230, a jump of more than 30 bpm per second from the last
  plausible one) are not acted on and are counted; three consistent samples in a row re-anchor
  the jump filter (a wrong first value must not blind the guard).

Without a guard (no heart-rate source configured) nothing of this exists and nothing changes.
Numbers and their sources: docs/references.md#journey-heart-rate; reactions: docs/heart-rate.md.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from dataclasses import dataclass

from treadctl.errors import TreadctlError
from treadctl.hrs.measurement import SensorContact
from treadctl.hrs.sample import HeartRateItem, HeartRateSample, SensorStatus

HR_MAX_AGE_BASE = 220
"""Age-predicted maximum = 220 - age (Fox). docs/references.md#journey-heart-rate. Tanaka's
208 - 0.7 x age fits older adults better but is *higher* above age 40; the lower Fox estimate is
the conservative one for a limit. Either is an estimate (about +-10 bpm): a measured ``hr_max``
always wins."""

SOFT_FRACTION = 0.70
"""Hold increases at 70 % of hr_max. docs/references.md#journey-heart-rate: ACSM moderate
intensity is 64-76 % of maximum heart rate; 70 % sits inside it with room for the lag of heart
rate behind speed (tens of seconds), so the steady state after a hold stays moderate."""

HARD_FRACTION = 0.80
"""Stop at 80 % of hr_max. docs/references.md#journey-heart-rate: ACSM vigorous intensity
starts at 77 %; no backward-walking dose in this project is vigorous."""

MAX_FRACTION = 0.95
"""No threshold above 95 % of hr_max (the top of ACSM's vigorous band); a therapist may lower
the fractions, never raise them past this or past hr_max."""

MIN_FRACTION = 0.30
"""Lowest fraction accepted (a guard that always holds is allowed; a zero threshold is not)."""

HR_MAX_RANGE = (60, 240)
"""Accepted hr_max (bpm): the configuration's bounds."""

PLAUSIBLE_MAX_BPM = 230
"""Above 230 bpm a value is implausible for a walker (the 255 of a faulty strap): the filter in
docs/heart-rate.md#the-heart-rate-guard, a project choice."""

MAX_JUMP_BPM_PER_S = 30.0
"""A change faster than 30 bpm per second is a sensor artefact, not a heart: the filter in
docs/heart-rate.md#the-heart-rate-guard, a project choice."""

REANCHOR_SAMPLES = 3
"""Consistent samples in a row that replace the jump filter's reference."""

CONFIRM_SAMPLES = 2
"""A hold ends only after this many plausible values in a row below the soft limit, without a
gap, contact loss or disconnection between them: a single value (say an artefact after a short
gap that passes the rate check) never releases increases. Project choice, the conservative
direction: tightening acts on one value, relaxing needs two (docs/heart-rate.md)."""

HARD_WINDOW_S = 5.0
"""Above the hard limit for longer than this: stop ("more than a few seconds",
docs/heart-rate.md#the-heart-rate-guard; straps notify about once a second,
docs/references.md#journey-heart-rate)."""

SIGNAL_TIMEOUT_S = 5.0
"""No plausible sample for this long: signal lost (five missed one-per-second measurements)."""

RAMP_DOWN_MAX_S = 10.0
"""After the hard limit, the belt ramps down at the normal deceleration for at most 10 s, then
Stop (docs/references.md#journey-heart-rate, adopted defaults: a sudden stop walking backward
risks a fall; the wait is bounded)."""


class HeartRateSettingsError(TreadctlError):
    """Heart-rate guard settings outside what the rules allow."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"heart rate {name}={value!r} is not allowed: must be {allowed}")


@dataclass(frozen=True, slots=True)
class HeartRateLimits:
    """A person's heart-rate limits. ``estimated``: hr_max came from the age, not a test."""

    hr_max: int
    estimated: bool = False
    soft_fraction: float = SOFT_FRACTION
    hard_fraction: float = HARD_FRACTION
    hard_window_s: float = HARD_WINDOW_S
    signal_timeout_s: float = SIGNAL_TIMEOUT_S

    def __post_init__(self) -> None:
        low, high = HR_MAX_RANGE
        if type(self.hr_max) is not int or not low <= self.hr_max <= high:
            raise HeartRateSettingsError("hr_max", self.hr_max, f"an integer in {low}..{high}")
        for name in ("soft_fraction", "hard_fraction"):
            value = getattr(self, name)
            if not MIN_FRACTION <= value <= MAX_FRACTION:
                raise HeartRateSettingsError(name, value, f"in {MIN_FRACTION}..{MAX_FRACTION}")
        if self.soft_fraction >= self.hard_fraction:
            raise HeartRateSettingsError(
                "soft_fraction", self.soft_fraction, f"below hard_fraction {self.hard_fraction}"
            )
        if not 0 < self.hard_window_s <= HARD_WINDOW_S:
            raise HeartRateSettingsError(
                "hard_window_s", self.hard_window_s, f"in (0, {HARD_WINDOW_S}]"
            )
        if not 0 < self.signal_timeout_s <= SIGNAL_TIMEOUT_S:
            raise HeartRateSettingsError(
                "signal_timeout_s", self.signal_timeout_s, f"in (0, {SIGNAL_TIMEOUT_S}]"
            )

    @classmethod
    def for_person(
        cls,
        *,
        hr_max: int | None = None,
        age: int | None = None,
        soft_fraction: float | None = None,
        hard_fraction: float | None = None,
    ) -> HeartRateLimits | None:
        """A measured ``hr_max`` wins; else 220 - ``age`` (an estimate); None without either."""
        fractions: dict[str, float] = {}
        if soft_fraction is not None:
            fractions["soft_fraction"] = soft_fraction
        if hard_fraction is not None:
            fractions["hard_fraction"] = hard_fraction
        if hr_max is not None:
            return cls(hr_max, False, **fractions)
        if age is not None:
            return cls(HR_MAX_AGE_BASE - age, True, **fractions)
        return None

    @property
    def soft_bpm(self) -> int:
        return math.floor(self.hr_max * self.soft_fraction)

    @property
    def hard_bpm(self) -> int:
        return math.floor(self.hr_max * self.hard_fraction)

    def describe(self) -> str:
        how = "estimated from age as 220 - age" if self.estimated else "configured"
        return (
            f"hr_max {self.hr_max} bpm ({how}); soft {self.soft_bpm} bpm "
            f"({self.soft_fraction:.0%}), hard {self.hard_bpm} bpm ({self.hard_fraction:.0%})"
        )


class HoldReason(enum.Enum):
    ABOVE_SOFT = "above_soft"
    CONFIRMING = "confirming"
    """Below the soft limit, but not yet CONFIRM_SAMPLES values in a row."""
    CONTACT_LOST = "contact_lost"
    SIGNAL_LOST = "signal_lost"
    DISCONNECTED = "sensor_disconnected"


@dataclass(frozen=True, slots=True)
class HeartRateVerdict:
    """What the heart rate allows now. ``text`` says why, for cues, MQTT and logs."""

    hold: HoldReason | None
    stop: bool
    bpm: int | None
    """The last plausible heart rate while the signal is good, else None."""
    text: str = ""


@dataclass(slots=True)
class HeartRateStats:
    """For the live view and the session summary: plausible samples only."""

    samples: int = 0
    total_bpm: int = 0
    max_bpm: int | None = None
    above_soft_s: float = 0.0

    @property
    def average_bpm(self) -> float | None:
        return self.total_bpm / self.samples if self.samples else None


class HeartRateGuard:
    """The guard for one person (see the module docstring)."""

    def __init__(self, limits: HeartRateLimits, *, now: float) -> None:
        self.limits = limits
        self.filtered: Counter[str] = Counter()
        """Implausible samples not acted on, by reason (``zero``, ``too_high``, ``jump``)."""
        self.stats = HeartRateStats()
        self._since = now
        self._bpm: int | None = None
        self._valid_at: float | None = None
        self._contact_lost = False
        self._disconnected = False
        self._over_hard_since: float | None = None
        self._candidates: list[tuple[float, int]] = []
        self._below_run = 0
        """Plausible values in a row below the soft limit, without a disturbance between."""

    def restart_statistics(self) -> None:
        """Statistics and filter counts from zero (a new session); the signal state stays."""
        self.stats = HeartRateStats()
        self.filtered.clear()

    # -------------------------------------------------------------- input
    def observe(self, item: HeartRateItem) -> None:
        if isinstance(item, SensorStatus):
            if not item.connected:
                # Held until a plausible value arrives after it (not merely a reconnection:
                # the last value before the loss says nothing about now).
                self._disconnected = True
                self._contact_lost = False
                self._below_run = 0
            return
        self._sample(item)

    def _sample(self, s: HeartRateSample) -> None:
        if s.contact is SensorContact.NOT_DETECTED:
            self._contact_lost = True
            self._below_run = 0
            return
        # Contact counts as back only with a plausible value (a 0 or 255 proves nothing).
        if s.bpm <= 0:
            self.filtered["zero"] += 1
            return
        if s.bpm > PLAUSIBLE_MAX_BPM:
            self.filtered["too_high"] += 1
            return
        if not self._plausible_step(s.at, s.bpm):
            self.filtered["jump"] += 1
            return
        self._accept(s.at, s.bpm)

    def _plausible_step(self, at: float, bpm: int) -> bool:
        if self._bpm is None or self._valid_at is None or self._signal_lost(at):
            return True
        if _step_ok(self._valid_at, self._bpm, at, bpm):
            self._candidates.clear()
            return True
        last = self._candidates[-1] if self._candidates else None
        if last is not None and not _step_ok(last[0], last[1], at, bpm):
            self._candidates.clear()
        self._candidates.append((at, bpm))
        if len(self._candidates) >= REANCHOR_SAMPLES:
            self._candidates.clear()
            return True
        return False

    def _accept(self, at: float, bpm: int) -> None:
        self._contact_lost = self._disconnected = False
        soft = self.limits.soft_bpm
        gap = self._valid_at is None or at - self._valid_at > self.limits.signal_timeout_s
        if bpm >= soft:
            self._below_run = 0
        else:
            self._below_run = 1 if gap else self._below_run + 1
        if self._bpm is not None and self._valid_at is not None and self._bpm >= soft:
            self.stats.above_soft_s += min(at - self._valid_at, self.limits.signal_timeout_s)
        self._bpm, self._valid_at = bpm, at
        self.stats.samples += 1
        self.stats.total_bpm += bpm
        self.stats.max_bpm = bpm if self.stats.max_bpm is None else max(self.stats.max_bpm, bpm)
        if bpm >= self.limits.hard_bpm:
            if self._over_hard_since is None:
                self._over_hard_since = at
        else:
            self._over_hard_since = None

    # -------------------------------------------------------------- output
    def _signal_lost(self, now: float) -> bool:
        last = self._valid_at if self._valid_at is not None else self._since
        return now - last > self.limits.signal_timeout_s

    def verdict(self, now: float) -> HeartRateVerdict:
        lim = self.limits
        stop = self._over_hard_since is not None and now - self._over_hard_since > lim.hard_window_s
        if stop:
            text = (
                f"heart rate at or above the hard limit {lim.hard_bpm} bpm for more than "
                f"{lim.hard_window_s:g} s"
            )
            return HeartRateVerdict(HoldReason.ABOVE_SOFT, True, self._bpm, text)
        if self._disconnected:
            return HeartRateVerdict(
                HoldReason.DISCONNECTED, False, None, "heart-rate sensor disconnected"
            )
        if self._contact_lost:
            return HeartRateVerdict(
                HoldReason.CONTACT_LOST, False, None, "heart-rate sensor has no skin contact"
            )
        if self._signal_lost(now):
            return HeartRateVerdict(
                HoldReason.SIGNAL_LOST,
                False,
                None,
                f"no plausible heart rate for {lim.signal_timeout_s:g} s",
            )
        if self._bpm is None:
            return HeartRateVerdict(HoldReason.SIGNAL_LOST, False, None, "no heart rate yet")
        if self._bpm >= lim.soft_bpm:
            return HeartRateVerdict(
                HoldReason.ABOVE_SOFT,
                False,
                self._bpm,
                f"heart rate {self._bpm} bpm at or above the soft limit {lim.soft_bpm} bpm",
            )
        if self._below_run < CONFIRM_SAMPLES:
            return HeartRateVerdict(
                HoldReason.CONFIRMING,
                False,
                self._bpm,
                f"heart rate {self._bpm} bpm below the soft limit {lim.soft_bpm} bpm, waiting "
                "for the next value to confirm it",
            )
        return HeartRateVerdict(None, False, self._bpm)

    def next_deadline(self, now: float) -> float | None:
        """When the verdict may change without a new item (signal timeout, hard window)."""
        times: list[float] = []
        last = self._valid_at if self._valid_at is not None else self._since
        signal_end = last + self.limits.signal_timeout_s + 1e-3
        if signal_end > now:
            times.append(signal_end)
        if self._over_hard_since is not None:
            hard_end = self._over_hard_since + self.limits.hard_window_s + 1e-3
            if hard_end > now:
                times.append(hard_end)
        return min(times) if times else None


def _step_ok(at0: float, bpm0: int, at1: float, bpm1: int) -> bool:
    """Whether going from ``bpm0`` at ``at0`` to ``bpm1`` at ``at1`` is a heart's pace."""
    return abs(bpm1 - bpm0) <= MAX_JUMP_BPM_PER_S * max(1.0, at1 - at0)
