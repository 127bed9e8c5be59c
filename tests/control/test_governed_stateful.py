"""Stateful property test: random sequences of requests, pauses, console actions, disconnects,
command failures and telemetry (honest and lying) against GovernedTreadmill + an in-memory port.

After every step, over everything the port received:
- no speed setpoint above the effective cap (nor the absolute 4.0 km/h), none off the device grid;
- within one run, no speed rise faster than 0.1 km/h per second; the first setpoint of a run is
  the start speed (<= 1.0 km/h or the device minimum);
- speed and incline never raised within the same minute;
- Start only after an explicit start that no safety event has followed, once per explicit start,
  never while the belt is moving (by the last reading) nor on stale telemetry;
- over-cap requests are refused with LimitExceededError, never clamped;
- an overspeed reading always leads to a Stop being sent.

CI runs GOVERNED_SEQUENCES sequences (tests/conftest.py "ci"); TREADCTL_HYPOTHESIS=fuzz runs more.
"""

from __future__ import annotations

import asyncio
import os

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from tests.control.fakes import FINE, PAD, FakeClock, FakePort
from tests.control.fakes import echo_of_own_command as _echo
from treadctl.control.governed import GovernedTreadmill
from treadctl.observations import DeviceInfo, EventKind
from treadctl.safety import limits as L
from treadctl.safety.errors import (
    BelowDeviceMinimumError,
    BeltStateError,
    LatchedError,
    LimitExceededError,
    NotSupportedError,
    NudgeRefusedError,
    SafetyRefusal,
)
from treadctl.safety.events import DEVICE_SAFETY_EVENTS, LatchReason
from treadctl.safety.phases import Phase

FUZZ = os.environ.get("TREADCTL_HYPOTHESIS") == "fuzz"
GOVERNED_SEQUENCES = 20_000 if FUZZ else int(os.environ.get("SEQ", "3000"))
EPS = 1e-6


class GovernedMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.checked = 0
        self.ramped = False
        self.silent = False
        self.lie = "honest"
        self.stuck_at = 0
        self.permit = False  # an explicit start not yet consumed or cancelled by a safety event
        self.run_permit = (
            False  # speed/incline writes allowed: explicit start, no safety event since
        )
        self.overspeed_pending = False
        self.run_prev: tuple[float, int] | None = None  # last speed setpoint of the current run
        self.first_in_run = True
        self.last_speed_raise = float("-inf")
        self.last_incline_raise = float("-inf")
        self.last_manual_raise = float("-inf")
        self.last_incline: int | None = None
        self.last_reported: tuple[float, int | None] | None = None

    @initialize(
        device=st.sampled_from([PAD, FINE]),
        user_cap=st.integers(50, L.DEFAULT_USER_SPEED_CAP) | st.just(L.DEFAULT_USER_SPEED_CAP),
        handrails=st.booleans(),
        running_at=st.none() | st.integers(0, 400),
        incline=st.none() | st.integers(0, 100),
        settle=st.sampled_from([2.0, 90.0]),
    )
    def setup(
        self,
        *,
        device: DeviceInfo,
        user_cap: int,
        handrails: bool,
        running_at: int | None,
        incline: int | None,
        settle: float,
    ) -> None:
        """A fresh connection; most sequences begin with the belt already running (explicit
        start at ``running_at``, clamped into what is allowed, and a few seconds of data)."""
        self.port = FakePort(clock=self.clock, info=device)
        self.limits = L.Limits(user_speed_cap=user_cap, handrails=handrails)
        self.gt = GovernedTreadmill(self.port, self.limits, clock=self.clock)
        self.profile_cap: int | None = None
        self.last_incline = device.incline_range.minimum if device.incline_range else None
        reading = self.port.reading()
        self.last_reported = (reading.at, reading.speed)
        self._feed(reading)
        rng = device.speed_range
        assert rng is not None
        if running_at is not None and self.cap >= rng.minimum:
            if device.incline_range is None:
                incline = None
            self.explicit_start(max(rng.minimum, min(running_at, self.cap)), incline)
            self.time_passes(settle)

    def teardown(self) -> None:
        self.loop.close()
        if hasattr(self, "port"):
            kinds = {s.kind for s in self.port.log}
            event("sent Start" if "start" in kinds else "no Start")
            if self.ramped:
                event("ramped up within a run")
            if self.last_incline_raise > float("-inf"):
                event("raised incline")

    # ------------------------------------------------------------------ helpers

    @property
    def cap(self) -> int:
        cap = self.limits.speed_cap
        return cap if self.profile_cap is None else min(cap, self.profile_cap)

    def _feed(self, obs: object) -> None:
        self.gt.observe(obs)  # type: ignore[arg-type]
        self._pump()

    def _pump(self) -> None:
        self.loop.run_until_complete(self.gt.pump())
        self._check_new_commands()
        if self.gt.state().latch is not None:
            self.permit = False
            self.run_permit = False

    def _check_new_commands(self) -> None:
        rng = self.port.info.speed_range
        assert rng is not None
        for sent in self.port.log[self.checked :]:
            self.checked += 1
            if sent.kind in ("set_speed", "set_incline"):
                assert self.run_permit, f"{sent.kind} after a safety event or a stop"
            if sent.kind == "set_speed":
                v = sent.value
                assert v is not None
                assert v <= L.ABSOLUTE_SPEED_CAP
                assert v <= self.cap, f"setpoint {v} above cap {self.cap}"
                assert rng.minimum <= v <= rng.maximum
                assert (v - rng.minimum) % rng.increment == 0, "off the device grid"
                if self.first_in_run:
                    assert v <= max(L.START_SPEED, rng.minimum), "start speed too high"
                    self.first_in_run = False
                    self.last_speed_raise = sent.at
                elif self.run_prev is not None:
                    t0, v0 = self.run_prev
                    if v > v0:
                        rate = self.limits.acceleration_centi_per_s
                        assert v - v0 <= rate * (sent.at - t0) + EPS, (
                            f"ramp {v0}->{v} in {sent.at - t0:.3f} s"
                        )
                        assert sent.at - self.last_incline_raise >= L.SPEED_INCLINE_SEPARATION_S
                        self.last_speed_raise = sent.at
                        self.ramped = True
                self.run_prev = (sent.at, v)
            elif sent.kind == "set_incline":
                v = sent.value
                assert v is not None
                assert v <= L.INCLINE_CAP
                if self.last_incline is not None and v > self.last_incline:
                    assert sent.at - self.last_speed_raise >= L.SPEED_INCLINE_SEPARATION_S - EPS
                    self.last_incline_raise = sent.at
                self.last_incline = v
            elif sent.kind == "start":
                assert self.permit, "Start without a new explicit start after a safety event"
                self.permit = False
                assert self.last_reported is not None
                at, speed = self.last_reported
                assert speed == 0, f"Start while the belt reports {speed}"
                assert sent.at - at <= self.limits.stale_telemetry_s, "Start on stale telemetry"
            elif sent.kind in ("stop", "pause", "request_control"):
                # Acting on an overspeed: a Stop attempt (maybe preceded by Request Control,
                # which the retries after an injected failure follow up).
                self.overspeed_pending = False
        if self.overspeed_pending and self.port.connected:
            raise AssertionError("overspeed reading did not lead to a Stop")

    # ------------------------------------------------------------------ rules: people

    @rule(
        speed=st.integers(0, 500) | st.sampled_from([100, 150, 200, 250]),
        incline=st.none() | st.integers(0, 120),
    )
    def explicit_start(self, speed: int, incline: int | None) -> None:
        refusal: SafetyRefusal | None = None
        try:
            self.gt.start(speed, incline=incline)
        except SafetyRefusal as exc:
            refusal = exc
        if isinstance(refusal, LimitExceededError):
            if refusal.quantity == "speed":
                assert refusal.requested == speed
                assert speed > refusal.limit
            else:
                assert incline is not None
                assert incline > refusal.limit
            return
        if refusal is not None:
            assert isinstance(
                refusal, BelowDeviceMinimumError | BeltStateError | NotSupportedError
            ), refusal
            event(f"start refused: {type(refusal).__name__}")
            return
        assert speed <= self.cap, "an over-cap start was accepted"
        self.permit = True
        self.run_permit = True
        self.first_in_run = True
        self.run_prev = None
        self._pump()

    @rule(speed=st.integers(0, 500) | st.sampled_from([100, 150, 200, 250, 300]))
    def request_speed(self, speed: int) -> None:
        before = self.gt.state()
        refusal: SafetyRefusal | None = None
        target = None
        try:
            target = self.gt.set_speed(speed)
        except SafetyRefusal as exc:
            refusal = exc
        if isinstance(refusal, LimitExceededError):
            assert refusal.requested == speed
            assert speed > refusal.limit
            assert speed > self.cap or refusal.limit_name == "device maximum"
            return
        if isinstance(refusal, LatchedError):
            assert before.latch is not None
            return
        if refusal is not None:
            assert isinstance(refusal, BelowDeviceMinimumError | BeltStateError), refusal
            return
        assert speed <= self.cap, "an over-cap request was accepted"
        assert target is not None
        assert target <= speed, "rounding raised the speed"
        self._pump()

    @rule(
        delta=st.sampled_from([-50, -10, 5, 10, 20, 50]),
        absolute=st.none() | st.integers(0, 500),
    )
    def person_sets_speed(self, delta: int, absolute: int | None) -> None:
        """A person's speed change (``request_speed``): besides the caps, never above what was
        asked, a rise of at most +0.1 km/h (or one coarser device step) at a time and per
        minute, none in the first 3 minutes after the belt started moving."""
        before = self.gt.state()
        speed = absolute if absolute is not None else (before.target_speed or 0) + delta
        if speed < 0:
            return
        now = self.clock.now()
        refusal: SafetyRefusal | None = None
        try:
            target = self.gt.request_speed(speed)
        except SafetyRefusal as exc:
            refusal = exc
        if isinstance(refusal, NudgeRefusedError):
            event(f"person's speed refused: {refusal.reason}")
        if isinstance(refusal, LimitExceededError):
            assert speed > refusal.limit
        if refusal is not None:
            assert isinstance(
                refusal,
                NudgeRefusedError
                | LimitExceededError
                | LatchedError
                | BelowDeviceMinimumError
                | BeltStateError,
            ), refusal
            return
        assert target <= speed, "rounding raised the speed"
        previous = before.target_speed
        assert previous is not None
        if target > previous:
            rng = self.port.info.speed_range
            assert rng is not None
            rise = target - previous
            assert rise <= max(L.NUDGE_MAX_CENTI, rng.increment), f"{previous}->{target}"
            wait = max(L.NUDGE_INTERVAL_S, L.NUDGE_INTERVAL_S * rise / L.NUDGE_MAX_CENTI)
            assert now - self.last_manual_raise >= wait - EPS, "manual rises too fast"
            assert before.phase == Phase.RUNNING
            assert before.running_since is not None
            assert now - before.running_since >= L.NO_INCREASE_AT_BLOCK_START_S - EPS
            self.last_manual_raise = now
            event("person's speed rise accepted")
        self._pump()

    @rule(incline=st.integers(-20, 150))
    def request_incline(self, incline: int) -> None:
        try:
            self.gt.set_incline(incline)
        except SafetyRefusal:
            return
        assert 0 <= incline <= L.INCLINE_CAP
        self._pump()

    @rule(cap=st.none() | st.integers(50, 400))
    def profile_cap_change(self, cap: int | None) -> None:
        self.gt.set_profile_cap(cap)
        self.profile_cap = cap
        self._pump()

    @rule(pause=st.booleans())
    def person_stop(self, pause: bool) -> None:
        self.gt.stop(pause=pause)
        self.permit = False  # the start it answered is over
        self.run_permit = False
        self._pump()

    @rule()
    def emergency(self) -> None:
        self.gt.emergency_stop()
        self.permit = False
        self.run_permit = False
        self._pump()
        if self.port.connected:
            assert self.port.log[-1].kind in ("stop", "request_control")

    # ------------------------------------------------------------------ rules: device, time

    @rule(dt=st.sampled_from([0.2, 0.5, 1.0, 2.0, 2.9, 4.0, 5.0, 10.0, 61.0, 181.0]))
    def time_passes(self, dt: float) -> None:
        """Time passes; a connected, talking device sends Treadmill Data about once a second
        (docs/references.md#ftms-devices), honest or lying according to ``lie``."""
        remaining = dt
        while remaining > 0:
            step = min(1.0, remaining)
            remaining -= step
            self.clock.advance(step)
            self.port.tick()
            if self.port.connected and not self.silent:
                self._report(self._lie_value())
            else:
                self._pump()

    def _lie_value(self) -> int | None:
        true = self.port.belt_speed
        if self.lie == "mph":
            return true * 1609 // 1000  # a device confusing mph and km/h
        if self.lie == "stuck":
            return self.stuck_at
        if self.lie == "zero":
            return 0
        return None

    def _report(self, lie: int | None) -> None:
        reading = self.port.reading(lie)
        speed = reading.speed
        assert speed is not None
        self.last_reported = (reading.at, speed)
        threshold = self.gt.state().speed_cap + self.port.info.speed_range.increment  # type: ignore[union-attr]
        if speed > threshold:
            self.permit = False
            self.run_permit = False
            if self.gt.state().latch is not LatchReason.OVERSPEED:
                self.overspeed_pending = True
        self._feed(reading)

    @rule(silent=st.booleans())
    def telemetry_silence(self, silent: bool) -> None:
        self.silent = silent

    @rule(lie=st.sampled_from(["honest", "mph", "stuck", "zero"]), stuck_at=st.integers(0, 700))
    def device_lies(self, lie: str, stuck_at: int) -> None:
        self.lie = lie
        self.stuck_at = stuck_at

    @rule()
    def honest_reading(self) -> None:
        if not self.port.connected:
            return
        self._report(None)

    @rule(speed=st.integers(0, 700))
    def lying_reading(self, speed: int) -> None:
        if not self.port.connected:
            return
        self._report(speed)

    @rule(speed=st.sampled_from([100, 150]))
    def console_start_then_explicit_start(self, speed: int) -> None:
        """A person asks for a start while the belt is still; before the governor's Start goes
        out, someone starts the belt at the console (the reading arrives first)."""
        if not self.port.connected:
            return
        try:
            self.gt.start(speed)
        except SafetyRefusal:
            return
        self.permit = True
        self.run_permit = True
        self.first_in_run = True
        self.run_prev = None
        self.port.running = True
        self.port.belt_speed = max(self.port.belt_speed, 100)
        self.gt.observe(self.port.event(EventKind.CONSOLE_START))
        self._report(None)  # this feeds the moving reading, then pumps

    @rule(kind=st.sampled_from(DEVICE_SAFETY_EVENTS))
    def safety_event(self, kind: EventKind) -> None:
        if not self.port.connected:
            return  # a gone device sends nothing (no precondition: they slow generation)
        self.permit = False
        self.run_permit = False
        echo = _echo(self.port, kind)
        self._feed(self.port.event(kind))
        assert self.gt.state().latch is not None or echo

    @rule()
    def reconnect(self) -> None:
        if self.port.connected:
            return
        self._feed(self.port.event(EventKind.CONNECTED))

    @rule(kind=st.sampled_from(["request_control", "set_speed", "start", "stop", "set_incline"]))
    def command_will_fail(self, kind: str) -> None:
        self.port.fail_next.add(kind)

    @invariant()
    def never_above_absolute(self) -> None:
        st_ = self.gt.state()
        assert st_.speed_cap <= L.ABSOLUTE_SPEED_CAP
        if st_.commanded_speed is not None and st_.phase == Phase.RUNNING:
            assert st_.commanded_speed <= max(self.cap, 0) or st_.latch is not None


GovernedMachine.TestCase.settings = settings(
    max_examples=GOVERNED_SEQUENCES, stateful_step_count=15, deadline=None
)
TestGovernedTreadmill = GovernedMachine.TestCase
