"""Recording sessions in the daemon: 1 Hz samples, flushed every 5 s, and the end.

One task per treadmill (:meth:`SessionRecording.record`, in the daemon's TaskGroup). It only
*enqueues* writes on the history writer (``treadctl/history/writer.py``): nothing here waits for
the database, so recording can never delay a Stop or a ramp (docs/history.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from treadctl.control.session_states import TERMINAL
from treadctl.daemon.device import DeviceRuntime
from treadctl.history.recorder import (
    FLUSH_INTERVAL_S,
    SAMPLE_INTERVAL_S,
    SessionRecorder,
    SessionStart,
)
from treadctl.history.records import SessionRecord
from treadctl.history.store_api import HistoryUnavailableError
from treadctl.history.writer import HistoryWriter


class SessionRecording:
    """See the module docstring. ``ended(device, record)`` is called at each session's end."""

    def __init__(
        self,
        writer: HistoryWriter,
        *,
        wall: Callable[[], datetime],
        log: Callable[..., None],
        ended: Callable[[str, SessionRecord], None],
    ) -> None:
        self.writer = writer
        self.wall = wall
        self._log = log
        self._ended = ended
        self._recorded: dict[str, asyncio.Event] = {}

    async def record(self, runtime: DeviceRuntime) -> None:
        """Record every session of ``runtime`` (a task per treadmill, until cancelled)."""
        while True:
            await runtime.session_begun.wait()
            runtime.session_begun.clear()
            try:
                await self._record_one(runtime)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # a bug here must never end the daemon or the session
                self._log("history_recording_failed", device=runtime.id, error=repr(exc))

    async def _record_one(self, runtime: DeviceRuntime) -> None:
        owner = runtime.owner
        session_id = runtime.session_id
        profile = runtime.runner.profile
        if owner is None or session_id is None or profile is None:
            return
        clock = runtime.clock
        recorder = SessionRecorder(
            SessionStart(
                id=session_id,
                person_id=owner.person,
                treadmill_id=runtime.id,
                profile=profile.name,
                program=owner.program,
                stage=owner.stage,
                started_at=self.wall(),
                started_clock=clock.now(),
            )
        )
        begun = recorder.record()
        self.writer.submit("begin_session", lambda store: store.begin_session(begun))
        next_sample = clock.now()
        next_flush = next_sample + FLUSH_INTERVAL_S
        try:
            while runtime.runner.state not in TERMINAL and runtime.session_id == session_id:
                now = clock.now()
                if now >= next_sample:
                    recorder.sample(runtime.snapshot(), runtime.sample_reading(), now)
                    next_sample = max(next_sample + SAMPLE_INTERVAL_S, now)
                if now >= next_flush:
                    self._flush(recorder)
                    next_flush = now + FLUSH_INTERVAL_S
                await clock.wait(runtime.session_over, min(next_sample, next_flush))
        finally:
            # Also on cancellation (daemon shutdown): the samples so far are queued, and the
            # end if the session ended; otherwise the next start marks it interrupted.
            summary = runtime.runner.summary
            if runtime.session_id == session_id and summary is not None:
                recorder.sample(runtime.snapshot(), runtime.sample_reading(), clock.now())
                self._flush(recorder)
                ended = recorder.finish(summary, clock.now())
                self.writer.submit("end_session", lambda store: store.end_session(ended))
                self._ended(runtime.id, ended)
                self._recorded.setdefault(session_id, asyncio.Event()).set()
            else:
                self._flush(recorder)

    async def wait_recorded(self, session_id: str, *, timeout_s: float) -> None:
        """Until the end of ``session_id`` is written (or the deadline: HistoryError)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._recorded.setdefault(session_id, asyncio.Event()).wait()
        except TimeoutError:
            raise HistoryUnavailableError(
                f"session {session_id} not recorded within {timeout_s:g} s", where=self.writer.where
            ) from None
        await self.writer.call("barrier", lambda _store: None, timeout_s=timeout_s)

    def _flush(self, recorder: SessionRecorder) -> None:
        batch = recorder.take_samples()
        if batch:
            sid = recorder.start.id
            self.writer.submit("add_samples", lambda store: store.add_samples(sid, batch))
