"""The session runner: a profile, run through the governor, with pause/resume/skip/stop/nudges.

States: idle -> arming -> starting -> running <-> paused -> stopping -> finished | aborted, as
the table in ``treadctl.control.session_states``.

- ``arm(profile)`` checks the profile against the limits in force and the connected device
  (:func:`treadctl.workout.check.check_profile`, :func:`check_profile_for_device`) and sets its
  cap on the governor; ``start()`` (a person's explicit command) starts the belt.
- The profile's values pass through :class:`GovernedTreadmill` only; every Start is a person's
  ``start()`` or ``resume()``. A rest with the belt stopped ends in ``paused`` ("rest_over"): the
  belt never restarts until a person resumes.
- Reactions (docs/safety.md): safety key, console stop, overspeed, mph confusion and emergency
  stop abort the session; console pause, control loss, disconnect, stale telemetry, a reset, a
  failed command, a start that never moved and the handrail-free block limit pause it. Either
  way nothing restarts the belt without a new explicit ``resume()``.

Decisions are synchronous (:meth:`SessionRunner.tick`, the command methods); :meth:`run` only
waits for a change or the next deadline and ticks. Feed observations to :meth:`observe` (it
forwards them to the governed treadmill and collects the summary).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from treadctl.clock import Clock
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.profile_fit import check_fits, segment_incline, segment_speed
from treadctl.control.session_snapshot import build_snapshot, snapshot_stream
from treadctl.control.session_states import (
    TERMINAL,
    SessionEvent,
    SessionSnapshot,
    SessionState,
    next_state,
)
from treadctl.observations import Observation, Reading
from treadctl.safety.errors import BeltStateError, InvariantError, SafetyRefusal
from treadctl.safety.events import ABORT_ON, LatchReason
from treadctl.safety.phases import Phase
from treadctl.workout.engine import PlannedSegment, Position, Timeline
from treadctl.workout.models import Profile
from treadctl.workout.summary import SessionSummary, SummaryBuilder

REST_OVER = "rest_over"
PAUSED_BY_USER = "paused_by_user"
STOPPED_BY_USER = "stopped_by_user"


class SessionRunner:
    """Runs one profile at a time on a :class:`GovernedTreadmill`. Reusable after it ends."""

    def __init__(self, belt: GovernedTreadmill, *, clock: Clock | None = None) -> None:
        self._belt = belt
        self._clock: Clock = clock if clock is not None else belt.clock
        self._event = belt.watch()
        self._subscribers: list[asyncio.Event] = []
        self._state = SessionState.IDLE
        self._reset()

    def _reset(self) -> None:
        self._to(SessionEvent.RESET)
        self._reason: str | None = None
        self._profile: Profile | None = None
        self._timeline: Timeline | None = None
        self._active = 0.0
        self._last_tick: float | None = None
        self._index: int | None = None
        self._latch_seen: LatchReason | None = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._builder = SummaryBuilder()
        self._summary: SessionSummary | None = None

    # ----------------------------------------------------------------- values

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def belt(self) -> GovernedTreadmill:
        return self._belt

    @property
    def profile(self) -> Profile | None:
        return self._profile

    @property
    def summary(self) -> SessionSummary | None:
        """The summary once the session is finished or aborted."""
        return self._summary

    def snapshot(self) -> SessionSnapshot:
        gs = self._belt.state()
        pos = self._position()
        return build_snapshot(
            at=self._clock.now(),
            state=self._state,
            reason=self._reason,
            rest_over=self._state == SessionState.PAUSED and self._reason == REST_OVER,
            profile=self._profile,
            timeline=self._timeline,
            pos=pos,
            active_s=self._active,
            gs=gs,
        )

    def snapshots(self) -> AsyncIterator[SessionSnapshot]:
        """Snapshots as they change, ending after the finished/aborted one."""
        return snapshot_stream(self.snapshot, self._subscribers)

    # ----------------------------------------------------------------- commands (people)

    def arm(self, profile: Profile) -> None:
        """Check ``profile`` for the limits in force and this device, and get ready."""
        if self._state not in (SessionState.IDLE, SessionState.ARMING, *TERMINAL):
            raise BeltStateError("select a profile", f"session {self._state.value}")
        check_fits(profile, self._belt.limits, self._belt.info)
        self._reset()
        self._profile = profile
        self._timeline = Timeline(profile)
        self._index = 0
        self._to(SessionEvent.ARM)
        self._belt.set_profile_cap(profile.cap)
        self._publish()

    def start(self) -> None:
        """A person starts the armed profile (explicit: the belt may start)."""
        if self._state != SessionState.ARMING:
            raise BeltStateError("start", f"session {self._state.value}")
        self._started_at = self._clock.now()
        self._start_belt()
        self._to(SessionEvent.START)
        self._publish()

    def pause(self) -> None:
        if self._state not in (SessionState.STARTING, SessionState.RUNNING):
            raise BeltStateError("pause", f"session {self._state.value}")
        self._advance(self._clock.now())
        self._belt.stop(pause=True, reason="session paused")
        self._to_paused(PAUSED_BY_USER)

    def resume(self) -> None:
        """A person resumes (explicit: the belt may start again). During a stopped rest it
        ends the rest early."""
        pos = self._position()
        in_rest = (
            self._state == SessionState.RUNNING and pos is not None and pos.planned.belt_stopped
        )
        if self._state != SessionState.PAUSED and not in_rest:
            raise BeltStateError("resume", f"session {self._state.value}")
        if pos is not None and pos.planned.belt_stopped:
            self._jump_to(pos.planned.index + 1)
        if self._position() is None:
            self._finish(None)
            return
        self._start_belt()
        self._reason = None
        self._to(SessionEvent.RESUME)
        self._publish()

    def skip(self) -> None:
        """Go to the next segment now."""
        if self._state not in (SessionState.RUNNING, SessionState.PAUSED):
            raise BeltStateError("skip a segment", f"session {self._state.value}")
        pos = self._position()
        if pos is None:
            return
        self._jump_to(pos.planned.index + 1)
        if self._state == SessionState.RUNNING:
            self.tick()
        else:
            self._publish()

    def stop(self) -> None:
        """A person ends the session: the belt stops, the session finishes."""
        if self._state in TERMINAL or self._state == SessionState.IDLE:
            raise BeltStateError("stop", f"session {self._state.value}")
        self._advance(self._clock.now())
        if self._state == SessionState.ARMING:
            self._finish(STOPPED_BY_USER)
            return
        self._belt.stop(reason="session stopped")
        self._reason = STOPPED_BY_USER
        self._to(SessionEvent.STOP)
        self._builder.pause()
        self.tick()

    def emergency_stop(self) -> None:
        """Stop the belt ahead of everything; the session is aborted."""
        self._belt.emergency_stop()
        if self._state not in TERMINAL and self._state != SessionState.IDLE:
            self._advance(self._clock.now())
            self._abort(LatchReason.EMERGENCY_STOP.value)
            self._latch_seen = LatchReason.EMERGENCY_STOP

    def nudge(self, delta: int) -> int:
        """Change the speed by ``delta`` (0.01 km/h) from the current target: a person's
        request, judged by the governor (:meth:`request_speed`). Returns the new target."""
        target = self._belt.state().target_speed
        if target is None:
            raise BeltStateError("nudge the speed", f"session {self._state.value}")
        return self.request_speed(target + delta)

    def request_speed(self, speed: int) -> int:
        """A person asks for ``speed`` (0.01 km/h) in the current segment, until the next one.
        The governor applies every rule (caps, never above what was asked, +0.1 km/h at a time
        and per minute, none in the first 3 minutes of a block). Returns the new target."""
        pos = self._position()
        if self._state != SessionState.RUNNING or pos is None or pos.planned.speed is None:
            raise BeltStateError("nudge the speed", f"session {self._state.value}")
        target = self._belt.request_speed(speed)
        self._publish()
        return target

    # ----------------------------------------------------------------- observations

    def observe(self, obs: Observation) -> None:
        """Feed an observation (forwarded to the governed treadmill) and react to it."""
        obs = self._belt.observe(obs)  # re-stamped on the session's clock
        if isinstance(obs, Reading) and self._state == SessionState.RUNNING:
            self._builder.add(obs)
        self.tick()

    # ----------------------------------------------------------------- running

    async def run(self) -> SessionSummary:
        """Drive the session until it finishes or aborts; returns the summary."""
        try:
            while True:
                self._event.clear()
                self.tick()
                if self._summary is not None:
                    return self._summary
                await self._clock.wait(self._event, self._next_deadline())
        finally:
            if self._state not in TERMINAL and self._state != SessionState.IDLE:
                # Cancelled with the belt possibly moving: stop it (the governed treadmill
                # sends it, or does so when its own context closes).
                self._belt.stop(reason="session runner cancelled")
                self._abort("cancelled")

    def tick(self) -> None:
        """Decide what the session does now (react, advance, apply the segment)."""
        now = self._clock.now()
        gs = self._belt.state()
        if self._state in TERMINAL or self._state in (SessionState.IDLE, SessionState.ARMING):
            self._last_tick = now
            return
        self._advance(now)
        if gs.latch is not None and gs.latch != self._latch_seen:
            self._latch_seen = gs.latch
            self._react(gs.latch)
        if self._state == SessionState.STARTING and gs.phase == Phase.RUNNING and gs.latch is None:
            self._to(SessionEvent.BELT_RUNNING)
            self._last_tick = now
            self._apply(force=True)
        elif self._state == SessionState.RUNNING:
            self._apply(force=False)
        elif self._state == SessionState.STOPPING and (
            gs.phase == Phase.STOPPED or not gs.connected
        ):
            self._finish(self._reason)
        self._publish()

    # ----------------------------------------------------------------- internals

    def _position(self) -> Position | None:
        if self._timeline is None:
            return None
        return self._timeline.at(self._active)

    def _advance(self, now: float) -> None:
        if self._state == SessionState.RUNNING and self._last_tick is not None:
            self._active += max(0.0, now - self._last_tick)
        self._last_tick = now

    def _jump_to(self, index: int) -> None:
        if self._timeline is None:
            raise InvariantError("SessionRunner._jump_to", "no profile armed")
        self._active = float(self._timeline.start_of(index))

    def _start_belt(self) -> None:
        pos = self._position()
        if pos is None:
            raise InvariantError("SessionRunner._start_belt", "the profile is over")
        planned = pos.planned
        self._belt.start(self._segment_speed(planned), incline=self._segment_incline(planned))
        self._latch_seen = None
        self._index = pos.planned.index

    def _segment_speed(self, planned: PlannedSegment) -> int:
        return segment_speed(planned, self._belt.info)

    def _segment_incline(self, planned: PlannedSegment) -> int | None:
        return segment_incline(planned, self._belt.info)

    def _apply(self, *, force: bool) -> None:
        """Bring the governor's targets to the current segment (on a segment change)."""
        pos = self._position()
        if pos is None:
            self._belt.stop(reason="profile complete")
            self._to(SessionEvent.PROFILE_OVER)
            self._builder.pause()
            return
        planned = pos.planned
        if not force and planned.index == self._index:
            return
        previous = self._index
        self._index = planned.index
        block = pos.block_elapsed_s
        self._belt.set_block_start(None if block is None else self._clock.now() - block)
        if planned.belt_stopped:
            self._belt.stop(reason="standing rest")
            self._builder.pause()
            return
        prev_rest = (
            previous is not None
            and self._timeline is not None
            and previous < len(self._timeline.segments)
            and self._timeline.segments[previous].belt_stopped
        )
        if prev_rest and previous != planned.index:
            # The rest is over: the belt is stopped and only a person may start it again.
            self._jump_to(planned.index)
            self._index = planned.index
            self._to_paused(REST_OVER)
            return
        try:
            self._belt.set_speed(self._segment_speed(planned))
            incline = self._segment_incline(planned)
            if incline is not None:
                self._belt.set_incline(incline)
        except SafetyRefusal as exc:
            self._belt.stop(reason="segment refused")
            self._abort(f"refused: {exc}")

    def _react(self, latch: LatchReason) -> None:
        if self._state in TERMINAL:
            return
        if latch in ABORT_ON or self._state == SessionState.STOPPING:
            self._abort(latch.value)
        else:
            self._to_paused(latch.value)

    def _to_paused(self, reason: str) -> None:
        self._to(SessionEvent.PAUSE)
        self._reason = reason
        self._builder.pause()
        self._publish()

    def _abort(self, reason: str) -> None:
        self._to(SessionEvent.ABORT)
        self._reason = reason
        self._end()

    def _finish(self, reason: str | None) -> None:
        self._to(SessionEvent.FINISH)
        self._reason = reason
        self._end()

    def _end(self) -> None:
        now = self._clock.now()
        self._ended_at = now
        self._belt.set_profile_cap(None)
        started = self._started_at if self._started_at is not None else now
        self._summary = self._builder.build(
            profile=self._profile.name if self._profile else None,
            ended=self._state.value,
            reason=self._reason,
            duration_s=now - started,
            active_s=self._active,
        )
        self._publish()

    def _next_deadline(self) -> float | None:
        if self._state != SessionState.RUNNING:
            return None
        pos = self._position()
        if pos is None:
            return self._clock.now()
        return self._clock.now() + pos.segment_remaining_s

    def _to(self, event: SessionEvent) -> None:
        """The one place the state changes: the table in ``treadctl.control.session_states``."""
        self._state = next_state(self._state, event)

    def _publish(self) -> None:
        for event in self._subscribers:
            event.set()
