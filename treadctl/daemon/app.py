"""The daemon: the one composition root, and the one owner of tasks.

``Daemon(config).run()`` builds one :class:`~treadctl.daemon.device.DeviceRuntime` per
configured treadmill and, when MQTT is enabled, one :class:`~treadctl.mqtt.bridge.MqttBridge`
for all of them, and runs everything in a single ``asyncio.TaskGroup``:

- per treadmill: its link supervisor, observation pump, governed treadmill and session loop;
- the bridge's request and emergency-stop consumers (emergency stops have their own task, so a
  slow command can never delay one);
- the spoken cues (``treadctl.daemon.speech``): per treadmill a follower of its session, the
  speech task and the cue-event publisher, when ``[speech]`` or MQTT cue events are on;
- the systemd notifier: ``READY=1`` once every link and the broker are up (or the start-up
  deadline passed: a treadmill that is switched off must not make systemd restart us in a loop;
  ``STATUS=`` then says what is down), ``STATUS=`` summaries, ``WATCHDOG=1`` only while the event
  loop turns and every device's tasks are alive.

Shutdown (SIGTERM, SIGINT, or :meth:`Daemon.request_stop`): ``STOPPING=1``, stop every belt and
wait until it stands (bounded), then cancel the tasks; the bridge publishes ``offline`` on its
way out. An unexpected exception in any task cancels the group; each device's governed treadmill
then sends its graceful Stop while that device's link is still up (see ``device.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from treadctl.clock import Clock, MonotonicClock
from treadctl.commands import (
    JOURNEY_COMMANDS,
    ArmingPolicy,
    CommandResult,
    ErrorCode,
    RateSession,
    RatingDraft,
    StartNext,
    SubmitRating,
)
from treadctl.config.model import Config
from treadctl.daemon.compose import (
    device_limits,
    heart_rate_limits,
    link_options,
    strap_options,
)
from treadctl.daemon.device import DeviceRuntime
from treadctl.daemon.history import DaemonHistory
from treadctl.daemon.instance import LockUnavailableError, instance_lock
from treadctl.daemon.notify import Notifier, NotifyError, watchdog_interval
from treadctl.daemon.profiles import ProfileCatalog
from treadctl.daemon.speech import Cues, build_speaker

STARTUP_DEADLINE_S = 30.0
"""READY=1 is sent at the latest this long after start, even if a treadmill is not reachable
(it may simply be switched off); systemd's default start timeout is 90 s."""

STARTUP_STATUS_PERIOD_S = 1.0
"""While waiting for READY=1, ``STATUS=`` is refreshed at most this often (when it changed)."""

SPEECH_SETTLE_S = 8.0
"""On the way out, after the belts stand, the last cue (the session summary, about 4-6 s) may
take this long to be said (docs/speech.md)."""

STOP_BUDGET_S = 18.0
"""Stopping the belts plus that wait stay under the unit's TimeoutStopSec=20 (systemd/)."""

ARMING_MAX_S = 3600.0
"""Longest arming a person may ask for (one hour; project choice, docs/home-assistant.md)."""


def device_clock(speedup: float) -> Clock:
    """The real monotonic clock, compressed ``speedup`` times for a simulator configured with
    ``speedup`` (the configuration refuses a speedup for anything but a simulator)."""
    return MonotonicClock(speedup)


def _cues(config: Config, devices: Mapping[str, DeviceRuntime], log: Any) -> Cues | None:
    """Spoken cues when ``[speech] enabled``, cue events when MQTT and ``mqtt_events`` are on;
    None when neither (nothing is scheduled then)."""
    publish = config.mqtt.enabled and config.speech.mqtt_events
    if not (config.speech.enabled or publish):
        return None
    speaker = build_speaker(config.speech, config.state_dir) if config.speech.enabled else None
    return Cues(devices, speaker, log, publish=publish)


class _Shutdown(Exception):
    """Raised inside the TaskGroup to end it after the belts are stopped."""


class Daemon:
    """See the module docstring."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        notifier: Notifier | None = None,
        logger: Any = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or MonotonicClock()
        """The daemon's own clock; each treadmill gets :func:`device_clock` unless ``clock`` is
        given (then every treadmill uses it, e.g. ``treadctl session start --speedup``)."""
        self.notifier = notifier or Notifier.from_environ()
        self.log = logger or structlog.get_logger("treadctl.daemon")
        extra = [config.profiles_dir] if config.profiles_dir else []
        self.catalog = ProfileCatalog(extra)
        report = self.catalog.reload()
        for problem in report.problems:
            self.log.warning("profile_refused", problem=problem)
        self.history: DaemonHistory | None = None
        if config.history.enabled:
            self.history = DaemonHistory(config, self.catalog, self._device_log)
        people = self.history.person_id if self.history is not None else None
        self.devices: dict[str, DeviceRuntime] = {}
        for device in config.devices:
            self.devices[device.id] = DeviceRuntime(
                device.id,
                link_options(device, config.ble),
                device_limits(config, device),
                self.catalog,
                clock=clock or device_clock(device.speedup),
                arming=ArmingPolicy(
                    default_duration_s=config.mqtt.arming_expiry_s,
                    max_duration_s=max(ARMING_MAX_S, config.mqtt.arming_expiry_s),
                ),
                log=self._device_log,
                reconnect_max_backoff_s=config.ble.reconnect_max_backoff_s,
                **({"people": people} if people is not None else {}),
            )
            if device.heart_rate is not None:
                self.devices[device.id].attach_heart_rate(
                    device.heart_rate.source,
                    functools.partial(heart_rate_limits, config),
                    strap_options(device, config.ble),
                    config.ble.reconnect_max_backoff_s,
                )
        self.cues = _cues(config, self.devices, self.log)
        self._stop = asyncio.Event()
        self._stop_reason = "requested"
        self.bridge_up: Callable[[], bool] = lambda: True
        self._bridge_wait: Callable[[], Awaitable[None]] | None = None
        self._device_tasks: list[asyncio.Task[None]] = []
        self._journey_requests: asyncio.Queue[Any] = asyncio.Queue()
        self.ready = asyncio.Event()

    def _notify(self, send: Callable[..., bool], *args: str) -> None:
        """Send one notification; a failure is logged, never fatal (systemd may be restarting,
        and the belt must not stop because a status line could not be delivered)."""
        try:
            send(*args)
        except NotifyError as exc:
            self.log.warning("notify_failed", error=str(exc))

    def _device_log(self, event: str, level: str = "info", **fields: Any) -> None:
        getattr(self.log, level)(event, **fields)

    def request_stop(self, reason: str = "requested") -> None:
        self._stop_reason = reason
        self._stop.set()

    # ----------------------------------------------------------------- running

    async def run(self, *, handle_signals: bool = True) -> None:
        """Run until a stop is requested. Raises what a task raised, after stopping the belts."""
        loop = asyncio.get_running_loop()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop, sig.name)
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    stack.enter_context(instance_lock(self.config.state_dir))
                except LockUnavailableError as exc:
                    # A guard, not a requirement (e.g. a user's terminal session without write
                    # access to /var/lib/treadctl): say so and go on.
                    self.log.warning("instance_lock_unavailable", error=str(exc))
                sink = None
                if self.history is not None:
                    # Entered before the bridge: it is left after the bridge, so the writes
                    # of a session that ended at shutdown are queued before it drains.
                    await stack.enter_async_context(self.history)
                if self.config.mqtt.enabled:
                    sink = await self._start_bridge(stack)
                try:
                    async with asyncio.TaskGroup() as tg:
                        self._device_tasks = [
                            tg.create_task(runtime.run(sink), name=f"device-{runtime.id}")
                            for runtime in self.devices.values()
                        ]
                        if sink is not None:
                            tg.create_task(self._serve(sink, urgent=False), name="mqtt-requests")
                            tg.create_task(self._serve(sink, urgent=True), name="mqtt-emergency")
                        tg.create_task(self._notify_loop(), name="systemd-notify")
                        if self.cues is not None:
                            tg.create_task(self.cues.run(sink), name="cues")
                        if self.history is not None:
                            tg.create_task(self.history.run(sink), name="history")
                            for runtime in self.devices.values():
                                tg.create_task(
                                    self.history.record(runtime), name=f"history-{runtime.id}"
                                )
                            if sink is not None:
                                tg.create_task(self._serve_journey(), name="journey-requests")
                        await self._stop.wait()
                        self.log.info("stopping", reason=self._stop_reason)
                        self._notify(
                            lambda: self.notifier.stopping("stopping: " + self._stop_reason)
                        )
                        stopping_at = time.monotonic()
                        await self.stop_belts("daemon stopping: " + self._stop_reason)
                        if self.cues is not None:
                            # The belts stand: let the last cues (the summary) be said, within
                            # what is left of the stop budget.
                            spent = time.monotonic() - stopping_at
                            await self.cues.settle(min(SPEECH_SETTLE_S, STOP_BUDGET_S - spent))
                        raise _Shutdown
                except* _Shutdown:
                    pass
        finally:
            self.notifier.close()
            if handle_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)

    async def stop_belts(self, reason: str) -> None:
        """Stop every belt and wait (bounded per device) until it stands, shielded from
        cancellation so that a second signal cannot cut the stop short."""
        stops = [rt.stop_belt(reason) for rt in self.devices.values()]
        await asyncio.shield(asyncio.gather(*stops, return_exceptions=True))

    async def _start_bridge(self, stack: contextlib.AsyncExitStack) -> Any:
        # aiomqtt is imported only when MQTT is enabled (start-up time, footprint).
        from treadctl.daemon.known_devices import KnownDevices  # noqa: PLC0415
        from treadctl.daemon.mqtt_sink import MqttSink  # noqa: PLC0415
        from treadctl.mqtt.bridge import BridgeDevice, MqttBridge  # noqa: PLC0415

        known = KnownDevices(self.config.state_dir)
        devices = [
            BridgeDevice(d.id, d.name or d.id, known.load(d.id)) for d in self.config.devices
        ]
        bridge = await stack.enter_async_context(MqttBridge(self.config.mqtt, devices))
        self.bridge_up = lambda: bridge.connected
        self._bridge_wait = bridge.wait_connected
        sink = MqttSink(bridge, known)
        for runtime in self.devices.values():
            await sink.profiles(runtime)
            await sink.state(runtime)
        return sink

    async def _serve(self, sink: Any, *, urgent: bool) -> None:
        bridge = sink.bridge
        requests = bridge.emergency_requests() if urgent else bridge.requests()
        async for request in requests:
            runtime = self.devices[request.device]
            if isinstance(request.command, JOURNEY_COMMANDS):
                # They wait for the history database: on their own task, never in this queue
                # (a stop behind them must not wait).
                self._journey_requests.put_nowait(request)
                continue
            result = runtime.handle(request.command)
            self.log.info(
                "command",
                device=request.device,
                session=runtime.session_id,
                command=type(request.command).__name__,
                ok=result.ok,
                error=result.error.message if result.error else None,
            )
            await request.reply(result)
            if type(request.command).__name__ == "ReloadProfiles":
                for rt in self.devices.values():
                    await sink.profiles(rt)

    async def journey_command(
        self,
        device: str,
        command: StartNext | RateSession | RatingDraft | SubmitRating,
        *,
        local: bool,
    ) -> CommandResult:
        """``start_next``, ratings and Home Assistant's rating entities for ``device`` (MQTT,
        the CLI, the demo)."""
        if self.history is None:
            return CommandResult.failure(
                ErrorCode.HISTORY_UNAVAILABLE, "the history is disabled (history.enabled = false)"
            )
        runtime = self.devices[device]
        if isinstance(command, StartNext):
            return await self.history.start_next(runtime, command, local=local)
        if isinstance(command, RatingDraft):
            return await self.history.draft(device, command)
        if isinstance(command, SubmitRating):
            return await self.history.submit(device, command)
        return await self.history.rate(device, command)

    async def _serve_journey(self) -> None:
        while True:
            request = await self._journey_requests.get()
            result = await self.journey_command(request.device, request.command, local=False)
            self.log.info(
                "command",
                device=request.device,
                command=type(request.command).__name__,
                ok=result.ok,
                error=result.error.message if result.error else None,
            )
            await request.reply(result)

    # ----------------------------------------------------------------- systemd

    def status_line(self) -> str:
        parts = []
        for runtime in self.devices.values():
            snap = runtime.snapshot()
            link = "connected" if runtime.link_up else "disconnected"
            if not runtime.link_up and runtime.link_error:
                link += f" ({runtime.link_error})"
            session = snap.state.value
            if snap.profile:
                session += f" {snap.profile}"
            parts.append(f"{runtime.id}: {link}, {session}")
        if self.config.mqtt.enabled:
            parts.append("mqtt: " + ("connected" if self.bridge_up() else "disconnected"))
        return "; ".join(parts)

    def healthy(self) -> bool:
        """Every device's tasks are alive. (That the event loop turns is shown by the ping
        itself: it is sent from the loop, so a blocked loop sends none.)"""
        return bool(self._device_tasks) and not any(t.done() for t in self._device_tasks)

    async def _notify_loop(self) -> None:
        try:
            interval = watchdog_interval()
        except NotifyError as exc:
            # Malformed WATCHDOG_USEC / WATCHDOG_PID: say so, and serve without pings (the
            # belt must not stop over an environment variable).
            self.log.error("watchdog_disabled", error=str(exc))
            interval = None
        await self._until_up()
        status = self.status_line()
        self._notify(self.notifier.ready, status)
        self.ready.set()
        self.log.info("ready", status=status)
        period = interval if interval is not None else 5.0
        # Until a stop is requested (then STOPPING=1 has been sent; systemd's stop timeout,
        # not the watchdog, bounds what follows).
        while True:
            await self._wait_tick(period)
            if self._stop.is_set():
                # STOPPING=1 went out (or is about to): no ping or status after it.
                return
            if interval is not None and self.healthy():
                self._notify(self.notifier.watchdog)
            new = self.status_line()
            if new != status:
                status = new
                self._notify(self.notifier.status, new)

    async def _until_up(self) -> None:
        """Until every link and the broker are up, or the start-up deadline. Meanwhile
        ``STATUS=`` says what is down and why (sd_notify(3) takes STATUS= before READY=1), so
        ``systemctl status`` explains a start that waits for a treadmill."""

        async def all_up() -> None:
            await asyncio.gather(*(rt.connected.wait() for rt in self.devices.values()))
            if self._bridge_wait is not None:
                await self._bridge_wait()

        sent = ""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STARTUP_DEADLINE_S), asyncio.TaskGroup() as group:
                waiting = group.create_task(all_up(), name="until-up")
                while not waiting.done():
                    await asyncio.wait([waiting], timeout=STARTUP_STATUS_PERIOD_S)
                    line = self.status_line()
                    if not waiting.done() and line != sent:
                        sent = line
                        self._notify(self.notifier.status, line)

    async def _wait_tick(self, seconds: float) -> None:
        """Wait ``seconds`` or until a stop is requested."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()
