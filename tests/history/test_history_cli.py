"""``treadctl history list|show|rate|stage`` on a real SQLite file; bad input is refused with a
clear message and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.history.factories import T0, samples, session
from treadctl.cli.main import main
from treadctl.history.store import HistoryStore, StageChange, sqlite_url


def setup(tmp_path: Path) -> Path:
    config = tmp_path / "treadctl.toml"
    config.write_text(
        f"""
state_dir = "{tmp_path}"
[[devices]]
id = "living-room"
address = "AA:BB:CC:DD:EE:FF"
has_handrails = true
[[people]]
id = "ann"
name = "Ann"
default = true
[[people]]
id = "bob"
name = "Bob"
""",
        encoding="utf-8",
    )
    store = HistoryStore.open(sqlite_url(tmp_path / "history.sqlite3"))
    store.apply(StageChange("ann", "retro-6-weeks", None, 1, "start", "starts", None, T0))
    for i in range(2):
        start = T0 + timedelta(days=2 * i)
        store.begin_session(
            session(f"s{i}", started_at=start, ended_at=start + timedelta(minutes=20))
        )
        store.add_samples(f"s{i}", samples(3))
    store.begin_session(session("b0", person_id="bob", program=None, stage=None))
    store.close()
    return config


def test_list_show_rate_and_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(setup(tmp_path))
    assert main(["history", "list", "--config", config]) == 0
    out = capsys.readouterr().out
    assert out.index("s1") < out.index("s0")
    assert "not rated" in out
    assert main(["history", "show", "s0", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "samples    3" in out
    assert "retro-6-weeks stage 1" in out

    rate = ["history", "rate", "--config", config, "--difficulty", "easy"]
    assert main([*rate, "s0", "--pain", "2"]) == 0
    assert "repeat: stage 1 -> 1" in capsys.readouterr().out
    assert main([*rate, "--pain", "1"]) == 0  # the last session: s1
    out = capsys.readouterr().out
    assert "rated s1" in out
    assert "advance: stage 1 -> 2" in out
    assert main(["history", "stage", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "ann: retro-6-weeks, stage 2 (week 2)" in out
    assert "advance   1 -> 2" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["s0", "--pain", "11"], 2, "pain"),
        (["s0", "--pain", "-1"], 2, "pain"),
        (["b0", "--pain", "1"], 1, "belongs to 'bob', not 'ann'"),
        (["s0", "--pain", "1", "--person", "carl"], 2, "no person 'carl'"),
        (["nope", "--pain", "1"], 1, "no session 'nope'"),
    ],
)
def test_bad_ratings_change_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    config = str(setup(tmp_path))
    before = (tmp_path / "history.sqlite3").read_bytes()
    assert main(["history", "rate", "--config", config, "--difficulty", "ok", *argv]) == code
    assert message in capsys.readouterr().err
    store = HistoryStore.open(sqlite_url(tmp_path / "history.sqlite3"))
    assert all(s.rating is None for s in store.sessions())
    store.close()
    assert len(before) > 0


def test_a_corrupt_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(setup(tmp_path))
    path = tmp_path / "history.sqlite3"
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    damaged = b"\x00garbage" * 4096
    path.write_bytes(damaged)
    assert main(["history", "list", "--config", config]) == 1
    err = capsys.readouterr().err
    assert "damaged or not a database" in err
    assert "left as it is" in err
    assert path.read_bytes() == damaged
