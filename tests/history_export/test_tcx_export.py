"""TCX export, validated against Garmin's TrainingCenterDatabase v2 schema and read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from harness.sessions import finished, interrupted, make_record, make_samples
from tests.history_export.decoded import tcx_schema
from treadctl.history.export import export_session
from treadctl.history.export.tcx import NS, NS_EXT, xml_text

N = {"t": NS, "x": NS_EXT}


def _parse(data: bytes) -> ET.Element:
    tcx_schema().validate(data.decode("utf-8"))
    return ET.fromstring(data)


def test_finished_session_validates_and_carries_laps_and_trackpoints() -> None:
    record, samples = finished(with_hr=True)
    root = _parse(export_session(record, samples, "tcx"))
    (activity,) = root.findall("t:Activities/t:Activity", N)
    assert activity.get("Sport") == "Other"
    assert activity.findtext("t:Id", namespaces=N) == "2026-03-02T09:30:00Z"
    laps = activity.findall("t:Lap", N)
    assert [lap.findtext("t:Notes", namespaces=N) for lap in laps] == [
        "forward: warm-up",
        "backward: backward block 1",
        "forward: rest",
        "backward: backward block 2",
        "forward: cool-down",
    ]
    assert [float(lap.findtext("t:TotalTimeSeconds", "", N)) for lap in laps] == [
        60,
        120,
        30,
        120,
        60,
    ]
    assert [lap.findtext("t:Intensity", namespaces=N) for lap in laps][2] == "Resting"
    points = root.findall(".//t:Trackpoint", N)
    assert len(points) == 390
    assert points[61].findtext("t:Time", namespaces=N) == "2026-03-02T09:31:01Z"
    assert points[61].findtext("t:HeartRateBpm/t:Value", namespaces=N) == str(
        samples[61].heart_rate_bpm
    )
    assert float(points[61].findtext("t:Extensions/x:TPX/x:Speed", "", N)) == round(1.0 / 3.6, 3)
    total = sum(float(lap.findtext("t:DistanceMeters", "", N)) for lap in laps)
    assert abs(total - (record.distance_m or 0.0)) < 0.05
    notes = activity.findtext("t:Notes", namespaces=N) or ""
    assert "walking backward 240 s" in notes
    assert notes.endswith("finished")


def test_no_heart_rate_element_when_unknown() -> None:
    record, samples = finished(with_hr=False)
    root = _parse(export_session(record, samples, "tcx"))
    assert root.findall(".//t:HeartRateBpm", N) == []
    assert root.findall(".//t:AverageHeartRateBpm", N) == []


def test_interrupted_session_validates() -> None:
    record, samples = interrupted()
    root = _parse(export_session(record, samples, "tcx"))
    assert len(root.findall(".//t:Lap", N)) == 3
    assert len(root.findall(".//t:Trackpoint", N)) == 200
    assert (root.findtext(".//t:Activity/t:Notes", namespaces=N) or "").endswith("interrupted")


def test_session_without_samples_validates() -> None:
    root = _parse(export_session(make_record([]), [], "tcx"))
    assert len(root.findall(".//t:Lap", N)) == 1
    assert root.findall(".//t:Track", N) == []


odd_text = st.text(min_size=0, max_size=40)
odd_name = st.text(min_size=1, max_size=40)  # record names are never empty


@given(label=odd_text, profile=odd_name)
def test_odd_labels_are_escaped_and_still_valid(label: str, profile: str) -> None:
    plan = (
        (label, "backward", 3, 1.0, 2.0),
        ("rest", "forward", 2, 0.0, 0.0),
        (label + "<&>", "forward", 2, 1.2, 0.0),
    )
    samples = make_samples(plan=plan)
    record = replace(make_record(samples), profile=profile)
    root = _parse(export_session(record, samples, "tcx"))
    notes = [lap.findtext("t:Notes", namespaces=N) for lap in root.findall(".//t:Lap", N)]
    assert notes == [
        xml_text(f"backward: {label}" if label else "backward"),
        "forward: rest",
        xml_text(f"forward: {label}<&>"),
    ]
    assert xml_text(f"profile {profile};") in (
        root.findtext(".//t:Activity/t:Notes", namespaces=N) or ""
    )
