"""GovernedTreadmill: the only object that sends speed, incline, start or stop to a treadmill.

It wraps a :class:`~treadctl.control.port.TreadmillPort` and executes, one at a time, the
commands the pure :class:`~treadctl.safety.governor.Governor` decides (FTMS v1.0 §4.16.3: one
control-point procedure at a time). Requests from people, profiles, MQTT and the CLI go through
its methods, which refuse with typed errors (``treadctl.safety.errors``) and never clamp.

Use it as an async context manager; it owns one task (the sender loop) in a TaskGroup::

    async with GovernedTreadmill(port, limits) as belt:
        belt.start(150)                 # explicit start, 1.50 km/h target
        await belt.wait_running()
        ...
        belt.stop()
        await belt.wait_stopped()

Whoever reads ``port.observations()`` must pass every observation to :meth:`observe`.
Leaving the context stops a belt that may be moving (graceful), then cancels the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from types import TracebackType
from typing import Self

from treadctl.clock import Clock, MonotonicClock
from treadctl.control.port import TreadmillPort
from treadctl.errors import TreadctlError
from treadctl.hrs.sample import HeartRateItem
from treadctl.observations import DeviceEvent, DeviceInfo, EventKind, Observation
from treadctl.safety.actions import (
    Command,
    Pause,
    RequestControl,
    SetIncline,
    SetSpeed,
    Start,
    Stop,
    Wait,
)
from treadctl.safety.errors import SafetyRefusal
from treadctl.safety.events import LatchReason
from treadctl.safety.governor import Governor
from treadctl.safety.heart_rate import HeartRateGuard, HeartRateLimits
from treadctl.safety.limits import Limits
from treadctl.safety.phases import Phase
from treadctl.safety.state import GovernorState, Notice

COMMAND_DEADLINE_S = 6.0
"""Outer deadline on any one port call. The link has its own (docs/references.md#ftms-procedures:
peers use 2-5 s, the spec gives none); this net only guarantees that a hung call cannot block an
emergency stop forever."""


class StartFailedError(SafetyRefusal):
    """The belt did not reach running after an explicit start; carries the latch reason."""

    def __init__(self, reason: LatchReason | None, phase: Phase) -> None:
        self.reason = reason
        self.phase = phase
        why = reason.value if reason is not None else f"governor {phase.value}"
        super().__init__(f"start did not complete: {why}")


class GovernedTreadmill:
    """The one path to the belt. See the module docstring."""

    def __init__(
        self, port: TreadmillPort, limits: Limits | None = None, *, clock: Clock | None = None
    ) -> None:
        self._port = port
        self._clock: Clock = clock if clock is not None else MonotonicClock()
        self._gov = Governor(info=port.info, limits=limits or Limits(), connected=port.connected)
        self._wake = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._listeners: list[asyncio.Event] = []
        self._notices: list[Notice] = []
        self._in_flight: asyncio.Timeout | None = None
        self._interrupted = False
        self._stack: contextlib.AsyncExitStack | None = None
        self._task: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- lifetime

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("GovernedTreadmill is not re-entrant")
        stack = contextlib.AsyncExitStack()
        tg = await stack.enter_async_context(asyncio.TaskGroup())
        self._task = tg.create_task(self._run(), name="governed-treadmill-sender")
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        try:
            st = self._gov.state()
            if st.connected and (st.phase != Phase.STOPPED or bool(st.belt_speed)):
                self.stop(reason="controller shutting down")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(COMMAND_DEADLINE_S * 2):
                        await self.pump()
        finally:
            task, self._task = self._task, None
            if task is not None:
                task.cancel()
            if stack is not None:
                await stack.__aexit__(exc_type, exc, tb)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = await self.pump()
            await self._clock.wait(self._wake, wait.until)

    # ----------------------------------------------------------------- state

    @property
    def info(self) -> DeviceInfo:
        """What the link reported about the treadmill (ranges in wire units)."""
        return self._port.info

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def limits(self) -> Limits:
        return self._gov.limits

    def state(self) -> GovernorState:
        return self._gov.state()

    def watch(self) -> asyncio.Event:
        """An event set whenever the governor's state may have changed (clear it yourself)."""
        event = asyncio.Event()
        self._listeners.append(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(event)

    def drain_notices(self) -> list[Notice]:
        """Decisions the governor took on its own since the last call (for logs and MQTT)."""
        notices, self._notices = self._notices, []
        return notices

    async def notices(self) -> AsyncGenerator[Notice, None]:
        """The governor's notices as they happen (one consumer: it drains them)."""
        event = self.watch()
        try:
            while True:
                event.clear()
                for notice in self.drain_notices():
                    yield notice
                await event.wait()
        finally:
            self.unwatch(event)

    # ----------------------------------------------------------------- requests

    def observe(self, obs: Observation) -> Observation:
        """Feed one observation from ``port.observations()`` (in arrival order).

        It is re-stamped with this object's clock on arrival: the stale-telemetry timeout and
        the echo window then measure time on the same clock as the governor, whatever clock the
        link stamped it with (e.g. a simulator's compressed clock in the daemon). Returns the
        re-stamped observation."""
        obs = replace(obs, at=self._clock.now())
        if isinstance(obs, DeviceEvent) and obs.kind == EventKind.CONNECTED:
            self._gov.set_device(self._port.info)
        self._gov.observe(obs)
        self._changed()
        return obs

    def set_heart_rate_limits(self, limits: HeartRateLimits | None) -> None:
        """Guard the belt with a person's heart-rate limits from now on (None: no guard; only
        when there is a heart-rate source). docs/heart-rate.md. A guard already in force keeps
        what it knows of the signal; its statistics restart (one session's worth)."""
        guard = self._gov.heart_rate
        if limits is None:
            self._gov.heart_rate = None
        elif guard is None:
            self._gov.heart_rate = HeartRateGuard(limits, now=self._clock.now())
        else:
            guard.limits = limits
            guard.restart_statistics()
        self._changed()

    @property
    def heart_rate_guard(self) -> HeartRateGuard | None:
        """The guard in force (its statistics and filter counts), None without one."""
        return self._gov.heart_rate

    def observe_heart_rate(self, item: HeartRateItem) -> HeartRateItem:
        """Feed one heart-rate sample or sensor status, re-stamped with this object's clock
        (like :meth:`observe`). Returns the re-stamped item."""
        item = replace(item, at=self._clock.now())
        self._gov.observe_heart_rate(item)
        self._changed()
        return item

    def start(self, speed: int, *, incline: int | None = None) -> None:
        """An explicit start or resume by a person (clears a safety latch). Refusals raise."""
        self._gov.start(speed, self._clock.now(), incline=incline)
        self._changed()

    def set_speed(self, speed: int) -> int:
        """A checked profile's target speed (0.01 km/h); the ramp gets there. Returns the
        device setpoint. A person's change is :meth:`request_speed`."""
        target = self._gov.set_speed(speed, self._clock.now())
        self._changed()
        return target

    def request_speed(self, speed: int) -> int:
        """A person's speed change (0.01 km/h): caps, the device grid rounded down, and the
        manual rules (+0.1 km/h at a time and per minute, none in the first 3 minutes of a
        block). Returns the device setpoint; refusals raise."""
        target = self._gov.request_speed(speed, self._clock.now())
        self._changed()
        return target

    def set_block_start(self, start: float | None) -> None:
        """When the running session's backward block began (this object's clock), or None."""
        self._gov.set_block_start(start)

    def set_incline(self, incline: int) -> int:
        """New target incline (0.1 %); ramped, never raised in the same minute as speed."""
        target = self._gov.set_incline(incline, self._clock.now())
        self._changed()
        return target

    def set_profile_cap(self, cap: int | None) -> None:
        """A profile's own cap; only ever lowers the effective cap."""
        self._gov.set_profile_cap(cap, self._clock.now())
        self._changed()

    def stop(self, *, pause: bool = False, reason: str = "stop requested") -> None:
        """Stop (or pause) the belt. Always accepted. Not a safety latch."""
        self._gov.stop(self._clock.now(), pause=pause, reason=reason)
        self._changed()

    def emergency_stop(self) -> None:
        """Stop ahead of everything: interrupts the command in flight, then sends Stop; latches."""
        self._gov.emergency_stop(self._clock.now())
        flight = self._in_flight
        if flight is not None:
            self._interrupted = True
            flight.reschedule(asyncio.get_running_loop().time())
        self._changed()

    async def wait_for(self, predicate: Callable[[GovernorState], bool]) -> GovernorState:
        """Wait until ``predicate(state)`` holds (the sender loop must be running)."""
        event = self.watch()
        try:
            while True:
                event.clear()
                st = self._gov.state()
                if predicate(st):
                    return st
                await event.wait()
        finally:
            self.unwatch(event)

    async def wait_running(self) -> GovernorState:
        """After :meth:`start`: wait until the belt moves; StartFailedError if it will not."""
        st = await self.wait_for(lambda s: s.phase != Phase.STARTING or s.latch is not None)
        if st.phase != Phase.RUNNING or st.latch is not None:
            raise StartFailedError(st.latch, st.phase)
        return st

    async def wait_stopped(self) -> GovernorState:
        """Wait until no Stop is pending and the belt reports 0 (or the link is gone)."""
        return await self.wait_for(lambda s: s.phase == Phase.STOPPED or not s.connected)

    # ----------------------------------------------------------------- sending

    async def pump(self) -> Wait:
        """Send every command that is due now, one at a time; return what to wait for.

        The sender loop calls this; tests with a hand-driven clock call it directly."""
        async with self._send_lock:
            while True:
                action = self._gov.next_action(self._clock.now())
                self._changed(wake=False)
                if isinstance(action, Wait):
                    return action
                error = await self._send(action)
                self._gov.completed(action, self._clock.now(), error)
                self._changed(wake=False)

    async def _send(self, command: Command) -> str | None:
        port = self._port
        try:
            async with asyncio.timeout(COMMAND_DEADLINE_S) as scope:
                self._in_flight = scope if not isinstance(command, Stop) else None
                match command:
                    case RequestControl():
                        await port.request_control()
                    case SetSpeed(value=value):
                        await port.set_target_speed(value)
                    case SetIncline(value=value):
                        await port.set_target_incline(value)
                    case Start():
                        await port.start()
                    case Stop():
                        await port.stop()
                    case Pause():
                        await port.pause()
        except TimeoutError:
            if self._interrupted:
                return f"{command.kind.value} interrupted by an emergency stop"
            return f"{command.kind.value}: no answer within {COMMAND_DEADLINE_S} s"
        except TreadctlError as exc:
            return f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # an untranslated link error must still end in a safe stop
            return f"unexpected {type(exc).__name__}: {exc}"
        finally:
            self._in_flight = None
            self._interrupted = False
        return None

    def _changed(self, *, wake: bool = True) -> None:
        """Tell listeners the state may have changed; ``wake`` the sender for new requests
        (the sender itself passes False so that it does not wake itself forever)."""
        self._notices.extend(self._gov.drain_notices())
        if wake:
            self._wake.set()
        for event in self._listeners:
            event.set()
