"""``treadctl session next`` and ``treadctl history rate`` as real processes against the
simulator: the person's stage is started, recorded with its program stage, and rated."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import DaemonRig
from tests.daemon.daemon_profiles import TEST_PROFILES
from tests.daemon.test_daemon_cli import _treadctl
from treadctl.history.store import HistoryStore, sqlite_url

pytestmark = pytest.mark.crossprocess

PROGRAM = """\
name: two-steps
description: Two stages (tests).
stages:
  - profile: quick-back
    name: short
  - profile: long-back
"""


async def test_session_next_then_rate(tmp_path: Path) -> None:
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "two-steps.yaml").write_text(PROGRAM, encoding="utf-8")
    extra = {
        "people": [
            {"id": "ann", "name": "Ann", "program": "two-steps"},
            {"id": "bob", "name": "Bob", "program": "two-steps"},
        ],
        "history": {"programs_dir": str(programs)},
    }
    async with DaemonRig(
        tmp_path, with_mqtt=False, profiles=TEST_PROFILES, extra_config=extra
    ) as rig:
        config = str(rig.config_path)
        # Two people and no default: the command must name one.
        code, out, err = await _treadctl("session", "next", "--config", config, within=60)
        assert code == 1
        assert "no default person" in out + err
        code, out, err = await _treadctl(
            "session", "next", "--person", "ann", "--config", config, within=60
        )
        assert code == 0, err
        assert "ann: two-steps stage 1 (short), profile quick-back" in out
        assert "Session finished: quick-back" in out

        store = HistoryStore.open(sqlite_url(tmp_path / "state" / "history.sqlite3"))
        [session] = store.sessions(person_id="ann")
        assert (session.program, session.stage, session.end_reason) == ("two-steps", 1, "finished")
        assert len(store.samples(session.id)) >= 55
        store.close()

        rate = ["history", "rate", "--config", config, "--difficulty", "easy"]
        code, out, err = await _treadctl(*rate, "--pain", "2", "--person", "ann")
        assert code == 0, err
        assert "repeat: stage 1 -> 1" in out
        code, out, err = await _treadctl(*rate, "--pain", "2", "--person", "bob")
        assert code == 1
        assert "'bob' has no ended session to rate" in err
