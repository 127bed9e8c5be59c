"""Stateful property test of the whole control path: SessionRunner + GovernedTreadmill + an
in-memory port, under random sequences of profile loads, starts, pauses, resumes, skips, stops,
nudges, emergency stops, console actions, disconnects, command failures and telemetry (honest,
silent, or a device lying about its speed).

Checked after every step, over everything the port received:
- no speed setpoint above the cap in force (user/handrail-free/profile) nor 4.0 km/h;
- within a run, no speed rise faster than 0.1 km/h per second;
- Start only after a person's start()/resume() that no safety event followed, once each, and
  only while the last reading showed a still belt;
- refusals are typed (SafetyRefusal / ProfileRefusedError), never anything else;
- a finished or aborted session has a summary; a running one has none.

CI runs SESSION_SEQUENCES sequences; with GOVERNED_SEQUENCES in test_governed_stateful.py that
is >= 5,000 random sequences per CI run. TREADCTL_HYPOTHESIS=fuzz runs many more.
"""

from __future__ import annotations

import asyncio
import os

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.control.fakes import FINE, PAD, FakeClock, FakePort
from tests.control.fakes import echo_of_own_command as _echo
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.profile_fit import ProfileRefusedError
from treadctl.control.session import SessionRunner
from treadctl.control.session_states import TERMINAL, SessionState
from treadctl.observations import DeviceInfo, EventKind
from treadctl.safety import limits as L
from treadctl.safety.errors import SafetyRefusal
from treadctl.safety.events import DEVICE_SAFETY_EVENTS
from treadctl.workout.loader import load_profile_text
from treadctl.workout.models import Profile

FUZZ = os.environ.get("TREADCTL_HYPOTHESIS") == "fuzz"
SESSION_SEQUENCES = 20_000 if FUZZ else int(os.environ.get("SESSION_SEQ", "2000"))
EPS = 1e-6

HEAD = """\
name: {name}
description: test
audience: tests
level: beginner
needs_handrails: {rails}
cap_kmh: {cap}
segments:
"""


def _seg(kind: str, duration: str, **extra: object) -> str:
    body = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return f"  - kind: {kind}\n    duration: {duration}\n{body}"


PROFILES: list[Profile] = [
    load_profile_text(
        HEAD.format(name="p-rest", rails="true", cap=2.0)
        + _seg("backward", "3 min", speed_kmh=1.0)
        + _seg("backward", "2 min", speed_kmh=1.5)
        + _seg("rest", "1 min", belt="stopped")
        + _seg("backward", "1 min", speed_kmh=1.2)
    ),
    load_profile_text(
        HEAD.format(name="p-min", rails="false", cap=1.5)
        + _seg("backward", "3 min", speed_kmh=1.5)
        + _seg("rest", "1 min", belt="minimum")
        + _seg("backward", "2 min", speed_kmh=1.5)
    ),
    load_profile_text(
        HEAD.format(name="p-incline", rails="true", cap=1.5)
        + _seg("backward", "2 min", speed_kmh=1.0)
        + _seg("backward", "3 min", speed_kmh=1.0, incline_percent=2)
        + _seg("rest", "1 min", belt="stopped")
        + _seg("backward", "2 min", speed_kmh=1.0, incline_percent=2)
    ),
    load_profile_text(
        HEAD.format(name="p-slow", rails="true", cap=1.0)
        + _seg("backward", "3 min", speed_kmh=0.3)
        + _seg("backward", "2 min", speed_kmh=0.8)
    ),
]


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.checked = 0
        self.permit = False
        self.run_permit = False
        self.run_prev: tuple[float, int] | None = None
        self.first_in_run = True
        self.last_reported: tuple[float, int] | None = None
        self.profile_cap: int | None = None
        self.lie = "honest"
        self.stuck_at = 0
        self.silent = False
        self.states: set[SessionState] = set()

    @initialize(
        device=st.sampled_from([PAD, FINE]),
        user_cap=st.sampled_from([150, 200, 300]),
        handrails=st.booleans(),
        profile=st.integers(0, len(PROFILES) - 1),
        go=st.sampled_from([True, True, True, False]),
    )
    def setup(
        self, *, device: DeviceInfo, user_cap: int, handrails: bool, profile: int, go: bool
    ) -> None:
        self.port = FakePort(clock=self.clock, info=device)
        self.limits = L.Limits(user_speed_cap=user_cap, handrails=handrails)
        self.belt = GovernedTreadmill(self.port, self.limits, clock=self.clock)
        self.runner = SessionRunner(self.belt, clock=self.clock)
        self._report(None)
        if go:  # many sequences begin with a session under way (the first profile that fits)
            for i in range(len(PROFILES)):
                self.arm((profile + i) % len(PROFILES))
                if self.runner.state == SessionState.ARMING:
                    break
            self.start()
            self.time_passes(2.0)

    def teardown(self) -> None:
        self.loop.close()
        for state in sorted(self.states, key=lambda s: s.value):
            event(f"reached {state.value}")

    # ------------------------------------------------------------------ plumbing

    @property
    def cap(self) -> int:
        cap = self.limits.speed_cap
        return cap if self.profile_cap is None else min(cap, self.profile_cap)

    def _settle(self) -> None:
        self.loop.run_until_complete(self.belt.pump())
        self.runner.tick()
        self.loop.run_until_complete(self.belt.pump())
        self._check()

    def _report(self, lie: int | None) -> None:
        reading = self.port.reading(lie)
        assert reading.speed is not None
        self.last_reported = (reading.at, reading.speed)
        if reading.speed > self.belt.state().speed_cap + self._increment:
            self.permit = False
            self.run_permit = False
        self.runner.observe(reading)
        self._settle()

    @property
    def _increment(self) -> int:
        rng = self.port.info.speed_range
        assert rng is not None
        return rng.increment

    def _check(self) -> None:
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
                assert (v - rng.minimum) % rng.increment == 0
                if self.first_in_run:
                    assert v <= max(L.START_SPEED, rng.minimum)
                    self.first_in_run = False
                elif self.run_prev is not None and v > self.run_prev[1]:
                    t0, v0 = self.run_prev
                    rate = self.limits.acceleration_centi_per_s
                    assert v - v0 <= rate * (sent.at - t0) + EPS, f"{v0}->{v} in {sent.at - t0}"
                self.run_prev = (sent.at, v)
            elif sent.kind == "start":
                assert self.permit, "Start without a new explicit start/resume"
                self.permit = False
                assert self.last_reported is not None
                at, speed = self.last_reported
                assert speed == 0, f"Start while the belt reports {speed}"
                assert sent.at - at <= self.limits.stale_telemetry_s
        if self.belt.state().latch is not None:
            self.permit = False
            self.run_permit = False
        self.states.add(self.runner.state)

    def _person(self, action: str, *args: int) -> bool:
        """Call a person's command; only typed refusals may come back. True if accepted."""
        try:
            getattr(self.runner, action)(*args)
        except (SafetyRefusal, ProfileRefusedError) as exc:
            event(f"{action} refused: {type(exc).__name__}")
            return False
        return True

    # ------------------------------------------------------------------ people

    @rule(profile=st.integers(0, len(PROFILES) - 1))
    def arm(self, profile: int) -> None:
        if self._person("arm", PROFILES[profile]):  # type: ignore[arg-type]
            self.profile_cap = PROFILES[profile].cap
        self._settle()

    def _explicit(self, action: str) -> None:
        if self._person(action) and self.runner.state == SessionState.STARTING:
            self.permit = True
            self.run_permit = True
            self.first_in_run = True
            self.run_prev = None
        self._settle()

    @rule()
    def start(self) -> None:
        self._explicit("start")

    @rule()
    def resume(self) -> None:
        self._explicit("resume")

    @rule()
    def pause(self) -> None:
        if self._person("pause"):
            self.permit = False
            self.run_permit = False
        self._settle()

    @rule()
    def skip(self) -> None:
        self._person("skip")
        self._settle()

    @rule()
    def stop(self) -> None:
        if self._person("stop"):
            self.permit = False
            self.run_permit = False
        self._settle()

    @rule()
    def emergency(self) -> None:
        before = len(self.port.log)
        self.runner.emergency_stop()
        self.permit = False
        self.run_permit = False
        self._settle()
        if self.port.connected:
            kinds = [s.kind for s in self.port.log[before:]]
            assert kinds[:1] in (["stop"], ["request_control"]), kinds

    @rule(delta=st.sampled_from([-50, -10, 10, 20]))
    def nudge(self, delta: int) -> None:
        self._person("nudge", delta)
        self._settle()

    # ------------------------------------------------------------------ device and time

    @rule(dt=st.sampled_from([1.0, 2.0, 5.0, 10.0, 30.0, 61.0, 90.0]))
    def time_passes(self, dt: float) -> None:
        """Time passes; the device reports every 2 s (under the 3 s stale limit) unless
        silent or disconnected."""
        remaining = dt
        while remaining > 0:
            step = min(2.0, remaining)
            remaining -= step
            self.clock.advance(step)
            self.port.tick()
            if self.port.connected and not self.silent:
                true = self.port.belt_speed
                lie = {
                    "mph": true * 1609 // 1000,
                    "stuck": self.stuck_at,
                    "zero": 0,
                }.get(self.lie)
                self._report(lie)
            else:
                self._settle()

    @rule(lie=st.sampled_from(["honest", "honest", "mph", "stuck", "zero"]), at=st.integers(0, 600))
    def device_lies(self, lie: str, at: int) -> None:
        self.lie, self.stuck_at = lie, at

    @rule(silent=st.booleans())
    def telemetry_silence(self, silent: bool) -> None:
        self.silent = silent

    @rule(kind=st.sampled_from(DEVICE_SAFETY_EVENTS))
    def safety_event(self, kind: EventKind) -> None:
        if not self.port.connected:
            return  # a gone device sends nothing (no precondition: they slow generation)
        self.permit = False
        self.run_permit = False
        active = self.runner.state in (SessionState.STARTING, SessionState.RUNNING)
        echo = _echo(self.port, kind)
        self.runner.observe(self.port.event(kind))
        self._settle()
        if active and not echo:
            assert self.runner.state in (SessionState.PAUSED, SessionState.ABORTED)

    @rule()
    def reconnect(self) -> None:
        if self.port.connected:
            return
        self.runner.observe(self.port.event(EventKind.CONNECTED))
        self._settle()

    @rule(kind=st.sampled_from(["request_control", "set_speed", "start", "stop", "set_incline"]))
    def command_will_fail(self, kind: str) -> None:
        self.port.fail_next.add(kind)

    @invariant()
    def summary_iff_terminal(self) -> None:
        terminal = self.runner.state in TERMINAL
        assert (self.runner.summary is not None) == terminal


SessionMachine.TestCase.settings = settings(
    max_examples=SESSION_SEQUENCES, stateful_step_count=15, deadline=None
)
TestSessionRunner = SessionMachine.TestCase
