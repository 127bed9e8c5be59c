"""Session and progress charts: what they draw, odd text, and the pictures in the docs."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from harness.sessions import (
    finished,
    interrupted,
    journey,
    make_record,
    make_samples,
)
from treadctl.history.charts import BACKWARD_FILL, REST_FILL, progress_chart, session_chart, weekly

SVG = "{http://www.w3.org/2000/svg}"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _texts(root: ET.Element) -> list[str]:
    """The labels (without the white copies drawn under some of them)."""
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("aria-hidden") != "true"]


def test_session_chart_shades_segments_and_labels_backward_blocks() -> None:
    record, samples = finished()
    root = ET.fromstring(session_chart(record, samples))
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    assert fills.count(BACKWARD_FILL) == 2 + 1  # two blocks + the legend
    assert fills.count(REST_FILL) == 1 + 1  # the rest + the legend
    texts = _texts(root)
    assert texts.count("◀ backward") == 2
    assert "backward block 1" in texts
    assert "backward block 2" in texts
    assert any(t.startswith("6:30 in all, 4:00 walking backward, 123 m") for t in texts)
    speed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke-width") == "2.5"]
    assert len(speed) == 1
    assert len((speed[0].get("points") or "").split()) == 390


def test_interrupted_session_marks_its_end() -> None:
    record, samples = interrupted()
    texts = _texts(ET.fromstring(session_chart(record, samples)))
    assert "interrupted" in texts


def test_aborted_session_names_the_reason() -> None:
    samples = make_samples(stop_after_s=150)
    record = make_record(samples, end_reason="aborted", abort_reason="safety_key")
    assert "aborted: safety_key" in _texts(ET.fromstring(session_chart(record, samples)))


def test_speed_line_breaks_where_speed_was_not_measured() -> None:
    samples = make_samples(stop_after_s=100)
    samples[40:50] = [replace(s, speed_kmh=None) for s in samples[40:50]]
    root = ET.fromstring(session_chart(make_record(make_samples(stop_after_s=100)), samples))
    speed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke-width") == "2.5"]
    assert [len((p.get("points") or "").split()) for p in speed] == [40, 50]


def test_session_without_samples_still_draws() -> None:
    root = ET.fromstring(session_chart(make_record([]), []))
    assert root.tag == f"{SVG}svg"


@given(label=st.text(max_size=30), profile=st.text(min_size=1, max_size=30))
def test_odd_text_stays_well_formed(label: str, profile: str) -> None:
    plan = ((label, "backward", 5, 1.0, 1.0), ("rest", "forward", 3, 0.0, 0.0))
    samples = make_samples(plan=plan)
    record = replace(make_record(samples), profile=profile)
    ET.fromstring(session_chart(record, samples))
    ET.fromstring(progress_chart(profile, [record]))


def test_weekly_totals_stage_and_week_off() -> None:
    weeks = weekly(journey())
    assert [w.monday for w in weeks][:2] == [date(2026, 3, 2), date(2026, 3, 9)]
    assert len(weeks) == 6
    assert [w.sessions for w in weeks] == [3, 3, 3, 3, 0, 3]
    assert [w.stage for w in weeks] == [1, 2, 3, 2, 2, 3]
    assert [w.safety_aborts for w in weeks] == [0, 0, 0, 1, 0, 0]
    assert weeks[0].backward_min == 3 * 2 * 60 / 60
    assert weeks[4].backward_min == 0


def test_stage_changes_after_the_last_session_count() -> None:
    sessions = journey()
    last = max(r.started_at for r in sessions)
    advance = (last + timedelta(hours=3), 4)  # rated easy that evening: stage 4 from now on
    weeks = weekly(sessions, [advance])
    assert [w.stage for w in weeks] == [1, 2, 3, 2, 2, 4]
    later = weekly(sessions, [(last + timedelta(days=10), 4)])
    assert len(later) == 8
    assert [w.stage for w in later][-3:] == [3, 3, 4]
    assert [w.sessions for w in later][-2:] == [0, 0]


def test_progress_chart_draws_a_bar_per_week_and_the_stage_line() -> None:
    root = ET.fromstring(progress_chart("alice", journey()))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 6
    texts = _texts(root)
    assert [t for t in texts if t.startswith("stage ")] == [
        "stage 1",
        "stage 2",
        "stage 3",
        "stage 2",
        "stage 3",
    ]
    assert "1 safety stop" in texts
    assert len(list(root.iter(f"{SVG}circle"))) == 6


def test_progress_chart_without_sessions() -> None:
    assert "no sessions recorded yet" in _texts(ET.fromstring(progress_chart("bob", [])))


def test_docs_pictures_are_current() -> None:
    """docs/img holds the charts of these sessions; TREADCTL_WRITE_DOCS_IMG=1 rewrites them."""
    record, samples = finished()
    pictures = {
        "history-session.svg": session_chart(record, samples),
        "history-progress.svg": progress_chart("alice", journey()),
    }
    for name, svg in pictures.items():
        path = DOCS_IMG / name
        if os.environ.get("TREADCTL_WRITE_DOCS_IMG") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(svg, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == svg, f"{name} is stale"
