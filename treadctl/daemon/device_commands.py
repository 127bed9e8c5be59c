"""A treadmill's commands: arming, then the session runner or the governed treadmill.

:class:`DeviceCommands` is the command part of :class:`treadctl.daemon.device.DeviceRuntime`:
every command (a value from MQTT or the command line) is decided here, synchronously (the
governor's sender does the I/O), and answered with a :class:`~treadctl.commands.CommandResult`.
Sessions start here (:meth:`DeviceCommands.start_profile`), always on a person's explicit command.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from treadctl.clock import Clock
from treadctl.commands import (
    ArmingPolicy,
    Command,
    CommandResult,
    EmergencyStop,
    ErrorCode,
    JsonValue,
    Pause,
    RateSession,
    ReloadProfiles,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartNext,
    StartProfile,
    Stop,
    needs_arming,
)
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.profile_fit import ProfileRefusedError
from treadctl.control.session import SessionRunner
from treadctl.control.session_states import TERMINAL, SessionState
from treadctl.daemon.heart_rate import HeartRateFeed
from treadctl.daemon.profiles import ProfileCatalog
from treadctl.errors import TreadctlError
from treadctl.history.recorder import PlannedStart, SessionOwner
from treadctl.safety.errors import LimitExceededError
from treadctl.safety.phases import Phase
from treadctl.workout.check import Problem
from treadctl.workout.loader import ProfileNotFoundError

if TYPE_CHECKING:
    from treadctl.daemon.device import CueListener


class UnknownPersonError(TreadctlError):
    """A command names a person who is not in ``[[people]]`` (``person`` None: it names
    nobody and there is no default person)."""

    def __init__(self, person: str | None, known: list[str]) -> None:
        self.person = person
        names = ", ".join(known) or "none"
        if person is None:
            text = (
                f"no default person: several are configured ({names}) and none is the default; "
                "name one, or set default = true on one"
            )
        else:
            text = f"no person {person!r} is configured (known: {names})"
        super().__init__(text)


class DeviceCommands:
    """The command part of :class:`treadctl.daemon.device.DeviceRuntime` (which sets these)."""

    id: str
    clock: Clock
    arming: ArmingPolicy
    catalog: ProfileCatalog
    governed: GovernedTreadmill
    runner: SessionRunner
    people: Callable[[str | None], str]
    selected_profile: str | None
    last_error: str | None
    link_up: bool
    session_id: str | None
    owner: SessionOwner | None
    session_begun: asyncio.Event
    session_over: asyncio.Event
    cues: CueListener | None
    heart_rate: HeartRateFeed | None
    _changed: asyncio.Event
    _session_started: asyncio.Event

    if TYPE_CHECKING:

        def _emit(self, event: str, **fields: object) -> None: ...

    def handle_local(self, command: Command) -> CommandResult:
        """A command from a person at the treadmill's own terminal (``treadctl session``,
        the demo): the same path as :meth:`handle` minus remote arming."""
        return self.handle(command, local=True)

    def handle(
        self, command: Command, *, local: bool = False, plan: PlannedStart | None = None
    ) -> CommandResult:
        """Decide and act on one command (synchronously: the governor's sender does the I/O).

        Remote commands (``local=False``, from MQTT) that can move the belt need arming.
        ``plan``: for :class:`StartNext`, the stage the daemon looked up in the history."""
        now = self.clock.now()
        if isinstance(command, EmergencyStop):
            self.arming.admit(command, now)
            self.runner.emergency_stop()
            self._emit("emergency_stop")
            if self.cues is not None:
                self.cues.safety(self.id, "emergency_stop")
            self._changed.set()
            return CommandResult.success({"stopping": True})
        refused = None if local else self.arming.admit(command, now)
        if refused is not None:
            self._changed.set()
            return refused
        if needs_arming(command) and not self.link_up:
            return CommandResult.failure(
                ErrorCode.LINK_DOWN, "the treadmill is not connected; nothing is queued"
            )
        try:
            result = self._execute(command, plan)
        except UnknownPersonError as exc:
            result = CommandResult.failure(ErrorCode.UNKNOWN_PERSON, str(exc))
        except ProfileNotFoundError as exc:
            result = CommandResult.failure(ErrorCode.UNKNOWN_PROFILE, str(exc))
        except LimitExceededError as exc:
            result = CommandResult.failure(ErrorCode.OVER_CAP, str(exc))
        except ProfileRefusedError as exc:
            over = any(_cap_problem(p) for p in exc.problems)
            result = CommandResult.failure(
                ErrorCode.OVER_CAP if over else ErrorCode.REFUSED, str(exc)
            )
        except TreadctlError as exc:
            result = CommandResult.failure(ErrorCode.REFUSED, str(exc))
        if not result.ok and result.error is not None:
            self.last_error = result.error.message
        self._changed.set()
        return result

    def _execute(self, command: Command, plan: PlannedStart | None) -> CommandResult:
        if isinstance(command, StartProfile):
            name = command.profile or self.selected_profile
            if name is None:
                return CommandResult.failure(
                    ErrorCode.UNKNOWN_PROFILE, "no profile given and none selected"
                )
            person = command.options.get("person")
            owner = SessionOwner(self.people(person if isinstance(person, str) else None))
            self.start_profile(name, owner)
            return CommandResult.success({"profile": name, "person": owner.person})
        if isinstance(command, StartNext):
            return self._start_next(plan)
        if isinstance(command, RateSession):
            return CommandResult.failure(
                ErrorCode.REFUSED, "ratings are stored by the daemon's history, not a treadmill"
            )
        if isinstance(command, SelectProfile):
            self.catalog.get(command.profile)
            self.selected_profile = command.profile
            return CommandResult.success({"selected": command.profile})
        if isinstance(command, Pause):
            self.runner.pause()
        elif isinstance(command, Resume):
            self.runner.resume()
        elif isinstance(command, Stop):
            if self.runner.state in TERMINAL or self.runner.state == SessionState.IDLE:
                self.governed.stop(reason="stop command")
            else:
                self.runner.stop()
        elif isinstance(command, SetSpeed):
            return self._set_speed(command)
        elif isinstance(command, SetIncline):
            return CommandResult.success(
                {"target_percent": self.governed.set_incline(command.deci) / 10}
            )
        elif isinstance(command, SkipSegment):
            self.runner.skip()
        elif isinstance(command, ReloadProfiles):
            report = self.catalog.reload()
            data: dict[str, JsonValue] = {
                "loaded": list(report.loaded),
                "problems": list(report.problems),
            }
            return CommandResult.success(data)
        return CommandResult.success({"session": self.runner.state.value})

    def _set_speed(self, command: SetSpeed) -> CommandResult:
        """A person's speed change; the governor applies every speed rule (``request_speed``).
        During a session it holds until the next segment. A stopped belt is not started by
        ``set_speed`` (start a profile or resume instead): starting is always explicit."""
        cap = self.governed.state().speed_cap
        if command.centi > cap:
            # Refused, never clamped (safety rules); before the nudge rules, so the reply
            # names the cap.
            return CommandResult.failure(
                ErrorCode.OVER_CAP,
                f"{command.centi / 100:g} km/h is above the cap in force here ({cap / 100:g} km/h)",
            )
        if self.runner.state == SessionState.RUNNING:
            target = self.runner.request_speed(command.centi)
        elif self.governed.state().phase != Phase.RUNNING:
            return CommandResult.failure(
                ErrorCode.REFUSED,
                "the belt is not running; start a profile (set_speed never starts the belt)",
            )
        else:
            target = self.governed.request_speed(command.centi)
        return CommandResult.success({"target_kmh": target / 100})

    def _start_next(self, plan: PlannedStart | None) -> CommandResult:
        if plan is None:
            return CommandResult.failure(
                ErrorCode.HISTORY_UNAVAILABLE,
                "start_next needs the person's stage from the history",
            )
        self.start_profile(plan.profile, plan.owner)
        return CommandResult.success(
            {
                "profile": plan.profile,
                "person": plan.owner.person,
                "program": plan.owner.program,
                "stage": plan.owner.stage,
                "stage_name": plan.stage_name,
                "warnings": list(plan.warnings),
            }
        )

    def start_profile(self, name: str, owner: SessionOwner | None = None) -> None:
        """Arm and start a profile (an explicit start by a person). Raises on refusal."""
        owner = owner or SessionOwner(self.people(None))
        profile = self.catalog.get(name)
        if self.heart_rate is not None:
            self.heart_rate.begin(owner.person)
        self.runner.arm(profile)
        self.runner.start()
        self.session_id = f"{name}-{secrets.token_hex(4)}"
        self.owner = owner
        self.selected_profile = name
        self._session_started.set()
        self.session_over.clear()
        self.session_begun.set()
        self._emit("session_start", profile=name, person=owner.person, stage=owner.stage)
        if self.cues is not None:
            self.cues.session_started(self.id)

    def resume_after_rest(self) -> None:
        """The person presses resume (used by the demo, which plays the person)."""
        self.runner.resume()


def _cap_problem(problem: Problem) -> bool:
    """A profile problem that is about a speed cap (the profile's cap or a segment's speed above
    the caps in force), as opposed to its shape or the device's range."""
    return problem.field == ("cap_kmh",) or (
        bool(problem.field) and problem.field[-1] == "speed_kmh" and " cap " in problem.reason
    )
