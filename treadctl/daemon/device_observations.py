"""A treadmill's observations: what the link supervisor yields, and what follows from it.

:class:`DeviceObservations` is the observation part of
:class:`treadctl.daemon.device.DeviceRuntime`: every reading and event goes to the session
runner (which forwards it to the governed treadmill), to the arming policy and to the sink
(telemetry, events, availability); link state changes and failed connection attempts are
reported (logged when due, kept for the published state); the governor's notices are logged
and the safety ones published; a belt found moving at the first reading is stopped.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from treadctl.ble.diagnosis import LinkProblem
from treadctl.ble.supervisor import LinkState, LinkStateEvent, ReconnectSupervisor
from treadctl.commands import ArmingPolicy
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.session import SessionRunner
from treadctl.control.session_states import SessionState
from treadctl.daemon.heart_rate import HeartRateFeed
from treadctl.daemon.link_report import FailureLog
from treadctl.observations import DeviceEvent, Reading
from treadctl.safety.events import PUBLISHED_EVENTS, SAFETY_EVENTS

if TYPE_CHECKING:
    from treadctl.daemon.device import CueListener, DeviceSink


class DeviceObservations:
    """The observation part of :class:`treadctl.daemon.device.DeviceRuntime` (which sets these)."""

    id: str
    arming: ArmingPolicy
    supervisor: ReconnectSupervisor
    governed: GovernedTreadmill
    runner: SessionRunner
    link_up: bool
    link_error: str | None
    connected: asyncio.Event
    reading: asyncio.Event
    last_reading: Reading | None
    cues: CueListener | None
    heart_rate: HeartRateFeed | None
    _failures: FailureLog
    _first_reading_seen: bool
    _changed: asyncio.Event

    if TYPE_CHECKING:

        def _emit(self, event: str, **fields: object) -> None: ...

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
