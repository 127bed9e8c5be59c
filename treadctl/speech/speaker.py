"""The speech task: one loudspeaker, one utterance at a time, from the cue queue.

``Speaker.say`` is the only way in: synchronous, constant-time, never blocking (it puts the
utterance in the bounded :class:`~treadctl.speech.schedule.CueQueue` and wakes the task). The
task (:meth:`Speaker.run`, owned by the daemon's TaskGroup) renders each utterance with the
engine (cached), plays it when there is a sound device, and records what happened in the
journal ``spoken.jsonl`` next to the rendered files. A safety cue arriving while a non-safety cue
is rendered or played interrupts it (the interrupted cue is not repeated).

Failures never leave this module as exceptions: each kind of failure (no sound device, the
engine failing, the player failing) is reported once on :meth:`Speaker.diagnostics` and speech
goes on trying with the next cue. While idle, the fixed phrases (safety reactions, countdown)
are rendered ahead so that a safety cue does not wait for the engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from treadctl.speech.engine import Interrupted, Player, Renderer, SpeechError, wav_seconds
from treadctl.speech.schedule import DEFAULT_CAPACITY, CueQueue, Dropped, Pushed, Utterance

JOURNAL = "spoken.jsonl"
JOURNAL_MAX_BYTES = 1_000_000
"""The journal is renamed to ``spoken.jsonl.1`` (replacing the previous one) at this size:
about 4,000 cues, weeks of daily sessions, 2 MB on disk at most."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Speech is not working as configured. ``code``: ``no_sound_device``, ``render_failed``
    or ``play_failed``."""

    code: str
    message: str


class Speaker:
    """See the module docstring."""

    def __init__(
        self,
        renderer: Renderer,
        player: Player | None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        journal_dir: Path | None = None,
        warm: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
        no_player_reason: str = "no sound device",
    ) -> None:
        self.renderer = renderer
        self.player = player
        self.queue = CueQueue(capacity)
        self.journal = journal_dir / JOURNAL if journal_dir is not None else None
        self._clock = clock
        self._warm = list(dict.fromkeys(warm))
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._interrupt = asyncio.Event()
        self._speaking: Utterance | None = None
        self._dropped: list[Dropped] = []
        self._reported: set[str] = set()
        self._diagnostics: asyncio.Queue[Diagnostic] = asyncio.Queue()
        if player is None:
            self._report(
                "no_sound_device", f"speech is rendered but not played: {no_player_reason}"
            )

    @property
    def speaking(self) -> Utterance | None:
        return self._speaking

    def say(self, utterance: Utterance) -> Pushed:
        """Queue ``utterance`` (non-blocking). A safety cue interrupts a non-safety one."""
        pushed = self.queue.push(utterance, self._speaking)
        self._idle.clear()
        self._dropped += pushed.dropped
        if pushed.preempt:
            self._interrupt.set()
        self._arrived.set()
        return pushed

    async def wait_idle(self) -> None:
        """Until everything queued has been said (or dropped)."""
        await self._idle.wait()

    async def diagnostics(self) -> AsyncIterator[Diagnostic]:
        """Each kind of failure, once."""
        while True:
            yield await self._diagnostics.get()

    def _report(self, code: str, message: str) -> None:
        if code not in self._reported:
            self._reported.add(code)
            self._diagnostics.put_nowait(Diagnostic(code, message))

    async def run(self) -> None:
        """The speech task (until cancelled)."""
        while True:
            utterance = await self._next()
            self._speaking = utterance
            self._interrupt.clear()
            try:
                await self._speak(utterance)
            finally:
                self._speaking = None

    async def _next(self) -> Utterance:
        while True:
            self._arrived.clear()
            utterance, stale = self.queue.pop(self._clock())
            self._dropped += stale
            await self._flush_dropped()
            if utterance is not None:
                return utterance
            self._idle.set()
            if self._warm:
                await self._warm_one()
            else:
                await self._arrived.wait()

    async def _warm_one(self) -> None:
        """Render one fixed phrase ahead; stops at the first new cue (``_arrived``)."""
        text = self._warm[0]
        try:
            await self.renderer.render(text, interrupt=self._arrived)
        except Interrupted:
            return  # a cue came in: say it first, warm up later
        except SpeechError as exc:
            self._report("render_failed", str(exc))
            self._warm.clear()  # the engine is failing: cues will say so, no need to insist
            return
        self._warm.pop(0)

    async def _speak(self, u: Utterance) -> None:
        path: Path | None = None
        try:
            path = await self.renderer.render(u.text, interrupt=self._interrupt)
            if self.player is None:
                await self._record(u, "rendered", path)
                return
            await self.player.play(path, interrupt=self._interrupt)
        except Interrupted:
            await self._record(u, "interrupted", path)
            return
        except SpeechError as exc:
            self._report(f"{exc.stage}_failed", str(exc))
            await self._record(u, f"{exc.stage}_failed", path, detail=exc.detail)
            return
        await self._record(u, "played", path)

    async def _flush_dropped(self) -> None:
        dropped, self._dropped = self._dropped, []
        for d in dropped:
            await self._record(d.utterance, "dropped_" + d.reason, None)

    async def _record(
        self, u: Utterance, outcome: str, path: Path | None, detail: str | None = None
    ) -> None:
        if self.journal is None:
            return
        entry: dict[str, object] = {
            "ts": round(time.time(), 3),
            "device": u.device,
            "kind": u.kind.value,
            "detail": u.detail,
            "text": u.text,
            "outcome": outcome,
            "file": path.name if path is not None else None,
            "error": detail,
        }
        journal = self.journal
        await asyncio.to_thread(_append, journal, entry, path)


def _append(journal: Path, entry: dict[str, object], path: Path | None) -> None:
    if path is not None and path.exists():
        entry["seconds"] = round(wav_seconds(path), 3)
    journal.parent.mkdir(parents=True, exist_ok=True)
    if journal.exists() and journal.stat().st_size >= JOURNAL_MAX_BYTES:
        os.replace(journal, journal.with_name(journal.name + ".1"))
    with journal.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
