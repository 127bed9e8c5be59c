"""A daemon killed (SIGKILL) mid-session loses at most the last 5 s of samples; the next daemon
marks the session ``interrupted`` and keeps its samples. Real processes: simulator, daemon,
Mosquitto (harness/)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.daemon import DaemonRig
from tests.daemon.daemon_profiles import TEST_PROFILES
from treadctl.history.records import Sample, SessionRecord
from treadctl.history.store import HistoryStore, sqlite_url

pytestmark = pytest.mark.crossprocess

DEADLINE_S = 30.0


async def until(read: object, store: HistoryStore, check: object) -> object:
    """Poll the database (another process writes it) until ``check(value)``; bounded."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            value = read(store)  # type: ignore[operator]
            if check(value):  # type: ignore[operator]
                return value
            await asyncio.sleep(0.1)


async def test_sigkill_leaves_an_interrupted_session_with_its_samples(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
        daemon = await rig.start_daemon()
        assert (await rig.mqtt.request("tm1", "arm"))["status"] == "ok"
        started = await rig.mqtt.request("tm1", "start_profile", profile="long-back")
        assert started["status"] == "ok", started
        path = tmp_path / "state" / "history.sqlite3"
        store = HistoryStore.open(sqlite_url(path))
        running: list[SessionRecord] = await until(  # type: ignore[assignment]
            lambda s: s.sessions(), store, bool
        )
        session_id = running[0].id
        # At least 12 flushed samples (12 s on the device clock), the belt moving.
        before: list[Sample] = await until(  # type: ignore[assignment]
            lambda s: s.samples(session_id),
            store,
            lambda found: len(found) >= 12 and (found[-1].speed_kmh or 0) > 0,
        )
        assert await daemon.kill() == -9
        killed_at = store.samples(session_id)
        assert store.session(session_id).running
        assert len(killed_at) >= len(before)

        since = rig.mqtt.mark()
        await rig.start_daemon()
        event = await rig.mqtt.wait_json(
            "treadctl/tm1/event", lambda e: e["kind"] == "session_interrupted", since=since
        )
        assert event["data"]["session"] == session_id
        record: SessionRecord = await until(  # type: ignore[assignment]
            lambda s: s.session(session_id), store, lambda r: not r.running
        )
        assert record.end_reason == "interrupted"
        after = store.samples(session_id)
        assert after == killed_at  # every flushed sample kept, none added
        assert record.ended_at == after[-1].at
        store.close()
