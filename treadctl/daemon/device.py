"""One treadmill inside the daemon: its link supervisor, governed treadmill and session runner.

The parts come from the adapters and the control layer; this module only wires them:

- ``ReconnectSupervisor`` keeps the BLE link up and never commands the belt;
- every observation it yields goes to the session runner (which forwards it to the governed
  treadmill), to the arming policy, and to the MQTT bridge as telemetry and events;
- commands (values from MQTT or the command line) go through :meth:`DeviceRuntime.handle`:
  arming first, then the session runner or the governed treadmill, never the link.

The observation path is ``treadctl.daemon.device_observations`` and the commands are
``treadctl.daemon.device_commands``; :class:`DeviceRuntime` combines them with the tasks below.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from treadctl.backoff import backoff_delay
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.supervisor import ReconnectSupervisor
from treadctl.clock import Clock
from treadctl.commands import ArmingPolicy, JsonValue
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.session import REST_OVER, SessionRunner
from treadctl.control.session_states import TERMINAL, SessionSnapshot, SessionState
from treadctl.daemon.device_commands import DeviceCommands
from treadctl.daemon.device_observations import DeviceObservations
from treadctl.daemon.heart_rate import HeartRateFeed
from treadctl.daemon.link_report import FailureLog
from treadctl.daemon.profiles import ProfileCatalog
from treadctl.errors import TreadctlError
from treadctl.history.recorder import DEFAULT_PERSON, SessionOwner
from treadctl.observations import Reading
from treadctl.safety.heart_rate import HeartRateLimits
from treadctl.safety.limits import Limits
from treadctl.safety.phases import Phase
from treadctl.workout.summary import SessionSummary

REST_OVER_REASON = REST_OVER
"""A standing rest with the belt stopped is over; the session waits for a person's resume."""

STOP_DEADLINE_S = 15.0
"""How long a shutdown waits for the belt to report standstill after Stop. A real pad runs down
at about 0.3 km/h per second (docs/references.md#ftms-devices), so 4.0 km/h (the absolute cap) needs
~13 s."""


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


class DeviceRuntime(DeviceObservations, DeviceCommands):
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

    # ----------------------------------------------------------------- reporting

    def _emit(self, event: str, **fields: object) -> None:
        """One log line about this treadmill: its id, and the session's while one is on."""
        if self.session_id is not None:
            fields.setdefault("session", self.session_id)
        self._log(event, device=self.id, **fields)

    def snapshot(self) -> SessionSnapshot:
        return self.runner.snapshot()


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
