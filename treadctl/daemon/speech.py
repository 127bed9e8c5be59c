"""The daemon's spoken cues: a cue scheduler per treadmill, one speaker, cue events on MQTT.

:class:`Cues` is a :class:`~treadctl.daemon.device.CueListener` (session starts and safety
reactions come in synchronously from the devices) and owns its tasks, run by the daemon inside
its TaskGroup (:meth:`Cues.run`):

- per treadmill, a follower of the session's snapshots feeding :class:`CueScheduler`;
- the speech task (:class:`~treadctl.speech.speaker.Speaker`) when ``[speech] enabled``;
- the publisher of ``cue`` events (with the ``speak`` text) and ``speech_unavailable``
  diagnostics on the device's event topic.

Nothing here is on the path of a Stop: the hooks only put values in bounded queues, the tasks
only read snapshots, and a failure in any of these tasks is logged and published, and ends
speech alone (the belt, the session and MQTT go on: docs/speech.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treadctl.config.speech import SpeechConfig
from treadctl.control.session_states import TERMINAL
from treadctl.daemon.device import DeviceRuntime, DeviceSink
from treadctl.speech import phrases
from treadctl.speech.schedule import CueScheduler, Utterance

if TYPE_CHECKING:
    from treadctl.speech.speaker import Speaker

OUTBOX_SIZE = 64
"""Cue events waiting for the MQTT publisher at most (the oldest is dropped beyond it)."""

CUE_EVENT = "cue"
DIAGNOSTIC_EVENT = "speech_unavailable"


def build_speaker(config: SpeechConfig, state_dir: Path) -> Speaker:
    """The speech task's parts from ``[speech]``: engine, player (or none) and warm phrases.

    The engine and the speech task are imported here, only when ``[speech] enabled`` (the
    daemon's footprint: docs/benchmarks.md)."""
    from treadctl.speech.engine import PLAYERS, Player, Renderer, Voice, sound_device  # noqa: PLC0415
    from treadctl.speech.speaker import Speaker  # noqa: PLC0415

    audio_dir = config.audio_dir or state_dir / "speech"
    renderer = Renderer(
        audio_dir,
        Voice(config.voice, config.rate_wpm, config.volume),
        command=[config.engine],
        timeout_s=config.render_timeout_s,
    )
    reason = "player = none"
    choice: str | None = config.player
    if choice == "auto":
        choice = sound_device()
        reason = "no sound device (no PipeWire socket, no ALSA playback device)"
    player = Player(PLAYERS[choice]) if choice in PLAYERS else None
    return Speaker(
        renderer,
        player,
        capacity=config.queue_size,
        journal_dir=audio_dir,
        warm=[*phrases.SAFETY_PHRASES.values(), phrases.COUNTDOWN],
        no_player_reason=reason,
    )


class Cues:
    """See the module docstring."""

    def __init__(
        self,
        devices: Mapping[str, DeviceRuntime],
        speaker: Speaker | None,
        log: Any,
        *,
        publish: bool,
    ) -> None:
        self.devices = dict(devices)
        self.speaker = speaker
        self.log = log
        self.publish = publish
        self._schedulers = {d: CueScheduler(d) for d in self.devices}
        self._started = {d: asyncio.Event() for d in self.devices}
        self._ended = {d: asyncio.Event() for d in self.devices}
        self._outbox: asyncio.Queue[Utterance] = asyncio.Queue(OUTBOX_SIZE)
        for runtime in self.devices.values():
            runtime.cues = self

    # ----------------------------------------------------------------- from the devices

    def session_started(self, device: str) -> None:
        self._ended[device].clear()
        self._started[device].set()

    def safety(self, device: str, kind: str) -> None:
        try:
            for u in self._schedulers[device].safety(kind, time.monotonic()):
                self._emit(u)
        except Exception:  # speech must never break the observation path it is called from
            self.log.exception("speech_failed", device=device, where="safety cue")

    def _emit(self, u: Utterance) -> None:
        self.log.info("cue", device=u.device, kind=u.kind.value, text=u.text)
        if self.speaker is not None:
            self.speaker.say(u)
        if self.publish:
            if self._outbox.full():
                self._outbox.get_nowait()  # the oldest goes: a cue event is only worth it live
            self._outbox.put_nowait(u)

    # ----------------------------------------------------------------- tasks

    async def run(self, sink: DeviceSink | None) -> None:
        """Every speech task, until cancelled. A failure ends speech only (logged, published)."""
        async with asyncio.TaskGroup() as tg:
            for runtime in self.devices.values():
                tg.create_task(self._guard(self._follow(runtime), sink), name=f"cues-{runtime.id}")
            if self.speaker is not None:
                tg.create_task(self._guard(self.speaker.run(), sink), name="speech")
                diagnose = self._diagnose(self.speaker, sink)
                tg.create_task(self._guard(diagnose, sink), name="speech-diagnostics")
            if sink is not None and self.publish:
                tg.create_task(self._guard(self._publish(sink), sink), name="cue-events")

    async def _guard(self, work: Awaitable[None], sink: DeviceSink | None) -> None:
        try:
            await work
        except Exception as exc:
            self.log.exception("speech_failed", error=str(exc))
            try:
                await self._tell(sink, "speech_failed", f"speech stopped: {exc}")
            except Exception:  # publishing failed too: the log line above is all there is
                self.log.exception("speech_failed_unpublished")

    async def _follow(self, runtime: DeviceRuntime) -> None:
        scheduler = self._schedulers[runtime.id]
        started = self._started[runtime.id]
        runner = runtime.runner
        while True:
            await started.wait()
            started.clear()
            async for snap in runner.snapshots():
                summary = runner.summary if snap.state in TERMINAL else None
                utterances = scheduler.snapshot(
                    snap, time.monotonic(), profile=runner.profile, summary=summary
                )
                for u in utterances:
                    self._emit(u)
                if snap.state in TERMINAL:
                    self._ended[runtime.id].set()

    async def settle(self, deadline_s: float) -> None:
        """Wait (bounded) until each ended session's last cue, the summary, has been said. The
        daemon calls it on the way out, after the belts stopped."""
        if deadline_s <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(deadline_s):
                for device, runtime in self.devices.items():
                    if runtime.runner.state in TERMINAL:
                        await self._ended[device].wait()
                if self.speaker is not None:
                    await self.speaker.wait_idle()

    async def _diagnose(self, speaker: Speaker, sink: DeviceSink | None) -> None:
        async for diagnostic in speaker.diagnostics():
            self.log.warning(DIAGNOSTIC_EVENT, code=diagnostic.code, message=diagnostic.message)
            await self._tell(sink, diagnostic.code, diagnostic.message)

    async def _tell(self, sink: DeviceSink | None, code: str, message: str) -> None:
        if sink is None:
            return
        for device in self.devices:
            await sink.event(device, DIAGNOSTIC_EVENT, message, {"code": code})

    async def _publish(self, sink: DeviceSink) -> None:
        while True:
            u = await self._outbox.get()
            if u.device is None:
                continue
            data = {"speak": u.text, "cue": u.kind.value, "priority": u.priority.name.lower()}
            await sink.event(u.device, CUE_EVENT, u.text, {**data, "detail": u.detail})
