"""FIT export, read back with an independent decoder (fitdecode): values, not just shape."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.sessions import (
    finished,
    interrupted,
    make_record,
    make_samples,
    running,
)
from tests.history_export.decoded import decode_fit, named
from treadctl.history.export import export_session
from treadctl.history.export.fit import SPORT_WALKING, SUB_SPORT_INDOOR_WALKING, fit_string
from treadctl.history.export.segments import valid_hr


def test_finished_session_with_heart_rate() -> None:
    record, samples = finished(with_hr=True)
    msgs = decode_fit(export_session(record, samples, "fit"))
    assert [m.name for m in msgs][:2] == ["file_id", "developer_data_id"]
    assert msgs[-2].name == "session"
    assert msgs[-1].name == "activity"
    assert named(msgs, "file_id")[0].values["type"] == "activity"

    records = named(msgs, "record")
    assert len(records) == len(samples) == 390
    for got, want in zip(records, samples, strict=True):
        assert got.values["timestamp"] == want.at
        assert got.values["speed"] == pytest.approx((want.speed_kmh or 0.0) / 3.6, abs=0.001)
        assert got.values["distance"] == pytest.approx(want.distance_m, abs=0.01)
        assert got.values["grade"] == pytest.approx(want.incline_pct, abs=0.01)
        assert got.values["heart_rate"] == want.heart_rate_bpm

    laps = named(msgs, "lap")
    assert [(lap.values["segment"], lap.values["direction"]) for lap in laps] == [
        ("warm-up", "forward"),
        ("backward block 1", "backward"),
        ("rest", "forward"),
        ("backward block 2", "backward"),
        ("cool-down", "forward"),
    ]
    assert [lap.values["total_elapsed_time"] for lap in laps] == [60, 120, 30, 120, 60]
    assert [lap.values["intensity"] for lap in laps] == [
        "active",
        "active",
        "rest",
        "active",
        "active",
    ]
    assert laps[1].values["total_distance"] == pytest.approx(120 * 1.0 / 3.6, abs=0.02)
    assert laps[1].values["avg_heart_rate"] == round(
        sum(s.heart_rate_bpm or 0 for s in samples[60:180]) / 120
    )
    assert [lap.raw["sport"] for lap in laps] == [SPORT_WALKING] * 5
    assert [lap.raw["sub_sport"] for lap in laps] == [SUB_SPORT_INDOOR_WALKING] * 5

    (session,) = named(msgs, "session")
    assert session.raw["sport"] == SPORT_WALKING == 11
    assert session.raw["sub_sport"] == SUB_SPORT_INDOOR_WALKING == 27
    assert session.values["sport"] == "walking"
    assert session.values["sub_sport"] == "indoor_walking"
    assert session.values["num_laps"] == 5
    assert session.values["total_distance"] == pytest.approx(record.distance_m, abs=0.01)
    assert sum(lap.values["total_distance"] for lap in laps) == pytest.approx(
        record.distance_m, abs=0.05
    )
    assert session.values["total_elapsed_time"] == 390
    assert session.values["total_timer_time"] == record.active_s == 360
    assert session.values["avg_heart_rate"] == record.avg_hr_bpm
    assert session.values["max_heart_rate"] == record.max_hr_bpm
    assert session.values["backward_time"] == 240
    assert session.values["end_reason"] == "finished"
    assert session.values["profile"] == "retro-week-1"
    assert record.steps == 720
    assert session.values["total_strides"] == 360  # FIT counts strides: two steps each
    events = named(msgs, "event")
    assert [(e.values["event"], e.values["event_type"]) for e in events] == [
        ("timer", "start"),
        ("timer", "stop_all"),
    ]


def test_placeholder_heart_rates_are_never_values() -> None:
    # The records refuse 0 and 255 already; the exporters check again before writing.
    assert [valid_hr(v) for v in (None, 0, 1, 254, 255, 300)] == [None, None, 1, 254, None, None]


def test_unknown_heart_rate_is_left_out_never_255() -> None:
    record, samples = finished(with_hr=False)
    msgs = decode_fit(export_session(record, samples, "fit"))
    for m in msgs:
        for name in ("heart_rate", "avg_heart_rate", "max_heart_rate"):
            assert name not in m.values, (m.name, name)
    assert len(named(msgs, "record")) == 390


def test_heart_rate_known_for_part_of_the_session() -> None:
    samples = make_samples(with_hr=True)
    samples[:60] = [replace(s, heart_rate_bpm=None) for s in samples[:60]]
    record = make_record(samples)
    msgs = decode_fit(export_session(record, samples, "fit"))
    records = named(msgs, "record")
    assert ["heart_rate" in r.values for r in records] == [False] * 60 + [True] * 330
    laps = named(msgs, "lap")
    assert "avg_heart_rate" not in laps[0].values
    assert laps[1].values["max_heart_rate"] == max(s.heart_rate_bpm or 0 for s in samples[60:180])


def test_interrupted_session_ends_at_its_last_sample() -> None:
    record, samples = interrupted()
    msgs = decode_fit(export_session(record, samples, "fit"))
    assert len(named(msgs, "record")) == 200
    laps = named(msgs, "lap")
    assert [lap.values["segment"] for lap in laps] == ["warm-up", "backward block 1", "rest"]
    (session,) = named(msgs, "session")
    assert session.values["end_reason"] == "interrupted"
    assert session.values["timestamp"] == samples[-1].at
    assert session.values["total_elapsed_time"] == 199


def test_aborted_session_names_its_safety_reason() -> None:
    samples = make_samples(stop_after_s=100)
    record = make_record(samples, end_reason="aborted", abort_reason="safety_key")
    (session,) = named(decode_fit(export_session(record, samples, "fit")), "session")
    assert session.values["end_reason"] == "aborted: safety_key"


def test_session_without_samples_still_has_one_lap() -> None:
    record = make_record([])
    msgs = decode_fit(export_session(record, [], "fit"))
    assert named(msgs, "record") == []
    assert len(named(msgs, "lap")) == 1
    assert named(msgs, "session")[0].values["num_laps"] == 1


def test_long_and_odd_labels_fit_in_a_fit_string() -> None:
    label = "é" * 300 + "\0x"
    samples = [replace(s, segment_label=label) for s in make_samples(stop_after_s=5)]
    record = make_record(samples)
    (lap,) = named(decode_fit(export_session(record, samples, "fit")), "lap")
    assert lap.values["segment"] == fit_string(label) == "é" * 127
    assert fit_string("") == "-"


def test_running_session_exports_what_was_recorded() -> None:
    record, samples = running()
    msgs = decode_fit(export_session(record, samples, "fit"))
    assert len(named(msgs, "record")) == 100
    (session,) = named(msgs, "session")
    assert session.values["end_reason"] == "running"
    assert session.values["timestamp"] == samples[-1].at


def test_unmeasured_values_are_left_out() -> None:
    measured = make_samples(stop_after_s=10)
    samples = [replace(s, speed_kmh=None, distance_m=None, incline_pct=None) for s in measured]
    record = replace(make_record(measured), distance_m=None, avg_speed_kmh=None)
    msgs = decode_fit(export_session(record, samples, "fit"))
    for m in named(msgs, "record"):
        assert "speed" not in m.values
        assert "distance" not in m.values
        assert "grade" not in m.values
    (lap,) = named(msgs, "lap")
    assert "avg_speed" not in lap.values
    assert "total_distance" not in lap.values
    (session,) = named(msgs, "session")
    assert "total_distance" not in session.values


@given(label=st.text(max_size=60), profile=st.text(min_size=1, max_size=60))
def test_any_label_reads_back(label: str, profile: str) -> None:
    plan = ((label, "backward", 3, 1.0, 0.0), ("rest", "forward", 2, 0.0, 0.0))
    samples = make_samples(plan=plan)
    record = replace(make_record(samples), profile=profile)
    msgs = decode_fit(export_session(record, samples, "fit"))
    assert [lap.values["segment"] for lap in named(msgs, "lap")] == [fit_string(label), "rest"]
    assert named(msgs, "session")[0].values["profile"] == fit_string(profile)
