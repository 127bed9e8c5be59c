"""Commands a person or a script can give the daemon, their results, and the arming policy.

These are plain values. The MQTT bridge (``treadctl.mqtt``) and the command line *produce*
them; the daemon *consumes* them, passes belt-moving ones through :class:`ArmingPolicy` and then
the governor (``GovernedTreadmill``), and answers each with a :class:`CommandResult`. Nothing in
this module touches a treadmill.

Speeds and inclines arrive as a person types them (km/h, percent). The conversion to wire units
(:attr:`SetSpeed.centi`, :attr:`SetIncline.deci`) rounds toward zero so that it never raises a
speed (``treadctl.units``). Whether a value is within the caps in force is the governor's
decision, not this module's: the bridge cannot know the caps.

Pure module: standard library only.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

from treadctl.observations import DeviceEvent
from treadctl.safety.events import DISARMING_EVENTS
from treadctl.units import kmh_to_centi, percent_to_deci

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


class CommandName(enum.StrEnum):
    """Wire names of the commands (MQTT ``request/<name>`` topics, CLI, logs)."""

    ARM = "arm"
    DISARM = "disarm"
    START_PROFILE = "start_profile"
    SELECT_PROFILE = "select_profile"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    EMERGENCY_STOP = "emergency_stop"
    SET_SPEED = "set_speed"
    SET_INCLINE = "set_incline"
    SKIP_SEGMENT = "skip_segment"
    RELOAD_PROFILES = "reload_profiles"
    START_NEXT = "start_next"
    RATE_SESSION = "rate_session"
    RATING_DRAFT = "rating_draft"
    SUBMIT_RATING = "submit_rating"


@dataclass(frozen=True, slots=True)
class Arm:
    """Allow remote commands that move the belt for ``duration_s`` (None: the policy default)."""

    name: ClassVar[CommandName] = CommandName.ARM
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Disarm:
    """Withdraw remote control at once."""

    name: ClassVar[CommandName] = CommandName.DISARM


@dataclass(frozen=True, slots=True)
class StartProfile:
    """Start a profile. ``profile`` None means "the selected profile" (Home Assistant's button)."""

    name: ClassVar[CommandName] = CommandName.START_PROFILE
    profile: str | None
    options: Mapping[str, JsonValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SelectProfile:
    """Choose the profile that a later ``StartProfile(None)`` starts. Moves nothing."""

    name: ClassVar[CommandName] = CommandName.SELECT_PROFILE
    profile: str


@dataclass(frozen=True, slots=True)
class Pause:
    name: ClassVar[CommandName] = CommandName.PAUSE


@dataclass(frozen=True, slots=True)
class Resume:
    name: ClassVar[CommandName] = CommandName.RESUME


@dataclass(frozen=True, slots=True)
class Stop:
    name: ClassVar[CommandName] = CommandName.STOP


@dataclass(frozen=True, slots=True)
class EmergencyStop:
    """Stop the belt now. Never needs arming; the bridge delivers it ahead of everything."""

    name: ClassVar[CommandName] = CommandName.EMERGENCY_STOP


# Largest values the FTMS wire format can carry: Target Speed is a uint16 in 0.01 km/h
# (FTMS v1.0 §4.16.2.3), Target Inclination a sint16 in 0.1 % (§4.16.2.4). Anything outside is
# a malformed request, not an over-cap one (the governor judges caps).
MAX_WIRE_SPEED_KMH = 655.35
MAX_WIRE_INCLINE_PERCENT = 3276.7
MIN_WIRE_INCLINE_PERCENT = -3276.8


@dataclass(frozen=True, slots=True)
class SetSpeed:
    """Manual belt speed in km/h (ramped and capped by the governor)."""

    name: ClassVar[CommandName] = CommandName.SET_SPEED
    kmh: float

    def __post_init__(self) -> None:
        if isinstance(self.kmh, bool) or not math.isfinite(self.kmh):
            raise ValueError(f"speed must be a finite number of km/h, got {self.kmh!r}")
        if not 0 <= self.kmh <= MAX_WIRE_SPEED_KMH:
            raise ValueError(f"speed must be within 0..{MAX_WIRE_SPEED_KMH} km/h, got {self.kmh}")

    @property
    def centi(self) -> int:
        """Speed in 0.01 km/h, rounded toward zero (never up)."""
        return kmh_to_centi(self.kmh)


@dataclass(frozen=True, slots=True)
class SetIncline:
    """Incline in percent."""

    name: ClassVar[CommandName] = CommandName.SET_INCLINE
    percent: float

    def __post_init__(self) -> None:
        if isinstance(self.percent, bool) or not math.isfinite(self.percent):
            raise ValueError(f"incline must be a finite percentage, got {self.percent!r}")
        if not MIN_WIRE_INCLINE_PERCENT <= self.percent <= MAX_WIRE_INCLINE_PERCENT:
            raise ValueError(f"incline out of the FTMS range, got {self.percent} %")

    @property
    def deci(self) -> int:
        """Incline in 0.1 %, rounded toward zero."""
        return percent_to_deci(self.percent)


@dataclass(frozen=True, slots=True)
class SkipSegment:
    name: ClassVar[CommandName] = CommandName.SKIP_SEGMENT


@dataclass(frozen=True, slots=True)
class ReloadProfiles:
    name: ClassVar[CommandName] = CommandName.RELOAD_PROFILES


@dataclass(frozen=True, slots=True)
class StartNext:
    """Start the person's current program stage (docs/journey.md); ``person`` None: the
    default person. The daemon looks the stage up in the history, then starts its profile on
    the same path as :class:`StartProfile` (arming, governor)."""

    name: ClassVar[CommandName] = CommandName.START_NEXT
    person: str | None = None


RATING_DIFFICULTIES = ("easy", "ok", "hard")


@dataclass(frozen=True, slots=True)
class RateSession:
    """A person's rating of a session (``session`` None: their last session). Moves nothing."""

    name: ClassVar[CommandName] = CommandName.RATE_SESSION
    pain: int
    difficulty: str
    near_fall: bool = False
    session: str | None = None
    person: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.pain, bool) or not isinstance(self.pain, int):
            raise ValueError(f"pain must be a whole number 0-10, got {self.pain!r}")
        if not 0 <= self.pain <= 10:
            raise ValueError(f"pain must be within 0-10, got {self.pain}")
        if self.difficulty not in RATING_DIFFICULTIES:
            raise ValueError(f"difficulty must be easy, ok or hard, got {self.difficulty!r}")
        if not isinstance(self.near_fall, bool):
            raise ValueError("near_fall must be true or false")


@dataclass(frozen=True, slots=True)
class RatingDraft:
    """Home Assistant's rating entities: one value of the rating being filled in (held by the
    daemon per treadmill until :class:`SubmitRating`). Moves nothing."""

    name: ClassVar[CommandName] = CommandName.RATING_DRAFT
    pain: int | None = None
    difficulty: str | None = None
    near_fall: bool | None = None


@dataclass(frozen=True, slots=True)
class SubmitRating:
    """Rate the last session with the drafted values (Home Assistant's submit button)."""

    name: ClassVar[CommandName] = CommandName.SUBMIT_RATING


JOURNEY_COMMANDS = (StartNext, RateSession, RatingDraft, SubmitRating)
"""Commands the daemon's history answers (they may wait for its database)."""


Command: TypeAlias = (
    Arm
    | Disarm
    | StartProfile
    | SelectProfile
    | Pause
    | Resume
    | Stop
    | EmergencyStop
    | SetSpeed
    | SetIncline
    | SkipSegment
    | ReloadProfiles
    | StartNext
    | RateSession
    | RatingDraft
    | SubmitRating
)

NEEDS_ARMING: frozenset[type[Command]] = frozenset(
    {StartProfile, StartNext, Resume, SetSpeed, SetIncline, SkipSegment}
)
"""Commands that can start the belt or make it faster or steeper. Stopping, pausing, selecting a
profile, reloading profiles and the emergency stop never need arming."""


def needs_arming(command: Command) -> bool:
    return type(command) in NEEDS_ARMING


class ErrorCode(enum.StrEnum):
    """Machine-readable error codes in replies (``{"error": {"code": ...}}``)."""

    MALFORMED = "malformed"  # not JSON, not an object, not UTF-8
    INVALID_VALUE = "invalid_value"  # wrong type, not finite, out of the wire range, unknown key
    UNKNOWN_COMMAND = "unknown_command"
    UNKNOWN_DEVICE = "unknown_device"
    TOO_LARGE = "too_large"
    EXPIRED = "expired"  # past its MQTT v5 message expiry, or waited too long in the bridge
    TOO_OLD = "too_old"  # its timestamp field is older than the configured age
    LINK_DOWN = "link_down"  # the treadmill is not connected; nothing is queued for later
    NOT_ARMED = "not_armed"
    OVER_CAP = "over_cap"  # the governor refused a value over the caps in force
    REFUSED = "refused"  # the governor or the session refused it for another stated reason
    BUSY = "busy"  # too many requests waiting
    TRANSACTION_CONFLICT = "transaction_conflict"  # a transaction id reused for another command
    UNKNOWN_PROFILE = "unknown_profile"
    UNKNOWN_PERSON = "unknown_person"
    HISTORY_UNAVAILABLE = "history_unavailable"  # the history database did not answer in time
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class CommandError:
    code: str
    """An :class:`ErrorCode` value (a plain string so that the daemon may add its own)."""
    message: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The answer to one command: ok with optional data, or an error with code and message."""

    ok: bool
    data: Mapping[str, JsonValue] | None = None
    error: CommandError | None = None

    def __post_init__(self) -> None:
        if self.ok != (self.error is None):
            raise ValueError("a CommandResult is ok exactly when it carries no error")

    @classmethod
    def success(cls, data: Mapping[str, JsonValue] | None = None) -> CommandResult:
        return cls(ok=True, data=data)

    @classmethod
    def failure(
        cls, code: str, message: str, data: Mapping[str, JsonValue] | None = None
    ) -> CommandResult:
        return cls(ok=False, data=data, error=CommandError(code=str(code), message=message))


class ArmingPolicy:
    """Whether remote commands may move the belt right now (pure; the daemon owns one per device).

    Remote control is off until armed. Arming lasts ``default_duration_s`` (or the duration the
    ``Arm`` command asks for, up to ``max_duration_s``; a longer request is refused, not clamped)
    and ends early on :meth:`disarm`, on every safety event (:meth:`observe` for device events,
    :meth:`safety_event` for the ones the daemon detects itself: overspeed stop, stale telemetry,
    restart) and on an emergency stop. Expiry does not stop a running session; it only refuses
    new belt-moving remote commands (:data:`NEEDS_ARMING`).

    Times are monotonic seconds supplied by the caller.
    """

    def __init__(self, *, default_duration_s: float = 300.0, max_duration_s: float = 3600.0):
        # Defaults: 5 min to walk to the treadmill and start; at most 1 h (project choice, issue
        # 6 asks for "a configurable time"). Both must be positive and finite.
        if not (0 < default_duration_s <= max_duration_s and math.isfinite(max_duration_s)):
            raise ValueError("need 0 < default_duration_s <= max_duration_s < inf")
        self.default_duration_s = default_duration_s
        self.max_duration_s = max_duration_s
        self._armed_until: float | None = None
        self.last_reason = "never armed"
        """Why the policy is disarmed (for state and logs)."""

    def armed(self, now: float) -> bool:
        return self._armed_until is not None and now < self._armed_until

    def remaining_s(self, now: float) -> float | None:
        """Seconds of arming left, or None when disarmed."""
        if self._armed_until is None or now >= self._armed_until:
            return None
        return self._armed_until - now

    def disarm(self, reason: str = "disarmed") -> None:
        self._armed_until = None
        self.last_reason = reason

    def safety_event(self, reason: str) -> None:
        """A safety reaction the daemon detected itself: disarm."""
        self.disarm(f"safety event: {reason}")

    def observe(self, event: DeviceEvent) -> bool:
        """Feed a device event; returns True when it disarmed the policy."""
        if event.kind in DISARMING_EVENTS:
            was_armed = self._armed_until is not None
            self.disarm(f"safety event: {event.kind.value}")
            return was_armed
        return False

    def admit(self, command: Command, now: float) -> CommandResult | None:
        """Decide on one command.

        Returns None when the daemon should go on and execute ``command``; otherwise the result
        to reply with, and the command must not be executed (``Arm`` and ``Disarm`` are fully
        handled here, a belt-moving command while disarmed is refused with ``not_armed``).
        An ``EmergencyStop`` disarms and is always admitted.
        """
        if isinstance(command, Arm):
            duration = self.default_duration_s if command.duration_s is None else command.duration_s
            if not (math.isfinite(duration) and 0 < duration <= self.max_duration_s):
                return CommandResult.failure(
                    ErrorCode.INVALID_VALUE,
                    f"arming duration must be within (0, {self.max_duration_s:g}] s",
                )
            self._armed_until = now + duration
            return CommandResult.success({"armed": True, "expires_in_s": duration})
        if isinstance(command, Disarm):
            self.disarm("disarmed by command")
            return CommandResult.success({"armed": False})
        if isinstance(command, EmergencyStop):
            self.disarm("emergency stop")
            return None
        if needs_arming(command) and not self.armed(now):
            if self._armed_until is not None:
                self.disarm("arming expired")
            return CommandResult.failure(
                ErrorCode.NOT_ARMED,
                f"remote control is not armed ({self.last_reason}); send 'arm' first",
            )
        return None
