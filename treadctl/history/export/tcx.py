"""A recorded session as Garmin Training Center XML (TCX v2), written with the stdlib XML writer.

Pure: ``encode_tcx(record, samples, segments)`` returns UTF-8 bytes. One activity; one lap per
segment with its 1 Hz trackpoints (time, distance, heart rate when known) and the speed in the
ActivityExtension v2 ``TPX`` element; lap ``Notes`` carry "backward: <label>" or
"forward: <label>" (TCX has no direction either). TCX v2 sports are Running, Biking and Other:
walking backward on a treadmill is "Other". Incline has no TCX field; it is in the FIT and CSV
exports. Text that XML 1.0 cannot carry (control characters) is replaced by U+FFFD and line
ends are written as LF.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from treadctl.history.export.segments import Segment, end_reason_text, valid_hr
from treadctl.history.records import Sample, SessionRecord

NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
NS_EXT = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{NS} http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd"
SPORT = "Other"

# Characters outside the XML 1.0 "Char" production (XML 1.0, section 2.2).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text as an XML reader will get it back: line ends as "\\n" (XML 1.0 section 2.11
    normalises them when reading), characters XML cannot carry as U+FFFD."""
    return _NOT_XML.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))


def _time(at: datetime) -> str:
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float, digits: int = 3) -> str:
    return f"{max(0.0, value):.{digits}f}"


def _mps(kmh: float | None) -> str | None:
    return None if kmh is None else _num(kmh / 3.6)


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = NS) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = xml_text(text)
    return el


def _hr(parent: ET.Element, tag: str, bpm: int | None) -> None:
    if (value := valid_hr(bpm)) is not None:
        _sub(_sub(parent, tag), "Value", str(value))


def _trackpoint(track: ET.Element, sample: Sample) -> None:
    point = _sub(track, "Trackpoint")
    _sub(point, "Time", _time(sample.at))
    if sample.distance_m is not None:
        _sub(point, "DistanceMeters", _num(sample.distance_m, 2))
    _hr(point, "HeartRateBpm", sample.heart_rate_bpm)
    if (speed := _mps(sample.speed_kmh)) is not None:
        tpx = _sub(_sub(point, "Extensions"), "TPX", ns=NS_EXT)
        _sub(tpx, "Speed", speed, ns=NS_EXT)


def _lap(activity: ET.Element, seg: Segment, samples: Sequence[Sample], last: bool) -> None:
    lap = _sub(activity, "Lap")
    lap.set("StartTime", _time(seg.start_at))
    _sub(lap, "TotalTimeSeconds", _num(seg.duration_s, 1))
    _sub(lap, "DistanceMeters", _num(seg.distance_m or 0.0, 2))  # required by the schema
    if (top := _mps(seg.max_speed_kmh)) is not None:
        _sub(lap, "MaximumSpeed", top)
    _sub(lap, "Calories", "0")
    _hr(lap, "AverageHeartRateBpm", seg.avg_hr_bpm)
    _hr(lap, "MaximumHeartRateBpm", seg.max_hr_bpm)
    _sub(lap, "Intensity", "Active" if seg.moving else "Resting")
    _sub(lap, "TriggerMethod", "Manual" if last else "Time")
    points = samples[seg.first : seg.stop]
    if points:
        track = _sub(lap, "Track")
        for sample in points:
            _trackpoint(track, sample)
    _sub(lap, "Notes", seg.title)
    if (avg := _mps(seg.avg_speed_kmh)) is not None:
        lx = _sub(_sub(lap, "Extensions"), "LX", ns=NS_EXT)
        _sub(lx, "AvgSpeed", avg, ns=NS_EXT)


def activity_notes(record: SessionRecord) -> str:
    parts = [f"treadctl session {record.id}", f"profile {record.profile}"]
    if record.program:
        stage = f", stage {record.stage}" if record.stage is not None else ""
        parts.append(f"program {record.program}{stage}")
    parts.append(f"walking backward {round(record.backward_s)} s")
    parts.append(end_reason_text(record))
    return "; ".join(parts)


def encode_tcx(
    record: SessionRecord, samples: Sequence[Sample], segments: Sequence[Segment]
) -> bytes:
    """The session as a TCX v2 document (``segments``: ``segments.laps(record, samples)``)."""
    # Readable prefixes; ElementTree keeps them process-wide, and nothing else writes these.
    ET.register_namespace("", NS)
    ET.register_namespace("ax", NS_EXT)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(f"{{{NS}}}TrainingCenterDatabase")
    root.set(f"{{{_XSI}}}schemaLocation", _SCHEMA_LOCATION)
    activity = _sub(_sub(root, "Activities"), "Activity")
    activity.set("Sport", SPORT)
    _sub(activity, "Id", _time(record.started_at))
    for seg in segments:
        _lap(activity, seg, samples, last=seg.number == len(segments) - 1)
    _sub(activity, "Notes", activity_notes(record))
    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"
