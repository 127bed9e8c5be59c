"""``treadctl history export|chart|progress`` against a real SQLite history file."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from harness.sessions import journey, make_record, make_samples
from tests.history_export.decoded import decode_fit, named, tcx_schema
from treadctl.cli.main import main
from treadctl.history.records import Sample, SessionRecord
from treadctl.history.store import HistoryStore, StageChange, sqlite_url


def _record(store: HistoryStore, record: SessionRecord, samples: list[Sample]) -> None:
    store.begin_session(replace(record, ended_at=None, end_reason=None, abort_reason=None))
    store.add_samples(record.id, samples)
    store.end_session(record)


@pytest.fixture
def history(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "history.sqlite3")
    store = HistoryStore.open(url)
    try:
        samples = make_samples(with_hr=False)
        _record(store, make_record(samples, session_id="done"), samples)
        cut = make_samples(stop_after_s=200)
        cut_record = make_record(
            cut, session_id="cut", end_reason="interrupted", ended_at=cut[-1].at
        )
        _record(store, cut_record, cut)
        sessions = journey()
        for record in sessions:
            store.begin_session(replace(record, ended_at=None, end_reason=None))
            store.end_session(record)
        last = sessions[-1]
        store.apply(
            StageChange(
                person_id="alice",
                program="retro-6-weeks",
                from_stage=3,
                to_stage=4,
                action="advance",
                reason="last two sessions easy, pain <= 3",
                session_id=last.id,
                at=last.started_at + timedelta(hours=2),
            )
        )
    finally:
        store.close()
    return url


def test_export_fit_reads_back_from_the_store(history: str, tmp_path: Path) -> None:
    out = tmp_path / "out" / "done.fit"
    assert main(["history", "export", "done", "--history-url", history, "--out", str(out)]) == 0
    msgs = decode_fit(out.read_bytes())
    assert len(named(msgs, "record")) == 390
    assert len(named(msgs, "lap")) == 5
    assert all("heart_rate" not in m.values for m in named(msgs, "record"))
    (session,) = named(msgs, "session")
    assert (session.raw["sport"], session.raw["sub_sport"]) == (11, 27)


def test_export_tcx_and_csv_default_names(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["history", "export", "cut", "--format", "tcx", "--history-url", history]) == 0
    data = (tmp_path / "treadctl-cut.tcx").read_bytes()
    tcx_schema().validate(data.decode())
    assert len(ET.fromstring(data).findall(".//{*}Trackpoint")) == 200
    assert main(["history", "export", "cut", "--format", "csv", "--history-url", history]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "treadctl-cut.csv").read_text())))
    assert ["#end_reason", "interrupted"] in rows


def test_export_to_stdout(history: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert (
        main(
            ["history", "export", "done", "--format", "csv", "--history-url", history, "--out", "-"]
        )
        == 0
    )
    assert capfdbinary.readouterr().out.startswith(b"#format,treadctl-session-csv/1\r\n")


def test_unknown_session_is_a_clear_error(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nothing.fit"
    assert main(["history", "export", "nope", "--history-url", history, "--out", str(out)]) == 1
    assert "no session 'nope'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["history", "chart", "nope", "--history-url", history]) == 1


def test_unknown_person_and_unreadable_history(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "progress", "bob", "--history-url", history]) == 1
    assert "no sessions recorded for person 'bob'" in capsys.readouterr().err
    bad = tmp_path / "garbage.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    assert main(["history", "export", "done", "--history-url", sqlite_url(bad)]) == 1
    assert str(bad) in capsys.readouterr().err
    assert bad.read_bytes() == b"this is not a database" * 100


def test_unwritable_output_is_a_clear_error(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "sub" / "done.fit"
    assert main(["history", "export", "done", "--history-url", history, "--out", str(out)]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_chart_and_progress_svg(history: str, tmp_path: Path) -> None:
    chart = tmp_path / "done.svg"
    assert main(["history", "chart", "done", "--history-url", history, "--out", str(chart)]) == 0
    root = ET.fromstring(chart.read_text())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("◀ backward") == 2
    progress = tmp_path / "alice.svg"
    argv = ["history", "progress", "alice", "--history-url", history, "--out", str(progress)]
    assert main(argv) == 0
    root = ET.fromstring(progress.read_text())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "stage 3" in texts
    assert "stage 4" in texts  # the advance decided after the last session


def test_chart_png(history: str, tmp_path: Path) -> None:
    pytest.importorskip("cairosvg")
    out = tmp_path / "done.png"
    assert (
        main(["history", "chart", "done", "--png", "--history-url", history, "--out", str(out)])
        == 0
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (860 * 2, 420 * 2)
