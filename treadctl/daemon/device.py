"""One treadmill inside the daemon: its link supervisor, governed treadmill and session runner.

The parts come from the adapters and the control layer; this module only wires them:

- ``ReconnectSupervisor`` keeps the BLE link up and never commands the belt;
- every observation it yields goes to the session runner (which forwards it to the governed
  treadmill), to the arming policy, and to the MQTT bridge as telemetry and events;
- commands (values from MQTT or the command line) go through :meth:`DeviceRuntime.handle`:
  arming first, then the session runner or the governed treadmill, never the link.

Task layout (owned by :meth:`DeviceRuntime.run`, itself a task of the daemon's TaskGroup)::

    link TaskGroup: supervisor.run
      GovernedTreadmill context (its sender task)
        work TaskGroup: observation pump, session loop, state publisher, link watch

The governed treadmill's context is inside the group that keeps the link, and the tasks that
can fail are in the inner group, so when the device's tasks end for any reason (an exception in
one of them, or cancellation) the governed treadmill sends its graceful Stop while the link is
still up; only then is the link task cancelled. On a normal shutdown the daemon first calls
:meth:`DeviceRuntime.stop_belt` (Stop, then wait until the belt stands).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from treadctl.backoff import backoff_delay
from treadctl.ble.diagnosis import LinkProblem
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.supervisor import LinkState, LinkStateEvent, ReconnectSupervisor
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
from treadctl.control.session import REST_OVER, ProfileRefusedError, SessionRunner
from treadctl.control.session_states import TERMINAL, SessionSnapshot, SessionState
from treadctl.daemon.heart_rate import HeartRateFeed
from treadctl.daemon.link_report import FailureLog
from treadctl.daemon.profiles import ProfileCatalog
from treadctl.errors import TreadctlError
from treadctl.history.recorder import DEFAULT_PERSON, PlannedStart, SessionOwner
from treadctl.observations import DeviceEvent, Reading
from treadctl.safety.errors import LimitExceededError
from treadctl.safety.events import PUBLISHED_EVENTS, SAFETY_EVENTS
from treadctl.safety.heart_rate import HeartRateLimits
from treadctl.safety.limits import Limits
from treadctl.safety.phases import Phase
from treadctl.workout.check import Problem
from treadctl.workout.loader import ProfileNotFoundError
from treadctl.workout.summary import SessionSummary

REST_OVER_REASON = REST_OVER
"""A standing rest with the belt stopped is over; the session waits for a person's resume."""

STOP_DEADLINE_S = 15.0
"""How long a shutdown waits for the belt to report standstill after Stop. A real pad runs down
at about 0.3 km/h per second (docs/references.md#ftms-devices), so 4.0 km/h (the absolute cap) needs
~13 s."""


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


def _anyone(person: str | None) -> str:
    return person or DEFAULT_PERSON


class LinkSupervisorFailed(TreadctlError):
    """The link supervisor of a treadmill ended with an exception (a bug: it retries errors)."""

    def __init__(self) -> None:
        super().__init__("the BLE link supervisor failed")


class DeviceSink(Protocol):
    """Where a device publishes (the MQTT bridge, through the daemon's adapter)."""

    async def availability(self, device: str, up: bool) -> None: ...

    async def telemetry(self, device: str, reading: Reading) -> None: ...

    async def event(
        self, device: str, kind: str, message: str, data: dict[str, JsonValue]
    ) -> None: ...

    async def state(self, runtime: DeviceRuntime) -> None: ...


class CueListener(Protocol):
    """Told about session starts and safety reactions (the daemon's spoken cues). Both calls
    are synchronous and must return at once: they are made on the observation path."""

    def session_started(self, device: str) -> None: ...

    def safety(self, device: str, kind: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionResult:
    """A session that ended, with its summary."""

    device: str
    summary: SessionSummary


class DeviceRuntime:
    """Everything the daemon runs for one treadmill."""

    def __init__(
        self,
        device_id: str,
        options: LinkOptions,
        limits: Limits,
        catalog: ProfileCatalog,
        *,
        clock: Clock,
        arming: ArmingPolicy,
        log: Callable[..., None],
        reconnect_max_backoff_s: float = 30.0,
        people: Callable[[str | None], str] = _anyone,
    ) -> None:
        self.id = device_id
        self.options = options
        self.catalog = catalog
        self.clock = clock
        self.arming = arming
        self._log = log
        self.supervisor = ReconnectSupervisor(
            lambda: TreadmillLink(options, clock=clock.now),
            clock=clock.now,
            backoff=functools.partial(backoff_delay, maximum_s=reconnect_max_backoff_s),
        )
        self.governed = GovernedTreadmill(self.supervisor.port, limits, clock=clock)
        self.runner = SessionRunner(self.governed, clock=clock)
        self.selected_profile: str | None = None
        self.last_error: str | None = None
        self.link_up = False
        self.link_error: str | None = None
        """Why the last connection attempt failed (or why the link dropped), until it is up;
        published as MQTT ``link_error`` and in systemd's ``STATUS=``."""
        self._failures = FailureLog()
        self.results: asyncio.Queue[SessionResult] = asyncio.Queue()
        """Every session's end, in order (the CLI's live view waits on this)."""
        self.connected = asyncio.Event()
        self.reading = asyncio.Event()
        """Set once a Treadmill Data record arrived on the current connection (the governor
        starts a belt only on fresh telemetry); cleared when the link goes down."""
        self._session_started = asyncio.Event()
        self._first_reading_seen = False
        self.people = people
        """Resolves a command's person (None: the default one); raises UnknownPersonError."""
        self.owner: SessionOwner | None = None
        """Who the current (or last) session is for, and its program stage."""
        self.last_reading: Reading | None = None
        """The newest Treadmill Data record (the history's samples read it)."""
        self.session_begun = asyncio.Event()
        """Set at each session start (the history recorder clears it)."""
        self.session_over = asyncio.Event()
        """Set when the current session ended (cleared at the next start)."""
        self.session_id: str | None = None
        """Id of the current (or last) session, on its log lines: ``<profile>-<8 hex>``."""
        self._changed = asyncio.Event()
        self.cues: CueListener | None = None
        """Spoken cues (set by the daemon when speech or cue events are on)."""
        self.heart_rate: HeartRateFeed | None = None
        """The heart-rate source and guard wiring (:meth:`attach_heart_rate`), if configured."""

    def _heart_rate_cue(self, kind: str) -> None:
        if self.cues is not None:
            self.cues.safety(self.id, kind)

    def sample_reading(self) -> Reading | None:
        """The newest Treadmill Data record for the history, its heart rate taken from the
        configured heart-rate source when there is one (the guard's last plausible value: never
        a 0 or 255 of a faulty sensor, None while the signal is lost)."""
        reading = self.last_reading
        if reading is None or self.heart_rate is None:
            return reading
        return dataclasses.replace(reading, heart_rate_bpm=self.heart_rate.state().bpm)

    def attach_heart_rate(
        self,
        source: str,
        limits_for: Callable[[str | None], HeartRateLimits | None],
        strap_options: LinkOptions | None = None,
        reconnect_max_backoff_s: float = 30.0,
    ) -> HeartRateFeed:
        """Give this treadmill a heart-rate source (docs/heart-rate.md); before :meth:`run`.
        The default person's limits guard the belt until a session names its person."""
        feed = HeartRateFeed(
            self.id,
            source,
            self.governed,
            clock=self.clock,
            log=self._log,
            limits_for=limits_for,
            strap_options=strap_options,
            reconnect_max_backoff_s=reconnect_max_backoff_s,
        )
        feed.changed = self._changed
        feed.cue = self._heart_rate_cue
        feed.begin(None)
        self.heart_rate = feed
        return feed

    # ----------------------------------------------------------------- running

    async def run(self, sink: DeviceSink | None) -> None:
        """Run until cancelled. The belt is stopped gracefully on the way out, whatever ended
        the run (cancellation, or an exception in any of this device's tasks)."""
        # Every task below (and what it logs, bleak's and bumble's lines included) carries the
        # device id: tasks copy the context they are created in.
        with structlog.contextvars.bound_contextvars(device=self.id):
            await self._run(sink)

    async def _run(self, sink: DeviceSink | None) -> None:
        async with asyncio.TaskGroup() as link_group:
            link = link_group.create_task(self.supervisor.run(), name=f"{self.id}-link")
            try:
                # The governed treadmill's exit sends Stop; the link task is outside the group
                # that a failing task cancels, so it is still up when that Stop goes out.
                async with self.governed, asyncio.TaskGroup() as work:
                    work.create_task(self._pump(sink), name=f"{self.id}-observations")
                    work.create_task(self._sessions(sink), name=f"{self.id}-sessions")
                    if sink is not None:
                        work.create_task(self._publish_state(sink), name=f"{self.id}-state")
                    work.create_task(self._link_watch(link), name=f"{self.id}-link-watch")
                    if self.heart_rate is not None:
                        work.create_task(self.heart_rate.run(sink), name=f"{self.id}-heart-rate")
            finally:
                link.cancel()

    @staticmethod
    async def _link_watch(link: asyncio.Task[None]) -> None:
        """Ends the work group when the link supervisor itself fails (it never returns)."""
        await asyncio.wait([link])
        if not link.cancelled() and link.exception() is not None:
            raise LinkSupervisorFailed() from link.exception()

    async def stop_belt(self, reason: str) -> None:
        """Stop the belt and wait (bounded) until it stands; used before shutting down."""
        if self.runner.state not in TERMINAL and self.runner.state != SessionState.IDLE:
            with contextlib.suppress(TreadctlError):
                self.runner.stop()
        st = self.governed.state()
        if st.connected and (st.phase != Phase.STOPPED or bool(st.belt_speed)):
            self.governed.stop(reason=reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_DEADLINE_S):
                await self.governed.wait_stopped()

    async def _pump(self, sink: DeviceSink | None) -> None:
        async for item in self.supervisor.observations():
            if isinstance(item, LinkStateEvent):
                await self._link_state(item, sink)
                continue
            self.runner.observe(item)
            if isinstance(item, Reading):
                self.last_reading = item
                if self.heart_rate is not None:
                    self.heart_rate.treadmill_reading(item)
            if isinstance(item, Reading) and self.link_up:
                self.reading.set()
            if isinstance(item, Reading) and not self._first_reading_seen:
                self._first_reading_seen = True
                await self._found_moving(item, sink)
            if isinstance(item, DeviceEvent):
                await self._device_event(item, sink)
            elif sink is not None:
                await sink.telemetry(self.id, item)
            for notice in self.governed.drain_notices():
                self._emit("governor", what=notice.what, latch=notice.latch)
                reaction = SAFETY_EVENTS[notice.latch] if notice.latch is not None else None
                if reaction is not None and self.cues is not None:
                    self.cues.safety(self.id, reaction.reason.value)
                if reaction is not None and reaction.disarms:
                    self.arming.safety_event(reaction.reason.value)
                if reaction is not None and reaction.published and sink is not None:
                    await sink.event(
                        self.id, reaction.reason.value, notice.what, {"source": "governor"}
                    )
            self._changed.set()

    async def _found_moving(self, reading: Reading, sink: DeviceSink | None) -> None:
        """The first reading of this process shows a moving belt that no session of ours
        drives: treadctl was restarted (or killed) under a running belt. As after a disconnect
        (docs/safety.md, "Reactions"): Request Control + Stop, and remote control must be armed
        again. Nothing is restarted or re-applied."""
        if not reading.speed or self.runner.state != SessionState.IDLE:
            return
        reason = "belt moving when treadctl started (restart)"
        self.governed.stop(reason=reason)
        self.arming.safety_event("restart")
        self._emit("restart_stop", speed_kmh=reading.speed / 100)
        if self.cues is not None:
            self.cues.safety(self.id, "restart_stop")
        if sink is not None:
            await sink.event(self.id, "restart_stop", reason, {"speed_kmh": reading.speed / 100})

    async def _link_state(self, event: LinkStateEvent, sink: DeviceSink | None) -> None:
        up = event.state == LinkState.CONNECTED
        if event.state == LinkState.DISCONNECTED and event.problem is not None:
            self._report_failure(event.problem, event.retry_in_s)
        if up and self._failures.attempts:
            self._emit("link_recovered", failed_attempts=self._failures.recovered())
        if up:
            self.link_error = None
        if up != self.link_up:
            self.link_up = up
            self._emit("link", state=event.state.value, reason=event.reason)
            if up:
                self.connected.set()
            else:
                self.connected.clear()
                self.reading.clear()
            if sink is not None:
                await sink.availability(self.id, up)
        self._changed.set()

    def _report_failure(self, problem: LinkProblem, retry_in_s: float | None) -> None:
        """A failed attempt (or a dropped link): remembered for the state, logged when due."""
        self.link_error = problem.message
        if problem.code == "link_lost" and self.link_up:
            return  # the "link" line below says it, with the reason
        # Real time, not the device clock (which a simulator's speedup compresses).
        line = self._failures.failed(time.monotonic(), problem.message)
        if line is None:
            return
        self._emit(
            "link_failed",
            level="warning",
            problem=problem.code,
            error=problem.message,
            attempts=line.attempts,
            unlogged=line.unlogged,
            retry_in_s=None if retry_in_s is None else round(retry_in_s, 1),
        )

    async def _device_event(self, event: DeviceEvent, sink: DeviceSink | None) -> None:
        if event.echo:
            # Our own procedure echoed by the device (Stop, Pause, the link's idle Reset): not a
            # person at the console, so neither a reason to disarm nor a safety event to publish
            # (the governor does not latch on it either).
            self._emit("device_echo", kind=event.kind.value, detail=event.detail)
            return
        if self.arming.observe(event):
            self._emit("disarmed", reason=event.kind.value)
        if event.kind in PUBLISHED_EVENTS:
            self._emit("device_event", kind=event.kind.value, detail=event.detail)
            if sink is not None:
                await sink.event(self.id, event.kind.value, event.detail, {})

    async def _sessions(self, sink: DeviceSink | None) -> None:
        while True:
            await self._session_started.wait()
            self._session_started.clear()
            summary = await self.runner.run()
            self.session_over.set()
            self._emit(
                "session_end",
                profile=summary.profile,
                ended=summary.ended,
                reason=summary.reason,
            )
            if sink is not None:
                data = summary_json(summary)
                if self.heart_rate is not None:
                    data["heart_rate"] = self.heart_rate.summary()
                await sink.event(self.id, "session_" + summary.ended, summary.reason or "", data)
            await self.results.put(SessionResult(self.id, summary))
            self._changed.set()

    async def _publish_state(self, sink: DeviceSink) -> None:
        """Publish the state whenever something changed: every observation, command, link
        change and session end sets ``_changed`` (the bridge coalesces retained updates)."""
        while True:
            self._changed.clear()
            await sink.state(self)
            await self._changed.wait()

    # ----------------------------------------------------------------- commands

    def _emit(self, event: str, **fields: object) -> None:
        """One log line about this treadmill: its id, and the session's while one is on."""
        if self.session_id is not None:
            fields.setdefault("session", self.session_id)
        self._log(event, device=self.id, **fields)

    def snapshot(self) -> SessionSnapshot:
        return self.runner.snapshot()

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


def summary_json(summary: SessionSummary) -> dict[str, JsonValue]:
    return {
        "profile": summary.profile,
        "ended": summary.ended,
        "reason": summary.reason,
        "duration_s": round(summary.duration_s, 1),
        "active_s": round(summary.active_s, 1),
        "distance_m": summary.distance_m,
        "average_kmh": summary.average_speed / 100,
        "max_kmh": summary.max_speed / 100,
        "steps": summary.steps,
    }
