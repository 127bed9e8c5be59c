"""A recorded session as a FIT activity file, written with the ``fit-tool`` encoder.

Pure: ``encode_fit(record, samples, segments)`` returns the bytes. The file follows the FIT
"activity file" layout: file_id, the developer field descriptions, a timer start event, the
1 Hz records with one lap after the records of each segment, a timer stop event, the session
summary and the activity message. Sport is walking (11), sub-sport indoor walking (27).

FIT has no notion of walking backward and laps have no name, so each lap carries two developer
fields, ``segment`` (the profile's label) and ``direction`` ("backward"/"forward"); the session
carries ``profile``, ``end_reason`` and ``backward_time`` (seconds). An unknown heart rate is
left out of the message, never written as the invalid value 255. Steps go in ``total_cycles``
as strides (two steps each), as FIT counts them for walking. Field meanings and units:
docs/history-export.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fit_tool.base_type import BaseType
from fit_tool.developer_field import DeveloperField
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.developer_data_id_message import DeveloperDataIdMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.field_description_message import FieldDescriptionMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    FileType,
    Intensity,
    LapTrigger,
    SessionTrigger,
)

from treadctl.history.export.segments import (
    Segment,
    elapsed_s,
    end_reason_text,
    session_end,
    valid_hr,
)
from treadctl.history.records import Sample, SessionRecord

SPORT_WALKING = 11  # FIT profile, type "sport": walking
SUB_SPORT_INDOOR_WALKING = 27  # FIT profile, type "sub_sport": indoor_walking
MANUFACTURER_DEVELOPMENT = 255  # FIT profile, type "manufacturer": development
_MAX_STRING_BYTES = 254  # a FIT field holds at most 255 bytes, the last one the terminating NUL

# Our developer application (FIT developer_data_id.application_id: any fixed 16 bytes).
APPLICATION_ID = bytes.fromhex("7472656164637469c0de0001a5e55100")
_DEV_INDEX = 0

# Developer fields: (field_definition_number, name, base type, units).
FIELD_SEGMENT = 0
FIELD_DIRECTION = 1
FIELD_PROFILE = 2
FIELD_END_REASON = 3
FIELD_BACKWARD_TIME = 4
_DEV_FIELDS: tuple[tuple[int, str, Any, str], ...] = (
    (FIELD_SEGMENT, "segment", BaseType.STRING, ""),
    (FIELD_DIRECTION, "direction", BaseType.STRING, ""),
    (FIELD_PROFILE, "profile", BaseType.STRING, ""),
    (FIELD_END_REASON, "end_reason", BaseType.STRING, ""),
    (FIELD_BACKWARD_TIME, "backward_time", BaseType.UINT32, "s"),
)

# Local message numbers, one per message layout, so that records with and without a heart rate
# do not redefine each other at every change.
_LOCAL_FILE_ID, _LOCAL_EVENT, _LOCAL_RECORD, _LOCAL_RECORD_HR = 0, 1, 2, 3
_LOCAL_LAP, _LOCAL_SESSION, _LOCAL_ACTIVITY, _LOCAL_DEV = 4, 5, 6, 7


def _ms_epoch(at: datetime) -> int:
    """fit-tool takes times as milliseconds since 1970 UTC; a naive time is read as UTC."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return round(aware.timestamp()) * 1000


def fit_string(text: str) -> str:
    """Text as a FIT string field holds it: no NUL, at most 254 UTF-8 bytes, never empty."""
    raw = text.replace("\0", " ").encode("utf-8")[:_MAX_STRING_BYTES]
    return raw.decode("utf-8", errors="ignore") or "-"


def _mps(kmh: float | None) -> float | None:
    """km/h to m/s; None (not measured) stays None, which leaves the field out of the message."""
    return None if kmh is None else max(0.0, kmh) / 3.6


def _pos(value: float | None) -> float | None:
    return None if value is None else max(0.0, value)


def _string_field(field_id: int, text: str) -> Any:
    value = fit_string(text)
    field = DeveloperField(
        developer_data_index=_DEV_INDEX,
        field_id=field_id,
        base_type=BaseType.STRING,
        size=len(value.encode("utf-8")) + 1,
    )
    field.set_value(0, value)
    return field


def _uint32_field(field_id: int, value: int) -> Any:
    field = DeveloperField(
        developer_data_index=_DEV_INDEX, field_id=field_id, base_type=BaseType.UINT32, size=4
    )
    field.set_value(0, value)
    return field


def _record(sample: Sample) -> Any:
    hr = valid_hr(sample.heart_rate_bpm)
    mesg = RecordMessage(local_id=_LOCAL_RECORD if hr is None else _LOCAL_RECORD_HR)
    mesg.timestamp = _ms_epoch(sample.at)
    mesg.distance = _pos(sample.distance_m)
    mesg.speed = _mps(sample.speed_kmh)
    mesg.grade = sample.incline_pct
    if hr is not None:
        mesg.heart_rate = hr
    return mesg


def _lap(seg: Segment, last: bool) -> Any:
    mesg = LapMessage(
        local_id=_LOCAL_LAP,
        developer_fields=[
            _string_field(FIELD_SEGMENT, seg.label),
            _string_field(FIELD_DIRECTION, seg.direction),
        ],
    )
    mesg.message_index = seg.number
    mesg.timestamp = _ms_epoch(seg.end_at)
    mesg.start_time = _ms_epoch(seg.start_at)
    mesg.event = Event.LAP
    mesg.event_type = EventType.STOP
    mesg.total_elapsed_time = seg.duration_s
    mesg.total_timer_time = seg.duration_s
    mesg.total_distance = _pos(seg.distance_m)
    mesg.avg_speed = _mps(seg.avg_speed_kmh)
    mesg.max_speed = _mps(seg.max_speed_kmh)
    mesg.avg_grade = seg.avg_incline_pct
    mesg.max_pos_grade = _pos(seg.max_incline_pct)
    mesg.intensity = Intensity.ACTIVE if seg.moving else Intensity.REST
    mesg.lap_trigger = LapTrigger.SESSION_END if last else LapTrigger.TIME
    mesg.sport = SPORT_WALKING
    mesg.sub_sport = SUB_SPORT_INDOOR_WALKING
    if (avg := valid_hr(seg.avg_hr_bpm)) is not None:
        mesg.avg_heart_rate = avg
    if (top := valid_hr(seg.max_hr_bpm)) is not None:
        mesg.max_heart_rate = top
    return mesg


def _session(record: SessionRecord, samples: Sequence[Sample], num_laps: int) -> Any:
    mesg = SessionMessage(
        local_id=_LOCAL_SESSION,
        developer_fields=[
            _string_field(FIELD_PROFILE, record.profile),
            _string_field(FIELD_END_REASON, end_reason_text(record)),
            _uint32_field(FIELD_BACKWARD_TIME, round(max(0.0, record.backward_s))),
        ],
    )
    mesg.message_index = 0
    mesg.timestamp = _ms_epoch(session_end(record, samples))
    mesg.start_time = _ms_epoch(record.started_at)
    mesg.event = Event.SESSION
    mesg.event_type = EventType.STOP
    mesg.trigger = SessionTrigger.ACTIVITY_END
    mesg.sport = SPORT_WALKING
    mesg.sub_sport = SUB_SPORT_INDOOR_WALKING
    mesg.total_elapsed_time = elapsed_s(record, samples)
    mesg.total_timer_time = max(0.0, record.active_s)
    mesg.total_distance = _pos(record.distance_m)
    mesg.avg_speed = _mps(record.avg_speed_kmh)
    mesg.max_speed = _mps(record.max_speed_kmh)
    mesg.avg_grade = record.avg_incline_pct
    mesg.max_pos_grade = _pos(record.max_incline_pct)
    mesg.first_lap_index = 0
    mesg.num_laps = num_laps
    if record.steps is not None and record.steps > 0:
        mesg.total_cycles = record.steps // 2  # strides: FIT counts two steps as one cycle
    if (avg := valid_hr(record.avg_hr_bpm)) is not None:
        mesg.avg_heart_rate = avg
    if (top := valid_hr(record.max_hr_bpm)) is not None:
        mesg.max_heart_rate = top
    return mesg


def _developer_messages() -> list[Any]:
    dev_id = DeveloperDataIdMessage(local_id=_LOCAL_DEV)
    dev_id.developer_data_index = _DEV_INDEX
    dev_id.application_id = APPLICATION_ID
    dev_id.application_version = 1
    out: list[Any] = [dev_id]
    for number, name, base_type, units in _DEV_FIELDS:
        desc = FieldDescriptionMessage(local_id=_LOCAL_DEV + 1)
        desc.developer_data_index = _DEV_INDEX
        desc.field_definition_number = number
        desc.fit_base_type_id = base_type
        desc.field_name = name
        if units:
            desc.units = units
        out.append(desc)
    return out


def _event(at: datetime, event_type: Any) -> Any:
    mesg = EventMessage(local_id=_LOCAL_EVENT)
    mesg.timestamp = _ms_epoch(at)
    mesg.event = Event.TIMER
    mesg.event_type = event_type
    return mesg


def encode_fit(
    record: SessionRecord, samples: Sequence[Sample], segments: Sequence[Segment]
) -> bytes:
    """The session as a FIT activity file (``segments``: ``segments.laps(record, samples)``)."""
    end = session_end(record, samples)
    builder = FitFileBuilder(auto_define=True)
    file_id = FileIdMessage(local_id=_LOCAL_FILE_ID)
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = MANUFACTURER_DEVELOPMENT
    file_id.product = 0
    file_id.time_created = _ms_epoch(record.started_at)
    file_id.product_name = "treadctl"
    builder.add(file_id)
    builder.add_all(_developer_messages())
    builder.add(_event(record.started_at, EventType.START))
    for seg in segments:
        builder.add_all([_record(s) for s in samples[seg.first : seg.stop]])
        builder.add(_lap(seg, last=seg.number == len(segments) - 1))
    builder.add(_event(end, EventType.STOP_ALL))
    builder.add(_session(record, samples, len(segments)))
    activity = ActivityMessage(local_id=_LOCAL_ACTIVITY)
    activity.timestamp = _ms_epoch(end)
    activity.total_timer_time = max(0.0, record.active_s)
    activity.num_sessions = 1
    activity.type = Activity.MANUAL
    activity.event = Event.ACTIVITY
    activity.event_type = EventType.STOP
    builder.add(activity)
    data: bytes = builder.build().to_bytes()
    return data
