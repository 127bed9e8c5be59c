"""The governor with a heart-rate guard: scenarios, and a stateful property test over random
heart-rate streams with faults (0 and 255 spikes, contact lost, drop-outs, disconnects).

Properties (every step):
- no speed or incline increase is sent unless the last true heart rate was below the soft limit,
  fresh (within the signal timeout), with skin contact and the sensor connected;
- a true heart rate at or above the hard limit for longer than the window (plus the bounded
  ramp-down) always ends with a Stop sent and the governor latched ``heart_rate``.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from treadctl.hrs import HeartRateSample, HeartRateSource, SensorContact, SensorStatus
from treadctl.observations import DeviceInfo, InclineRange, Reading, SpeedRange
from treadctl.safety.actions import Command, CommandKind, SetIncline, SetSpeed, Wait
from treadctl.safety.errors import HeartRateRefusal, SafetyRefusal
from treadctl.safety.events import LatchReason
from treadctl.safety.governor import Governor
from treadctl.safety.heart_rate import (
    HARD_WINDOW_S,
    RAMP_DOWN_MAX_S,
    SIGNAL_TIMEOUT_S,
    HeartRateGuard,
    HeartRateLimits,
)
from treadctl.safety.phases import Phase

FINE = DeviceInfo("fine", "fine", SpeedRange(10, 1800, 10), InclineRange(0, 150, 5))
LIMITS = HeartRateLimits(150)  # soft 105, hard 120
SOFT, HARD = LIMITS.soft_bpm, LIMITS.hard_bpm
T0 = 100.0
FUZZ = os.environ.get("TREADCTL_HYPOTHESIS") == "fuzz"


def strap(at: float, bpm: int, contact: SensorContact = SensorContact.DETECTED) -> HeartRateSample:
    return HeartRateSample(at, bpm, contact, HeartRateSource.STRAP)


def drain(gov: Governor, now: float) -> list[Command]:
    sent: list[Command] = []
    while not isinstance(action := gov.next_action(now), Wait):
        sent.append(action)
        gov.completed(action, now)
    return sent


def running_with_guard(target: int = 300, bpm: int = 90) -> tuple[Governor, float]:
    gov = Governor(info=FINE, heart_rate=HeartRateGuard(LIMITS, now=T0))
    gov.observe(Reading(at=T0, speed=0))
    gov.observe_heart_rate(strap(T0, bpm))
    gov.start(target, T0)
    drain(gov, T0)
    gov.observe(Reading(at=T0 + 1, speed=100))
    assert gov.phase == Phase.RUNNING
    return gov, T0 + 1


def walk(gov: Governor, start: float, seconds: float, bpm: int | None) -> list[Command]:
    """``seconds`` of 0.5 s steps: readings at the commanded speed, a strap value per second."""
    sent: list[Command] = []
    t = start
    while t < start + seconds - 1e-9:
        t += 0.5
        gov.observe(Reading(at=t, speed=gov.state().commanded_speed or 0))
        if bpm is not None and abs(t - round(t)) < 1e-9:
            gov.observe_heart_rate(strap(t, bpm))
        sent += drain(gov, t)
    return sent


def speeds(cmds: list[Command]) -> list[int]:
    """The speeds of the Set Target Speed commands (each carries one)."""
    values: list[int] = []
    for c in cmds:
        if isinstance(c, SetSpeed):
            values.append(c.value)
    return values


# ----------------------------------------------------------------------------- scenarios
def test_without_a_guard_nothing_changes() -> None:
    gov = Governor(info=FINE)
    gov.observe(Reading(at=T0, speed=0))
    gov.start(150, T0)
    drain(gov, T0)
    gov.observe(Reading(at=T0 + 1, speed=100))
    gov.observe_heart_rate(strap(T0 + 1, 200))  # ignored: no guard
    assert speeds(walk(gov, T0 + 1, 10, None))[-1] == 150
    assert gov.state().heart_rate_hold is None


def test_ramp_holds_at_the_soft_limit_and_goes_on_below_it() -> None:
    gov, t = running_with_guard()
    sent = walk(gov, t, 5, 95)
    assert speeds(sent) == [110, 120, 130, 140, 150]
    held = walk(gov, t + 5, 10, 110)
    assert speeds(held) == []
    assert "soft limit 105" in (gov.state().heart_rate_hold or "")
    resumed = walk(gov, t + 15, 4, 100)  # the first value below only after a second one
    assert speeds(resumed) == [160, 170, 180]


def test_a_255_spike_does_nothing() -> None:
    gov, t = running_with_guard()
    gov.observe_heart_rate(strap(t + 0.5, 255))
    assert speeds(walk(gov, t, 3, 95)) == [110, 120, 130]
    assert gov.heart_rate is not None
    assert gov.heart_rate.filtered["too_high"] == 1


def test_contact_lost_mid_ramp_holds_and_nothing_restarts_by_itself() -> None:
    gov, t = running_with_guard()
    walk(gov, t, 2, 95)
    gov.observe_heart_rate(strap(t + 2.2, 0, SensorContact.NOT_DETECTED))
    assert speeds(walk(gov, t + 2, 6, None)) == []
    assert "no skin contact" in (gov.state().heart_rate_hold or "")
    assert gov.phase == Phase.RUNNING  # a hold is not a stop
    assert speeds(walk(gov, t + 8, 3, 95)) == [130, 140]  # two values to confirm, then on


def test_signal_loss_holds_after_the_timeout() -> None:
    gov, t = running_with_guard()
    walk(gov, t, 1, 95)
    sent = walk(gov, t + 1, 10, None)
    assert len(speeds(sent)) <= SIGNAL_TIMEOUT_S + 1
    assert "no plausible heart rate" in (gov.state().heart_rate_hold or "")


def test_hard_limit_ramps_down_then_stops_and_latches() -> None:
    gov, t = running_with_guard(target=300)
    walk(gov, t, 20, 95)  # at 3.0 km/h
    assert gov.state().commanded_speed == 300
    sent = walk(gov, t + 20, 20, 125)
    values = speeds(sent)
    assert values[0] == 290  # after the 5 s window: ramping down ...
    assert values == sorted(values, reverse=True)
    stops = [c for c in sent if c.kind == CommandKind.STOP]
    assert len(stops) == 1  # ... then one Stop, at most 10 s later
    assert gov.latch is LatchReason.HEART_RATE
    gov.observe(Reading(at=t + 40, speed=0))
    gov.observe_heart_rate(strap(t + 40, 124))
    with pytest.raises(HeartRateRefusal, match="hard limit"):
        gov.start(150, t + 40)
    gov.observe_heart_rate(strap(t + 41, 100))  # rested: an explicit start is allowed again
    gov.start(150, t + 41)


def test_incline_rise_is_held_too() -> None:
    gov, t = running_with_guard(target=100)
    gov.set_incline(50, t)
    gov.observe_heart_rate(strap(t + 0.5, 110))
    sent = walk(gov, t, 90, 110)
    assert [c for c in sent if c.kind == CommandKind.SET_INCLINE] == []


# ----------------------------------------------------------------------------- properties
class HeartRateMachine(RuleBasedStateMachine):
    """A running belt, a walker whose true heart rate wanders, and a faulty strap."""

    @initialize(speed=st.integers(150, 300), bpm=st.integers(60, 130))
    def setup(self, speed: int, bpm: int) -> None:
        self.gov = Governor(info=FINE, heart_rate=HeartRateGuard(LIMITS, now=T0))
        self.now = T0
        self.true_bpm = bpm
        self.last_true: tuple[float, int] | None = None
        self.contact = True
        self.connected = True
        self.over_since: float | None = None
        self.stop_sent_at: float | None = None
        self.belt = 0
        self.gov.observe(Reading(at=self.now, speed=0))
        self._true_sample()
        try:
            self.gov.start(speed, self.now)
        except HeartRateRefusal:
            return
        self._drain()
        self.belt = self.gov.state().commanded_speed or 0

    def _true_sample(self) -> None:
        self.gov.observe_heart_rate(strap(self.now, self.true_bpm))
        self.last_true = (self.now, self.true_bpm)
        self.contact = self.connected = True
        if self.true_bpm >= HARD:
            self.over_since = self.over_since if self.over_since is not None else self.now
        else:
            self.over_since = None

    def _may_increase(self) -> bool:
        fresh = self.last_true is not None and self.now - self.last_true[0] <= SIGNAL_TIMEOUT_S
        return (
            fresh
            and self.contact
            and self.connected
            and self.last_true is not None
            and self.last_true[1] < SOFT
        )

    def _drain(self) -> None:
        while not isinstance(action := self.gov.next_action(self.now), Wait):
            st_ = self.gov.state()
            if isinstance(action, SetSpeed) and self.gov.phase == Phase.RUNNING:
                previous = st_.commanded_speed
                if previous is not None and action.value > previous:
                    assert self._may_increase(), f"speed rise {previous}->{action.value}"
            if isinstance(action, SetIncline):
                previous = st_.commanded_incline
                base = previous if previous is not None else 0  # FINE's minimum incline
                rising = action.value > base
                if rising:
                    assert self._may_increase(), "incline rise while the guard should hold"
            if action.kind == CommandKind.STOP:
                self.stop_sent_at = self.now
            self.gov.completed(action, self.now)

    @rule(dt=st.sampled_from([0.2, 0.5, 1.0, 1.0, 1.0, 2.0, 3.0]))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        running = self.gov.phase in (Phase.RUNNING, Phase.STARTING)
        self.belt = (self.gov.state().commanded_speed or 0) if running else 0
        self.gov.observe(Reading(at=self.now, speed=self.belt))
        self._drain()

    @rule(step=st.integers(-10, 10))
    def heart_beats(self, step: int) -> None:
        self.true_bpm = max(50, min(200, self.true_bpm + step))
        self._true_sample()
        self._drain()

    @rule(bpm=st.integers(100, 150))
    def exertion(self, bpm: int) -> None:
        """The walker's heart rate settles at ``bpm`` over the next seconds."""
        while self.true_bpm != bpm:
            self.true_bpm += max(-10, min(10, bpm - self.true_bpm))
            self.now += 1.0
            self.gov.observe(Reading(at=self.now, speed=self.belt))
            self._true_sample()
            self._drain()

    @rule(bpm=st.sampled_from([0, 255, 250, 231]))
    def spike(self, bpm: int) -> None:
        self.gov.observe_heart_rate(strap(self.now, bpm))
        self._drain()

    @rule()
    def contact_lost(self) -> None:
        self.gov.observe_heart_rate(strap(self.now, 0, SensorContact.NOT_DETECTED))
        self.contact = False
        self._drain()

    @rule(up=st.booleans())
    def sensor_link(self, up: bool) -> None:
        self.gov.observe_heart_rate(SensorStatus(self.now, HeartRateSource.STRAP, up))
        self.connected = up
        if not up:
            self.contact = True
        self._drain()

    @rule(speed=st.integers(100, 300))
    def new_target(self, speed: int) -> None:
        try:
            self.gov.set_speed(speed, self.now)
        except SafetyRefusal:
            return
        self._drain()

    @rule(incline=st.integers(0, 100))
    def new_incline(self, incline: int) -> None:
        try:
            self.gov.set_incline(incline, self.now)
        except SafetyRefusal:
            return
        self._drain()

    def teardown(self) -> None:
        if hasattr(self, "gov"):
            event(f"latch {self.gov.latch.value if self.gov.latch else None}")
            event("held" if self.gov.state().heart_rate_hold else "free at the end")
            event(f"phase {self.gov.phase.value}")

    @invariant()
    def hard_limit_ends_in_a_stop(self) -> None:
        if self.over_since is None or self.last_true is None:
            return
        if self.now - self.over_since <= HARD_WINDOW_S + RAMP_DOWN_MAX_S + 3.0:
            return
        moving = self.gov.phase != Phase.STOPPED or self.belt > 0
        if moving:
            assert self.gov.latch is not None, "hard limit passed without a latch"
            # The Stop may belong to an earlier episode over the hard limit: the latch it set
            # still holds (only an explicit start clears it; this machine starts once), so the
            # belt is already being stopped and nothing may be sent again.
            assert self.stop_sent_at is not None


TestHeartRateMachine = HeartRateMachine.TestCase
TestHeartRateMachine.settings = settings(
    max_examples=2_000 if FUZZ else 300, stateful_step_count=60, deadline=None
)


def test_a_persons_rise_is_refused_while_holding_a_fall_is_not() -> None:
    gov, t = running_with_guard(target=150)
    walk(gov, t, 6, 110)
    with pytest.raises(HeartRateRefusal, match="soft limit"):
        gov.request_speed(160, t + 6)
    assert gov.state().target_speed == 150  # nothing changed
    assert gov.request_speed(140, t + 6) == 140  # slowing down is always allowed


def test_removing_the_guard_leaves_no_hold_behind() -> None:
    gov, t = running_with_guard(target=150)
    walk(gov, t, 3, 110)
    assert gov.state().heart_rate_hold is not None
    gov.heart_rate = None  # a session for someone without heart-rate limits
    assert speeds(walk(gov, t + 3, 2, None)) == [110, 120]
    st = gov.state()
    assert (st.heart_rate_hold, st.heart_rate_hold_kind, st.heart_rate_bpm) == (None, None, None)
