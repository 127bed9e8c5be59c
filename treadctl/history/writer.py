"""The history writer: one thread owns the store; the event loop only enqueues.

Nothing on the event loop waits for the database (docs/safety.md rule 7, docs/history.md):

- :meth:`HistoryWriter.submit` puts a write on a bounded queue and returns at once; a full
  queue drops the write and reports it (the session goes on, the belt never waits). A write
  the database fails (locked, full, read-only, unreachable) is kept, in order, in a bounded
  backlog and written when the database works again: a stall loses nothing;
- :meth:`HistoryWriter.call` is for the few reads a command needs: it awaits the answer with a
  deadline, on the caller's task only (never the stop path);
- every failure (unreachable, stalled, full, read-only or corrupt database, a dropped
  operation) comes out of :meth:`HistoryWriter.failures` as a value for the daemon to log and
  publish; a success after failures comes out as a recovery.

The store is opened in the thread (opening may stall too) and re-opened after a failure, at
most once per :data:`REOPEN_INTERVAL_S`.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from treadctl.history.store_api import (
    HistoryCorruptError,
    HistoryError,
    HistoryUnavailableError,
)

if TYPE_CHECKING:
    from treadctl.history.store import HistoryStore

T = TypeVar("T")

QUEUE_SIZE = 2000
"""Operations waiting for the database: about half an hour of 5-second sample batches."""
REOPEN_INTERVAL_S = 5.0
"""After a failed open, the next attempt waits this long (operations meanwhile fail fast)."""
CLOSE_WAIT_S = 5.0
"""On shutdown, how long the loop waits for the thread to write what is queued."""


@dataclass(frozen=True, slots=True)
class HistoryNotice:
    """A failure (``ok`` False) or the recovery after failures (``ok`` True)."""

    ok: bool
    operation: str
    message: str


@dataclass(slots=True)
class _Job:
    name: str
    run: Callable[[HistoryStore], Any]
    future: concurrent.futures.Future[Any] | None = None


_STOP = object()


class HistoryWriter:
    """See the module docstring. An async context manager owning the thread."""

    def __init__(
        self,
        opener: Callable[[], HistoryStore],
        *,
        where: str,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self._opener = opener
        self.where = where
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._notices: asyncio.Queue[HistoryNotice] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._store: HistoryStore | None = None
        self._last_open_attempt = float("-inf")
        self._last_open_error: HistoryError | None = None
        self._failing = False
        self._last_message = ""
        self._last_failure: HistoryError | None = None
        self._backlog: collections.deque[_Job] = collections.deque()
        self._backlog_limit = queue_size
        self._finished = asyncio.Event()
        self.dropped = 0
        """Operations dropped because the queue was full."""

    async def __aenter__(self) -> HistoryWriter:
        self._loop = asyncio.get_running_loop()
        # A daemon thread: a database that never answers cannot keep the process alive.
        self._thread = threading.Thread(target=self._work, name="history-writer", daemon=True)
        self._thread.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        thread = self._thread
        if thread is None:
            return
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            self._note(False, "close", "queue full at shutdown; queued writes were not done")
            return
        # Wait (bounded) for the thread to write what is queued; a stalled database is left
        # behind (the thread is a daemon thread).
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._finished.wait()
        except TimeoutError:
            self._note(False, "close", f"queued writes not done within {CLOSE_WAIT_S:g} s")

    # ----------------------------------------------------------------- loop side

    def submit(self, name: str, run: Callable[[HistoryStore], Any]) -> bool:
        """Queue a write; never blocks. False (and a notice) when the queue is full."""
        try:
            self._queue.put_nowait(_Job(name, run))
        except queue.Full:
            self.dropped += 1
            self._notices.put_nowait(
                HistoryNotice(False, name, f"history queue full ({self.where} too slow); dropped")
            )
            return False
        return True

    def enqueue(self, name: str, run: Callable[[HistoryStore], T]) -> concurrent.futures.Future[T]:
        """Queue ``run(store)`` now (in order with what is queued) and return its future."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            self._queue.put_nowait(_Job(name, run, future))
        except queue.Full:
            raise HistoryUnavailableError("history queue full", where=self.where) from None
        return future

    async def call(self, name: str, run: Callable[[HistoryStore], T], *, timeout_s: float) -> T:
        """Run ``run(store)`` in the thread and await its result (HistoryError on failure,
        HistoryUnavailableError when the queue is full or the deadline passes)."""
        return await self.wait(self.enqueue(name, run), timeout_s=timeout_s)

    async def wait(self, future: concurrent.futures.Future[T], *, timeout_s: float) -> T:
        """Await a future from :meth:`enqueue` with a deadline."""
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.cancel()
            raise HistoryUnavailableError(
                f"no answer from the database within {timeout_s:g} s", where=self.where
            ) from None

    async def notices(self) -> AsyncIterator[HistoryNotice]:
        while True:
            yield await self._notices.get()

    # ----------------------------------------------------------------- thread side

    def _note(self, ok: bool, operation: str, message: str) -> None:
        loop = self._loop
        if loop is None:
            return
        notice = HistoryNotice(ok, operation, message)
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            loop.call_soon_threadsafe(self._notices.put_nowait, notice)

    def _open(self) -> HistoryStore:
        if self._store is not None:
            return self._store
        now = time.monotonic()
        if now - self._last_open_attempt < REOPEN_INTERVAL_S and self._last_open_error:
            raise self._last_open_error
        self._last_open_attempt = now
        try:
            self._store = self._opener()
        except HistoryError as exc:
            self._last_open_error = exc
            raise
        self._last_open_error = None
        return self._store

    def _work(self) -> None:
        try:
            while True:
                job = self._queue.get()
                if job is _STOP:
                    return
                self._run(job)
        finally:
            if self._store is not None:
                self._store.close()
            loop = self._loop
            if loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    loop.call_soon_threadsafe(self._finished.set)

    def _run(self, job: _Job) -> None:
        if job.future is None:
            # A write: kept, in order, until the database takes it (or the backlog is full).
            self._backlog.append(job)
            if len(self._backlog) > self._backlog_limit:
                dropped = self._backlog.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    self._note(
                        False,
                        dropped.name,
                        f"history backlog full; {self.dropped} write(s) dropped so far",
                    )
            self._drain()
            return
        if not job.future.set_running_or_notify_cancel():
            return
        if not self._drain():
            job.future.set_exception(
                self._last_failure
                or HistoryUnavailableError("the database is failing", where=self.where)
            )
            return
        try:
            result = job.run(self._open())
        except Exception as exc:
            job.future.set_exception(exc)
            if isinstance(exc, HistoryError) and not _database_trouble(exc):
                return  # a refusal (e.g. a rating for another person): the caller's answer
            self._failed(job.name, exc)
            return
        job.future.set_result(result)
        self._recovered(job.name)

    def _drain(self) -> bool:
        """Write the backlog in order; False when the database fails (the rest is kept)."""
        while self._backlog:
            job = self._backlog[0]
            try:
                job.run(self._open())
            except Exception as exc:
                if _database_trouble(exc):
                    self._failed(job.name, exc)
                    return False
                # Not the database's fault (a bug, a refused value): retrying cannot help.
                self._backlog.popleft()
                self._note(False, job.name, f"write refused, dropped: {exc}")
                continue
            self._backlog.popleft()
            self._recovered(job.name)
        return True

    def _failed(self, operation: str, exc: Exception) -> None:
        if self._store is not None:
            # Connection-level trouble: open afresh next time.
            self._store.close()
            self._store = None
        self._last_failure = exc if isinstance(exc, HistoryError) else None
        if not self._failing or str(exc) != self._last_message:
            self._note(False, operation, str(exc))
        self._failing = True
        self._last_message = str(exc)

    def _recovered(self, operation: str) -> None:
        if self._failing:
            self._failing = False
            self._last_message = ""
            self._note(True, operation, "the history database works again")


def _database_trouble(exc: Exception) -> bool:
    """A failure of the database itself (worth retrying), as opposed to a refusal or a bug."""
    return isinstance(exc, HistoryUnavailableError | HistoryCorruptError) or not isinstance(
        exc, HistoryError | ValueError | TypeError
    )
