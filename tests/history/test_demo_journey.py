"""``treadctl demo --sessions 2`` (scripts/demo-journey) end to end, as a real process: two
program sessions started with start_next, rated, the stage advanced, the files written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon.test_daemon_cli import _treadctl
from treadctl.history.store import HistoryStore, sqlite_url

pytestmark = pytest.mark.crossprocess

DEADLINE_S = 400.0
"""A bound against hangs; the run takes about 80 s (two 20-minute stages at time x30)."""


async def test_the_journey_demo(tmp_path: Path) -> None:
    work = tmp_path / "journey"
    code, out, err = await _treadctl(
        "demo", "--sessions", "2", "--workdir", str(work), within=DEADLINE_S
    )
    assert code == 0, err + out
    assert "demo-walker: retro-6-weeks stage 1 (week 1), profile retro-progress-week1" in out
    # The second session the same day: warned, started anyway.
    assert "note: there was already a session today" in out
    assert "advance: stage 1 -> 2" in out
    store = HistoryStore.open(sqlite_url(work / "history.sqlite3"))
    sessions = store.sessions(person_id="demo-walker")
    assert [s.end_reason for s in sessions] == ["finished", "finished"]
    assert all(s.rating is not None for s in sessions)
    assert store.stage("demo-walker", "retro-6-weeks") is not None
    store.close()
    last = sessions[0].id
    for name in (f"{last}.fit", f"{last}.tcx", f"{last}.csv", f"{last}.svg"):
        assert (work / name).stat().st_size > 0, name
        assert f"wrote {work / name}" in out
