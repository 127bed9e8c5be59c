"""CSV export: summary rows and samples, read back with the stdlib CSV reader."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from harness.sessions import finished, interrupted, make_record, make_samples
from treadctl.history.export import export_session
from treadctl.history.export.csvfile import COLUMNS, FORMAT


def _read(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    summary = {r[0][1:]: r[1] for r in rows if r and r[0].startswith("#")}
    table = [r for r in rows if r and not r[0].startswith("#")]
    assert tuple(table[0]) == COLUMNS
    return summary, [dict(zip(COLUMNS, r, strict=True)) for r in table[1:]]


def test_finished_session() -> None:
    record, samples = finished(with_hr=True)
    summary, rows = _read(export_session(record, samples, "csv"))
    assert summary["format"] == FORMAT
    assert summary["session_id"] == "s-0001"
    assert summary["end_reason"] == "finished"
    assert summary["backward_s"] == "240"
    assert summary["elapsed_s"] == "390"
    assert summary["segments"] == "5"
    assert float(summary["distance_m"]) == round(record.distance_m or 0.0, 2)
    assert len(rows) == 390
    assert rows[61] == {
        "t_s": "61",
        "time_utc": "2026-03-02T09:31:01Z",
        "speed_kmh": "1.00",
        "incline_pct": "2.0",
        "distance_m": f"{samples[61].distance_m:.2f}",
        "segment_index": "1",
        "segment_label": "backward block 1",
        "direction": "backward",
        "heart_rate_bpm": str(samples[61].heart_rate_bpm),
    }


def test_unknown_heart_rate_is_an_empty_cell() -> None:
    record, samples = finished(with_hr=False)
    summary, rows = _read(export_session(record, samples, "csv"))
    assert {r["heart_rate_bpm"] for r in rows} == {""}
    assert summary["avg_hr_bpm"] == ""


def test_interrupted_session() -> None:
    record, samples = interrupted()
    summary, rows = _read(export_session(record, samples, "csv"))
    assert summary["end_reason"] == "interrupted"
    assert summary["ended_at"] == summary["end"] == "2026-03-02T09:33:19Z"
    assert len(rows) == 200


def test_aborted_session() -> None:
    samples = make_samples(stop_after_s=30)
    record = make_record(samples, end_reason="aborted", abort_reason="stale telemetry")
    summary, _ = _read(export_session(record, samples, "csv"))
    assert summary["end_summary"] == "aborted: stale telemetry"


odd_text = st.text(min_size=0, max_size=40)
odd_name = st.text(min_size=1, max_size=40)  # record names are never empty


@given(label=odd_text, profile=odd_name, person=odd_name)
def test_odd_text_round_trips(label: str, profile: str, person: str) -> None:
    samples = make_samples(
        plan=((label, "backward", 3, 1.0, 0.0), ("#" + label, "forward", 2, 1.0, 0.0))
    )
    record = replace(make_record(samples), profile=profile, person_id=person)
    summary, rows = _read(export_session(record, samples, "csv"))
    assert [r["segment_label"] for r in rows] == [label] * 3 + ["#" + label] * 2
    assert summary["profile"] == profile
    assert summary["person_id"] == person
