"""The writer thread: the event loop never waits; a full queue drops and says so; a write the
database failed is kept and written once it works again."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from tests.history.factories import running, samples
from treadctl.history.store import HistoryStore, HistoryUnavailableError, sqlite_url
from treadctl.history.writer import HistoryWriter


async def test_a_stalled_database_never_blocks_the_loop_and_a_full_queue_is_reported(
    tmp_path: Path,
) -> None:
    release = threading.Event()
    url = sqlite_url(tmp_path / "h.sqlite3")

    def stalled_open() -> HistoryStore:
        release.wait(30)  # the database does not answer until released
        return HistoryStore.open(url)

    async with HistoryWriter(stalled_open, where="test", queue_size=10) as writer:
        notices = writer.notices()
        started = time.monotonic()
        accepted = [writer.submit(f"w{i}", lambda _s: None) for i in range(20)]
        assert time.monotonic() - started < 0.1  # submit never waits
        assert accepted.count(False) >= 9
        notice = await asyncio.wait_for(anext(notices), 5)
        assert not notice.ok
        assert "queue full" in notice.message
        release.set()
        async with asyncio.timeout(10):
            while True:  # the queue empties once the database answers
                try:
                    await writer.call("barrier", lambda _s: None, timeout_s=10)
                except HistoryUnavailableError:
                    await asyncio.sleep(0.05)
                else:
                    break


async def test_failed_writes_are_kept_in_order_and_written_later(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "h.sqlite3")
    failing = True

    class Flaky(HistoryStore):
        def add_samples(self, session_id: str, batch: object) -> None:
            if failing:
                raise HistoryUnavailableError("disk full", where="test")
            super().add_samples(session_id, batch)  # type: ignore[arg-type]

    def open_flaky() -> Flaky:
        store = HistoryStore.open(url)
        return Flaky(store._engine, store.where)

    async with HistoryWriter(open_flaky, where="test") as writer:
        notices = writer.notices()
        writer.submit("begin", lambda s: s.begin_session(running("s1")))
        writer.submit("samples", lambda s: s.add_samples("s1", samples(3)))
        notice = await asyncio.wait_for(anext(notices), 5)
        assert (notice.ok, notice.operation, "disk full" in notice.message) == (
            False,
            "samples",
            True,
        )
        failing = False
        writer.submit("samples", lambda s: s.add_samples("s1", samples(2, start=3)))
        notice = await asyncio.wait_for(anext(notices), 15)
        assert notice.ok
        got = await writer.call("read", lambda s: s.samples("s1"), timeout_s=10)
    assert [x.t_s for x in got] == [0, 1, 2, 3, 4]
