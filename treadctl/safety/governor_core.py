"""The governor's state and the primitives every part of it uses (sans-IO).

:class:`GovernorCore` holds the governor's fields, its caps, its state snapshot, the stop and
emergency stop a person may always ask for, and the one latch and phase-change path. The parts
of the governor (``treadctl.safety.heart_rate_reaction``, ``treadctl.safety.belt_observations``,
``treadctl.safety.governor``) build on it; :class:`treadctl.safety.governor.Governor` is the one
class callers use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from treadctl.ftms.control_session import ControlSession
from treadctl.observations import DeviceInfo, SpeedRange
from treadctl.safety import limits as L
from treadctl.safety.device import fit_down
from treadctl.safety.errors import BeltStateError, LatchedError, NotSupportedError
from treadctl.safety.events import DEVICE_STOPPED, LatchReason
from treadctl.safety.heart_rate import HeartRateGuard
from treadctl.safety.manual import ManualSpeedRules
from treadctl.safety.phases import Phase, PhaseEvent, next_phase
from treadctl.safety.ramp import Axis
from treadctl.safety.state import GovernorState, InFlight, Notice, StartPlan
from treadctl.safety.stopping import StopPlan, plan_stop
from treadctl.safety.watchdog import still_belt_problem


@dataclass(slots=True)
class GovernorCore:
    """The governor's fields and shared primitives (see ``treadctl.safety.governor.Governor``)."""

    info: DeviceInfo
    limits: L.Limits = field(default_factory=L.Limits)
    connected: bool = True
    phase: Phase = Phase.STOPPED
    latch: LatchReason | None = None
    profile_cap: int | None = None
    belt_speed: int | None = None
    belt_incline: int | None = None
    last_reading_at: float | None = None
    running_since: float | None = None
    _speed: Axis = field(default_factory=Axis)
    _incline: Axis = field(default_factory=Axis)
    _stop: StopPlan | None = None
    _start: StartPlan | None = None
    _in_flight: InFlight | None = None
    _notices: list[Notice] = field(default_factory=list)
    _control: ControlSession = field(default_factory=ControlSession)
    _manual: ManualSpeedRules = field(default_factory=ManualSpeedRules)
    heart_rate: HeartRateGuard | None = None
    """The heart-rate guard; None without a heart-rate source (then nothing changes)."""
    _hr_hold: str | None = None
    _hr_hold_kind: str | None = None
    _hr_bpm: int | None = None
    _hr_stop: tuple[float, str] | None = None
    _hr_deadline: float | None = None

    @property
    def speed_cap(self) -> int:
        """Effective speed cap (0.01 km/h) before device rounding."""
        cap = self.limits.speed_cap
        if self.profile_cap is not None:
            cap = min(cap, self.profile_cap)
        return cap

    @property
    def incline_cap(self) -> int:
        return self.limits.incline_cap

    @property
    def overspeed_threshold(self) -> int:
        """Reported speeds above this stop the belt: the cap plus one device increment."""
        rng = self.info.speed_range
        return self.speed_cap + (rng.increment if rng is not None else 10)

    def state(self) -> GovernorState:
        return GovernorState(
            phase=self.phase,
            latch=self.latch,
            connected=self.connected,
            control=self._control.has_control,
            speed_cap=self.speed_cap,
            incline_cap=self.incline_cap,
            target_speed=self._speed.target,
            commanded_speed=self._speed.commanded,
            belt_speed=self.belt_speed,
            target_incline=self._incline.target,
            commanded_incline=self._incline.commanded,
            belt_incline=self.belt_incline,
            last_reading_at=self.last_reading_at,
            running_since=self.running_since,
            heart_rate_hold=self._hr_hold,
            heart_rate_bpm=self._hr_bpm,
            heart_rate_hold_kind=self._hr_hold_kind,
        )

    def drain_notices(self) -> list[Notice]:
        notices, self._notices = self._notices, []
        return notices

    def stop(self, now: float, *, pause: bool = False, reason: str = "stop requested") -> None:
        """Stop (or pause) the belt. Always accepted; a person's stop is not a safety latch."""
        self._stop = plan_stop(self._stop, pause=pause, reason=reason)
        self._start = None
        self._speed.target = None
        self._incline.target = None
        self._to(PhaseEvent.STOP)

    def emergency_stop(self, now: float) -> None:
        """Stop now, ahead of anything queued, and latch. A Stop is sent even if the belt
        looks still: a person asked for it."""
        self._latch(LatchReason.EMERGENCY_STOP, now, "emergency stop requested")
        self._stop = StopPlan(pause=False, reason="emergency stop")
        self._to(PhaseEvent.EMERGENCY_STOP)

    def _latch(self, reason: LatchReason, now: float, why: str) -> None:
        first = self.latch is None
        self.latch = reason if first or reason is LatchReason.OVERSPEED else self.latch
        belt_may_move = self.phase != Phase.STOPPED or bool(self.belt_speed)
        self._start = None
        self._speed.target = None
        self._incline.target = None
        if reason not in DEVICE_STOPPED and belt_may_move:
            # A fresh plan: a new safety reason is tried at once, with fresh attempts.
            self._stop = StopPlan(pause=False, reason=f"safety: {reason.value}")
        if self.belt_speed == 0:
            self._to(PhaseEvent.LATCH_STILL)
        elif self.belt_speed is None:
            self._to(PhaseEvent.LATCH_UNKNOWN)
        else:
            self._to(PhaseEvent.LATCH_MOVING)
        self._notices.append(Notice(now, why, reason))

    def _to(self, event: PhaseEvent) -> None:
        """The one place the phase changes: the phase table (``treadctl.safety.phases``)."""
        self.phase = next_phase(self.phase, event)

    def _note(self, now: float, what: str) -> None:
        self._notices.append(Notice(now, what))

    def _speed_range(self) -> SpeedRange:
        rng = self.info.speed_range
        if rng is None:
            raise NotSupportedError("speed")
        return rng

    def _grid_cap(self) -> int | None:
        rng = self.info.speed_range
        return None if rng is None else fit_down(self.speed_cap, rng)

    def _still_belt_problem(self, now: float) -> str | None:
        return still_belt_problem(self.last_reading_at, self.belt_speed, self.limits, now)

    def _require_still_belt(self, now: float, action: str) -> None:
        problem = self._still_belt_problem(now)
        if problem is not None:
            raise BeltStateError(action, self.phase.value, problem)

    def _require_active(self, action: str) -> None:
        if self.latch is not None:
            raise LatchedError(self.latch.value)
        if self.phase not in (Phase.STARTING, Phase.RUNNING):
            raise BeltStateError(action, self.phase.value)
