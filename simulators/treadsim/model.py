"""The treadmill itself: belt physics and the FTMS machine state, with no I/O.

Pure and synchronous: every input carries the simulated time ``now`` (seconds, from an injected
clock) and every output is a value (events, a procedure outcome). The Bumble adapter and the
process shell turn those values into bytes and notifications.

Procedure rules follow FTMS v1.0 §4.16 (control point) and §4.17 (machine status); training
status values §4.10. Quirk flags (``quirks.py``) switch on documented real-device deviations.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass

from simulators.treadsim.presets import Preset
from simulators.treadsim.quirks import Quirk
from treadctl.ftms import (
    ControlRequest,
    MachineStatus,
    MachineStatusOp,
    OpCode,
    RequestControl,
    Reset,
    ResultCode,
    SetTargetedDistance,
    SetTargetedTrainingTime,
    SetTargetInclination,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    TrainingStatusCode,
)
from treadctl.units import KMH_PER_MPH, floor_to_grid

PHYSICS_TICK = 0.1
"""Simulated seconds between physics steps while the belt changes speed (trace granularity)."""
NEAR_STOP = 10
"""0.01 km/h: a console stop is reported once the belt is this slow (capture: 02 01 00 came
right after the 0.10 km/h frame, tests/data/citysports-cs-wp8.jsonl frames 27-28)."""
WALKER_HEART_RATE = 95
"""bpm shown while someone walks (gym preset only; no sensor model)."""


class Phase(enum.Enum):
    """Where the machine is in a session."""

    IDLE = "idle"  # never started, or after Reset / safety key
    STARTING = "starting"  # Start accepted, countdown running, belt still
    RUNNING = "running"  # belt follows the target speed
    PAUSED = "paused"  # paused by the user; belt runs down
    STOPPED = "stopped"  # stopped by the user; belt runs down


class Console(enum.Enum):
    """What a person can do at the machine."""

    START = "start"
    PAUSE = "pause"
    STOP = "stop"
    PULL_SAFETY_KEY = "pull_safety_key"
    INSERT_SAFETY_KEY = "insert_safety_key"
    STEP_ON = "step_on"
    STEP_OFF = "step_off"
    TAKE_CONTROL = "take_control"
    SET_SPEED = "set_speed"


@dataclass(frozen=True, slots=True)
class TrainingChanged:
    """Training Status changed (notify 0x2AD3)."""

    status: TrainingStatusCode


@dataclass(frozen=True, slots=True)
class BeltChanged:
    """The belt speed (0.01 km/h, rounded down) changed."""

    speed: int
    target: int


Event = MachineStatus | TrainingChanged | BeltChanged


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer to one control point procedure."""

    result: ResultCode
    events: tuple[Event, ...] = ()
    disconnect: bool = False
    """The machine drops the link instead of answering (cold-start quirk)."""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ConsoleOutcome:
    """What a console action did."""

    done: bool
    events: tuple[Event, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything observable about the machine at one instant (wire units)."""

    now: float
    phase: Phase
    belt_speed: int
    target_speed: int
    incline: int
    training_status: TrainingStatusCode
    walker_present: bool
    safety_key_inserted: bool
    controlled: bool
    distance_m: int
    elapsed_s: int
    steps: int
    energy_kcal: int
    average_speed: int
    elevation_gain_dm: int
    heart_rate: int
    remaining_s: int


def _status(op: MachineStatusOp, parameter: bytes = b"") -> MachineStatus:
    return MachineStatus(op=op, parameter=parameter)


class Treadmill:
    """Belt physics plus the FTMS procedure state machine of one treadmill."""

    def __init__(self, preset: Preset, *, now: float = 0.0, walker: bool = False) -> None:
        self.preset = preset
        self.quirks = preset.quirks
        self._t = now
        self.phase = Phase.IDLE
        self._belt = 0.0  # 0.01 km/h, continuous
        self._target = 0
        self._next_target: int | None = None  # set while stopped, used by the next Start
        self.incline = 0
        self.training = TrainingStatusCode.IDLE
        self.walker = walker
        self.safety_key = True
        self._safety_stopping = False
        self.controller: object | None = None
        self._countdown_end: float | None = None
        self._pending_console_stop: StopKind | None = None
        self._distance_m = 0.0
        self._elapsed_s = 0.0
        self._elevation_dm = 0.0
        self._targeted_time: int | None = None
        self._reported_belt = 0

    # ----------------------------------------------------------------- observation
    @property
    def belt_speed(self) -> int:
        """Belt speed in 0.01 km/h, rounded down."""
        return math.floor(self._belt + 1e-9)

    @property
    def target_speed(self) -> int:
        return self._target

    def snapshot(self) -> Snapshot:
        distance = int(self._distance_m)
        elapsed = int(self._elapsed_s)
        average = round(self._distance_m / self._elapsed_s * 360) if self._elapsed_s > 0 else 0
        remaining = max(0, self._targeted_time - elapsed) if self._targeted_time else 0
        return Snapshot(
            now=self._t,
            phase=self.phase,
            belt_speed=self.belt_speed,
            target_speed=self._target,
            incline=self.incline,
            training_status=self.training,
            walker_present=self.walker,
            safety_key_inserted=self.safety_key,
            controlled=self.controller is not None,
            distance_m=distance,
            elapsed_s=elapsed,
            steps=int(self._distance_m / self.preset.stride_m),
            energy_kcal=int(self._distance_m / 1000 * self.preset.kcal_per_km),
            average_speed=average,
            elevation_gain_dm=int(self._elevation_dm),
            heart_rate=WALKER_HEART_RATE if self.walker and self.belt_speed > 0 else 0,
            remaining_s=remaining,
        )

    def next_deadline(self) -> float | None:
        """The next simulated time at which :meth:`advance` has something to do."""
        if self.phase is Phase.STARTING and self._countdown_end is not None:
            return self._countdown_end
        if abs(self._goal() - self._belt) > 1e-9:
            return self._t + PHYSICS_TICK
        return None

    # ----------------------------------------------------------------- physics
    def _goal(self) -> float:
        return float(self._target) if self.phase is Phase.RUNNING else 0.0

    def _rate(self, goal: float) -> float:
        if goal >= self._belt or self.phase is Phase.RUNNING:
            return float(self.preset.acceleration)
        if self._safety_stopping:
            return float(self.preset.safety_stop)
        return float(self.preset.rundown)

    def _integrate(self, until: float) -> None:
        dt = until - self._t
        if dt <= 0:
            return
        goal = self._goal()
        v0 = self._belt
        rate = self._rate(goal)
        t_reach = abs(goal - v0) / rate if rate > 0 else math.inf
        if t_reach >= dt:
            v1 = v0 + math.copysign(rate * dt, goal - v0)
            centi_seconds = (v0 + v1) / 2 * dt
            moving_time = dt if (v0 > 0 or v1 > 0) else 0.0
        else:
            v1 = goal
            centi_seconds = (v0 + goal) / 2 * t_reach + goal * (dt - t_reach)
            moving_time = dt if goal > 0 else (t_reach if v0 > 0 else 0.0)
        self._belt = max(0.0, v1)
        self._t = until
        if self.walker:
            metres = centi_seconds / 100 / 3.6
            self._distance_m += metres
            self._elapsed_s += moving_time
            self._elevation_dm += max(0, self.incline) / 1000 * metres * 10
        if self._belt <= 1e-9:
            self._safety_stopping = False

    def advance(self, now: float) -> list[Event]:
        """Move the simulated time to ``now``; returns what changed on the way."""
        events: list[Event] = []
        if (
            self.phase is Phase.STARTING
            and self._countdown_end is not None
            and now >= self._countdown_end
        ):
            self._integrate(self._countdown_end)
            self._countdown_end = None
            self.phase = Phase.RUNNING
            if self._target == 0:
                self._target = self.preset.start_speed
            if self.preset.launch:
                self._belt = float(min(self._target, self.preset.start_speed))
            self.training = TrainingStatusCode.MANUAL_MODE
            events.append(TrainingChanged(self.training))
        self._integrate(now)
        self._t = max(self._t, now)
        if self._pending_console_stop is not None and self.belt_speed <= NEAR_STOP:
            kind = self._pending_console_stop
            self._pending_console_stop = None
            events.append(_status(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([kind])))
        if self.belt_speed != self._reported_belt:
            self._reported_belt = self.belt_speed
            events.append(BeltChanged(self.belt_speed, self._target))
        return events

    # ----------------------------------------------------------------- helpers
    def _start(self) -> list[Event]:
        """Start or resume (FTMS §4.16.2.8); the caller checked it is allowed."""
        events: list[Event] = [_status(MachineStatusOp.STARTED_OR_RESUMED_BY_USER)]
        self._pending_console_stop = None
        if self.phase is Phase.PAUSED:
            self.phase = Phase.RUNNING
            if self._target == 0:  # paused during the countdown
                self._target = self.preset.start_speed
            if self.training is not TrainingStatusCode.MANUAL_MODE:
                self.training = TrainingStatusCode.MANUAL_MODE
                events.append(TrainingChanged(self.training))
            return events
        if self.phase in (Phase.IDLE, Phase.STOPPED):
            self._distance_m = self._elapsed_s = self._elevation_dm = 0.0
        self._target = self._next_target or 0
        self._next_target = None
        self.phase = Phase.STARTING
        self._countdown_end = self._t + self.preset.start_countdown
        self.training = TrainingStatusCode.PRE_WORKOUT
        events.append(TrainingChanged(self.training))
        return events

    def _stop(self, kind: StopKind, *, announce: bool) -> list[Event]:
        """Stop or pause (FTMS §4.16.2.9); the belt runs down."""
        events: list[Event] = []
        self._countdown_end = None
        if kind is StopKind.STOP:
            self.phase = Phase.STOPPED
            self._target = 0
            self.training = TrainingStatusCode.POST_WORKOUT
            events.append(TrainingChanged(self.training))
        else:
            self.phase = Phase.PAUSED
        if announce:
            events.append(_status(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, bytes([kind])))
        else:
            self._pending_console_stop = kind
        return events

    def _started(self) -> bool:
        return self.phase in (Phase.STARTING, Phase.RUNNING)

    def _spinning_up(self) -> bool:
        return self.phase is Phase.STARTING or (self.phase is Phase.RUNNING and self._belt <= 0)

    def _grid(self, value: int) -> int:
        speed = self.preset.speed
        return floor_to_grid(value, speed.minimum, speed.increment)

    def _set_target(self, value: int, sent: int | None = None) -> list[Event]:
        """Set the target (0.01 km/h); the status echoes ``sent``, the value as written."""
        echo = _status(
            MachineStatusOp.TARGET_SPEED_CHANGED,
            struct.pack("<H", value if sent is None else sent),
        )
        speed = self.preset.speed
        actual = max(speed.minimum, self._grid(min(value, speed.maximum)))
        if self.phase in (Phase.RUNNING, Phase.STARTING, Phase.PAUSED):
            self._target = actual
        else:
            self._next_target = actual
        return [echo]

    # ----------------------------------------------------------------- control point
    def control_point(self, now: float, client: object, request: ControlRequest) -> Outcome:
        """One control point procedure from ``client`` (FTMS v1.0 §4.16.2)."""
        events = self.advance(now)
        outcome = self._procedure(client, request)
        return Outcome(
            outcome.result, tuple(events) + outcome.events, outcome.disconnect, outcome.reason
        )

    def _procedure(self, client: object, request: ControlRequest) -> Outcome:
        permissive = Quirk.PERMISSIVE_CONTROL in self.quirks
        if isinstance(request, RequestControl):
            if self.controller is None or self.controller is client or permissive:
                self.controller = client
                return Outcome(ResultCode.SUCCESS)
            return Outcome(ResultCode.CONTROL_NOT_PERMITTED, reason="another client has control")
        if self.controller is not client and not permissive:
            return Outcome(ResultCode.CONTROL_NOT_PERMITTED, reason="Request Control first")
        match request:
            case Reset():
                return self._reset()
            case SetTargetSpeed(speed=value):
                return self._target_speed(value)
            case SetTargetInclination(incline=value):
                return self._target_incline(value)
            case StartOrResume():
                return self._start_procedure()
            case StopOrPause(kind=kind):
                if self.phase is Phase.PAUSED and kind is StopKind.STOP:
                    return Outcome(ResultCode.SUCCESS, tuple(self._stop(kind, announce=True)))
                if not self._started():
                    return Outcome(ResultCode.OPERATION_FAILED, reason="belt is not running")
                return Outcome(ResultCode.SUCCESS, tuple(self._stop(kind, announce=True)))
            case SetTargetedDistance(distance_m=metres):
                changed = _status(
                    MachineStatusOp.TARGETED_DISTANCE_CHANGED, metres.to_bytes(3, "little")
                )
                return Outcome(ResultCode.SUCCESS, (changed,))
            case SetTargetedTrainingTime(seconds=seconds):
                self._targeted_time = seconds
                changed = _status(
                    MachineStatusOp.TARGETED_TRAINING_TIME_CHANGED, struct.pack("<H", seconds)
                )
                return Outcome(ResultCode.SUCCESS, (changed,))
            case _:
                return Outcome(ResultCode.OP_CODE_NOT_SUPPORTED, reason="not a treadmill procedure")

    def _reset(self) -> Outcome:
        """Reset (FTMS §4.16.2.2): stops, clears the session, ends control permission."""
        if self._started():
            self._stop(StopKind.STOP, announce=False)
        self._pending_console_stop = None
        self.phase = Phase.IDLE
        self._target = 0
        self._next_target = None
        self._countdown_end = None
        self._distance_m = self._elapsed_s = self._elevation_dm = 0.0
        self._targeted_time = None
        self.controller = None
        self.training = TrainingStatusCode.IDLE
        return Outcome(
            ResultCode.SUCCESS, (_status(MachineStatusOp.RESET), TrainingChanged(self.training))
        )

    def _target_speed(self, value: int) -> Outcome:
        if Quirk.COLD_START_DISCONNECT in self.quirks and self._spinning_up():
            return Outcome(
                ResultCode.OPERATION_FAILED, disconnect=True, reason="speed during motor spin-up"
            )
        sent = value
        if Quirk.TARGET_SPEED_IN_MPH in self.quirks:
            value = math.floor(value * KMH_PER_MPH)
        speed = self.preset.speed
        if value > speed.maximum:
            return Outcome(ResultCode.INVALID_PARAMETER, reason="above the maximum speed")
        if value < speed.minimum and Quirk.MIN_SPEED_REVERT not in self.quirks:
            return Outcome(ResultCode.INVALID_PARAMETER, reason="below the minimum speed")
        return Outcome(ResultCode.SUCCESS, tuple(self._set_target(value, sent)))

    def _target_incline(self, value: int) -> Outcome:
        incline = self.preset.incline
        if incline is None or not self.preset.has_incline:
            return Outcome(ResultCode.OP_CODE_NOT_SUPPORTED, reason="no incline")
        if not incline.minimum <= value <= incline.maximum:
            return Outcome(ResultCode.INVALID_PARAMETER, reason="outside the incline range")
        self.incline = floor_to_grid(value, incline.minimum, incline.increment)
        return Outcome(
            ResultCode.SUCCESS,
            (_status(MachineStatusOp.TARGET_INCLINE_CHANGED, struct.pack("<h", value)),),
        )

    def _start_procedure(self) -> Outcome:
        if not self.safety_key:
            return Outcome(ResultCode.OPERATION_FAILED, reason="safety key is out")
        if self._started():
            if Quirk.START_IS_A_TOGGLE in self.quirks:
                return Outcome(ResultCode.SUCCESS, tuple(self._stop(StopKind.STOP, announce=True)))
            if Quirk.START_WHILE_RUNNING_SUCCEEDS in self.quirks:
                return Outcome(ResultCode.SUCCESS)
            return Outcome(ResultCode.OPERATION_FAILED, reason="already started")
        return Outcome(ResultCode.SUCCESS, tuple(self._start()))

    # ----------------------------------------------------------------- console
    def console(self, now: float, action: Console, speed: int | None = None) -> ConsoleOutcome:
        """A person at the machine does ``action``."""
        events = self.advance(now)
        done, more, reason = self._console(action, speed)
        return ConsoleOutcome(done, tuple(events) + tuple(more), reason)

    def _console(self, action: Console, speed: int | None) -> tuple[bool, list[Event], str]:
        locked = Quirk.CONSOLE_LOCK_WHILE_CONTROLLED in self.quirks and self.controller is not None
        buttons = (Console.START, Console.PAUSE, Console.STOP, Console.SET_SPEED)
        if action in buttons and locked:
            return False, [], "console is locked while a client holds control"
        match action:
            case Console.START:
                if not self.safety_key:
                    return False, [], "safety key is out"
                if self._started():
                    return False, [], "already started"
                return True, self._start(), ""
            case Console.PAUSE | Console.STOP:
                kind = StopKind.PAUSE if action is Console.PAUSE else StopKind.STOP
                if not self._started() and not (
                    self.phase is Phase.PAUSED and kind is StopKind.STOP
                ):
                    return False, [], "belt is not running"
                return True, self._stop(kind, announce=False), ""
            case Console.PULL_SAFETY_KEY:
                if not self.safety_key:
                    return False, [], "safety key is already out"
                self.safety_key = False
                self._safety_stopping = True
                self._pending_console_stop = None
                self._countdown_end = None
                self.phase = Phase.IDLE
                self._target = 0
                self._next_target = None
                self.training = TrainingStatusCode.IDLE
                return (
                    True,
                    [
                        _status(MachineStatusOp.STOPPED_BY_SAFETY_KEY),
                        TrainingChanged(self.training),
                    ],
                    "",
                )
            case Console.INSERT_SAFETY_KEY:
                self.safety_key = True
                return True, [], ""
            case Console.STEP_ON | Console.STEP_OFF:
                self.walker = action is Console.STEP_ON
                return True, [], ""
            case Console.TAKE_CONTROL:
                if self.controller is None:
                    return True, [], "no client held control"
                self.controller = None
                return True, [_status(MachineStatusOp.CONTROL_PERMISSION_LOST)], ""
            case Console.SET_SPEED:
                if speed is None:
                    raise ValueError("set_speed needs a speed")
                value = max(self.preset.speed.minimum, min(speed, self.preset.speed.maximum))
                return True, self._set_target(value), ""
        raise AssertionError(action)  # pragma: no cover - exhaustive match

    # ----------------------------------------------------------------- link
    def client_left(self, now: float, client: object) -> list[Event]:
        """The client's link dropped: its control permission ends (§4.16.3). The belt keeps
        whatever it was doing, as real machines do."""
        events = self.advance(now)
        if self.controller is client:
            self.controller = None
        return events


OP_NAMES = {int(op): op.name.lower() for op in OpCode}
"""Op code names for traces and logs."""
