"""The governor: a sans-IO state machine deciding every command that may reach the belt.

It holds no I/O. Callers (``treadctl.control.governed.GovernedTreadmill``) feed it explicit
requests, observations (FTMS Treadmill Data §4.4 and Fitness Machine Status §4.17 as reduced by
``treadctl.observations``) and the time, then ask :meth:`Governor.next_action` what to send; it
answers with a :class:`Command` (one at a time, FTMS §4.16.3 allows one procedure at a time) or a
:class:`Wait`. The sender reports back with :meth:`Governor.completed`.

Guarantees (each one is property-tested in tests/control and tests/safety):

- no speed setpoint above the effective cap (absolute 4.0, user, handrail-free, profile, device);
- consecutive speed setpoints differ by at most ``acceleration * elapsed`` (ramp), on the device
  grid, rounded down, never below the device minimum;
- speed and incline are never raised within the same minute;
- Start (FTMS op 0x07) only after an explicit :meth:`start` and only while the belt is known to be
  at 0 with fresh telemetry; never twice for one :meth:`start`;
- after a safety event the governor is *latched*: nothing but Request Control / Stop / Pause goes
  out until the next explicit :meth:`start`.

Its fields and shared primitives (caps, state, stop, latch) are ``treadctl.safety.governor_core``;
readings and events are taken in by ``treadctl.safety.belt_observations``; the reaction to the
heart-rate guard is ``treadctl.safety.heart_rate_reaction``. This module holds the requests, the
next action and the ramp.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from treadctl.observations import DeviceInfo
from treadctl.safety import limits as L
from treadctl.safety.actions import (
    Action,
    Command,
    Pause,
    RequestControl,
    SetIncline,
    SetSpeed,
    Start,
    Stop,
    StopCommand,
    Wait,
)
from treadctl.safety.belt_observations import BeltObservations
from treadctl.safety.caps import check_incline, check_speed, speed_caps
from treadctl.safety.device import check_range, fit_down
from treadctl.safety.errors import (
    BeltStateError,
    DeviceRangeError,
    HeartRateRefusal,
    InvariantError,
)
from treadctl.safety.events import LatchReason
from treadctl.safety.heart_rate import RAMP_DOWN_MAX_S
from treadctl.safety.heart_rate_reaction import HeartRateReaction
from treadctl.safety.phases import Phase, PhaseEvent
from treadctl.safety.ramp import Axis, Step, incline_step, speed_step
from treadctl.safety.state import InFlight, StartPlan
from treadctl.safety.watchdog import Clocks, deadlines, overdue


@dataclass(slots=True)
class Governor(BeltObservations, HeartRateReaction):
    """The sans-IO governor. One instance per treadmill connection lifetime (or longer)."""

    def __post_init__(self) -> None:
        self.set_device(self.info)

    # ----------------------------------------------------------------- configuration

    def set_device(self, info: DeviceInfo) -> None:
        """Adopt what the link learned on (re)connecting. An unusable range (zero increment,
        maximum below minimum) is dropped with a notice: that quantity is then never commanded
        (NotSupportedError)."""
        speed, incline = info.speed_range, info.incline_range
        try:
            if speed is not None:
                check_range(speed, "speed")
        except DeviceRangeError as exc:
            self._note(self.last_reading_at or 0.0, f"speed not commanded: {exc}")
            speed = None
        try:
            if incline is not None:
                check_range(incline, "incline")
        except DeviceRangeError as exc:
            self._note(self.last_reading_at or 0.0, f"incline not commanded: {exc}")
            incline = None
        self.info = replace(info, speed_range=speed, incline_range=incline)

    def set_profile_cap(self, cap: int | None, now: float) -> None:
        """Set (or clear) the running profile's cap. It can only lower the effective cap; a
        target above the new cap is lowered at once (the next action writes it)."""
        if cap is not None and cap <= 0:
            raise ValueError(f"profile cap must be positive, got {cap}")
        self.profile_cap = cap
        self._note(now, f"profile cap now {cap}; effective speed cap {self.speed_cap}")
        self._apply_cap(now)

    def _apply_cap(self, now: float) -> None:
        """Lower the target under a lowered cap; stop if the cap is below the device minimum
        (a speed is never rounded up to the device's minimum)."""
        if self.info.speed_range is None or self.phase not in (Phase.STARTING, Phase.RUNNING):
            return
        grid_cap = self._grid_cap()
        if grid_cap is None:
            self.stop(now, reason="cap below the device minimum speed")
            self._note(now, "cap below the device minimum: stopping the belt")
        elif self._speed.target is not None:
            self._speed.target = min(self._speed.target, grid_cap)

    # ----------------------------------------------------------------- explicit requests

    def check_speed(self, speed: int) -> int:
        """The device setpoint for a requested speed, or a typed refusal (never a clamp)."""
        return check_speed(speed, self._speed_range(), self._speed_caps())

    def check_incline(self, incline: int) -> int:
        """The device setpoint for a requested incline, or a typed refusal (never a clamp)."""
        return check_incline(incline, self.info.incline_range, self.incline_cap)

    def _speed_caps(self) -> list[tuple[int, str]]:
        rng = self.info.speed_range
        return speed_caps(self.limits, self.profile_cap, None if rng is None else rng.maximum)

    def start(self, speed: int, now: float, *, incline: int | None = None) -> None:
        """An explicit start (or resume) by a person: the only way to clear a latch and the
        only way a Start command is ever sent. Raises a SafetyRefusal and changes nothing if
        the request or the belt's state does not allow it."""
        target = self.check_speed(speed)
        incline_target = self.check_incline(incline) if incline is not None else None
        if not self.connected:
            raise BeltStateError("start", "disconnected")
        if self.phase in (Phase.STARTING, Phase.RUNNING):
            raise BeltStateError("start", self.phase.value)
        if self._in_flight is not None and isinstance(self._in_flight.command, StopCommand):
            raise BeltStateError("start", "stopping", "a stop is being sent")
        self._require_still_belt(now, "start")
        self._check_heart_rate_start(now)
        rng = self._speed_range()
        start_speed = fit_down(max(min(L.START_SPEED, target), rng.minimum), rng)
        if start_speed is None:  # unreachable: minimum <= start speed <= target, on the grid
            raise InvariantError("Governor.start", f"no start speed for target {target}")
        if self.latch is not None:
            self._note(now, f"latch {self.latch.value} cleared by an explicit start")
        self.latch = None
        self._stop = None
        self._to(PhaseEvent.START)
        self._start = StartPlan(start_speed=start_speed)
        self._speed = Axis(target=target)
        # The incline's last rise is kept: a restart does not reset the minute that separates
        # a speed rise from an incline rise (docs/safety.md, "Changes").
        self._incline = Axis(
            target=incline_target,
            commanded=self.belt_incline,
            last_raise_at=self._incline.last_raise_at,
        )
        self.running_since = None

    def set_speed(self, speed: int, now: float) -> int:
        """A new target for the ramp from a checked profile (a session's segment). Returns the
        device setpoint the ramp will reach; refuses over-cap or below-minimum requests with
        typed errors. A person's change goes through :meth:`request_speed`."""
        target = self.check_speed(speed)
        self._require_active("set speed")
        self._speed.target = target
        return target

    def request_speed(self, speed: int, now: float) -> int:
        """A person's speed change: the caps and the device grid (rounded down: never above
        ``speed``), then the manual rules (``treadctl.safety.manual``: +0.1 km/h at a time and
        per minute, none in the first 3 minutes of a block). Returns the new device setpoint;
        refuses with typed errors and changes nothing; a rise also while the heart-rate guard
        holds (HeartRateRefusal)."""
        target = self.check_speed(speed)
        self._require_active("set speed")
        current = self._speed.target
        if current is None:
            raise BeltStateError("set speed", self.phase.value, "no speed target")
        rng = self._speed_range()
        if target > current and self.heart_rate is not None:
            verdict = self.heart_rate.verdict(now)
            if verdict.hold is not None:  # docs/heart-rate.md: a person's rise is refused too
                raise HeartRateRefusal("speed increase", verdict.text)
        self._manual.check(current, target, rng.increment, now, moving=self.phase == Phase.RUNNING)
        if target > current:
            self._manual.raised(now)
        self._speed.target = target
        return target

    def set_block_start(self, start: float | None) -> None:
        """A session's backward block began at ``start`` (this clock); None: the session is
        outside a backward block, so no block hold applies to a person's rise."""
        self._manual.set_block_start(start)

    def set_incline(self, incline: int, now: float) -> int:
        target = self.check_incline(incline)
        self._require_active("set incline")
        self._incline.target = target
        return target

    # ----------------------------------------------------------------- deciding

    def next_action(self, now: float) -> Action:
        """The next command to send, or how long to wait. A returned Command is in flight until
        :meth:`completed` is called for it."""
        if self._in_flight is not None:
            return Wait(None)
        self._check_time(now)
        self._check_heart_rate(now)
        if self._stop is not None:
            return self._stop_action(now)
        if self.latch is not None or not self.connected:
            return Wait(None)
        if self.phase == Phase.STARTING:
            return self._start_action(now)
        if self.phase == Phase.RUNNING:
            return self._ramp_action(now)
        return Wait(None)

    def completed(self, command: Command, now: float, error: str | None = None) -> None:
        """Report the outcome of the in-flight command (``error`` is None on success)."""
        flight = self._in_flight
        if flight is None or flight.command != command:
            raise BeltStateError("complete a command", "no such command in flight", str(command))
        self._in_flight = None
        kind = command.kind
        self._control.answered(command.op, success=error is None)
        if isinstance(command, SetSpeed | SetIncline):
            axis = self._speed if isinstance(command, SetSpeed) else self._incline
            # Count the write from when it was issued even if it failed: it may have applied.
            if axis.commanded is None or command.value > axis.commanded:
                axis.last_raise_at = flight.issued_at
            axis.last_write_at = flight.issued_at
            if error is None or axis.commanded is None or command.value > axis.commanded:
                axis.commanded = command.value
        if error is None:
            self._succeeded(command, flight.issued_at, now)
            return
        self._note(now, f"{kind.value} failed: {error}")
        if self._stop is not None and isinstance(command, Stop | Pause | RequestControl):
            if self._stop.failed(self.belt_speed, now):
                what = "pause" if self._stop.pause else "stop"
                self._note(now, f"gave up on {what} after {L.STOP_ATTEMPTS} tries")
                self._stop = None
            return
        if self.latch is None:
            self._latch(LatchReason.COMMAND_FAILED, now, f"{kind.value} failed: {error}")

    # ----------------------------------------------------------------- internals

    def _succeeded(self, command: Command, issued_at: float, now: float) -> None:
        if isinstance(command, SetSpeed) and self._start is not None:
            self._start.speed_sent = True
        elif isinstance(command, Start) and self._start is not None:
            self._start.start_sent_at = issued_at
        elif isinstance(command, StopCommand):
            self._stop = None
            still = self.belt_speed == 0
            self._to(PhaseEvent.STOP_SENT_STILL if still else PhaseEvent.STOP_SENT_NOT_STILL)
            if self.phase == Phase.STOPPED:
                self.running_since = None

    def _clocks(self) -> Clocks:
        start_sent_at = self._start.start_sent_at if self._start is not None else None
        return Clocks(self.phase, start_sent_at, self.last_reading_at, self.running_since)

    def _check_time(self, now: float) -> None:
        if self.latch is not None or not self.connected:
            return
        due = overdue(self._clocks(), self.limits, now)
        if due is not None:
            self._latch(due[0], now, due[1])

    def _deadlines(self) -> list[float]:
        if self.latch is not None or not self.connected:
            return []
        out = deadlines(self._clocks(), self.limits)
        if self._hr_deadline is not None:
            out.append(self._hr_deadline)
        if self._hr_stop is not None:
            out.append(self._hr_stop[0] + RAMP_DOWN_MAX_S)
        return out

    def _wait(self, *until: float | None) -> Wait:
        times = [t for t in until if t is not None] + self._deadlines()
        return Wait(min(times) if times else None)

    def _issue(self, command: Command, now: float) -> Command:
        self._in_flight = InFlight(command, now)
        self._control.sent(command.op, now, stop_kind=command.stop_kind)
        return command

    def _stop_action(self, now: float) -> Action:
        plan = self._stop
        if plan is None:
            raise InvariantError("Governor._stop_action", "no stop planned")
        action = plan.next(connected=self.connected, has_control=self._control.has_control, now=now)
        return action if isinstance(action, Wait) else self._issue(action, now)

    def _start_action(self, now: float) -> Action:
        plan = self._start
        if plan is None:
            raise InvariantError("Governor._start_action", "starting without a start plan")
        if not self._control.has_control:
            return self._issue(RequestControl("start"), now)
        if not plan.speed_sent:
            return self._issue(SetSpeed(plan.start_speed, "start speed before Start"), now)
        if plan.start_sent_at is None:
            problem = self._still_belt_problem(now)
            if problem is not None:
                reason = (
                    LatchReason.STALE_TELEMETRY
                    if "telemetry" in problem
                    else LatchReason.BELT_MOVING_AT_START
                )
                self._latch(reason, now, f"Start not sent: {problem}")
                return self._stop_action(now) if self._stop is not None else Wait(None)
            return self._issue(Start("explicit start"), now)
        return self._wait()

    def _ramp_action(self, now: float) -> Action:
        rng = self._speed_range()
        grid_cap = self._grid_cap()
        speed = self._speed
        if speed.commanded is None:
            raise InvariantError("Governor._ramp_action", "running without a commanded speed")
        if grid_cap is None:  # unreachable: _apply_cap stops the belt first
            self.stop(now, reason="cap below the device minimum speed")
            return self._stop_action(now)
        rate = self.limits.acceleration_centi_per_s
        # A cap lowered under the running belt applies at once: slowing is the safe direction.
        if speed.commanded > grid_cap:
            return self._issue(SetSpeed(grid_cap, "cap lowered"), now)
        waits: list[float] = []
        target = speed.target
        if target is not None and target > speed.commanded and self._hr_hold is not None:
            target = None  # docs/heart-rate.md: held; the ramp goes on when the hold ends
        if target is not None:
            plan = speed_step(
                speed,
                min(target, grid_cap),
                commanded=speed.commanded,
                increment=rng.increment,
                rate=rate,
                incline_last_raise=self._incline.last_raise_at,
                now=now,
            )
            if isinstance(plan, Step):
                return self._issue(SetSpeed(plan.value, plan.why), now)
            if plan is not None:
                waits.append(plan)
        irng = self.info.incline_range
        if irng is not None:
            plan = incline_step(
                self._incline,
                self._speed,
                rng=irng,
                cap=self.incline_cap,
                per_minute=self.limits.incline_ramp_deci_per_min,
                rise_held=self._hr_hold is not None,
                now=now,
            )
            if isinstance(plan, Step):
                return self._issue(SetIncline(plan.value, plan.why), now)
            if plan is not None:
                waits.append(plan)
        return self._wait(*waits)
