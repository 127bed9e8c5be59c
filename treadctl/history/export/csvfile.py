"""A recorded session as CSV: a summary header, then one row per 1 Hz sample.

Pure: ``encode_csv(record, samples, segments)`` returns UTF-8 bytes (RFC 4180 quoting by the
stdlib ``csv`` writer, CRLF line ends). The whole file is one CSV table for any CSV reader:

- summary rows first, two cells each: ``#name`` and its value (``#format`` is
  ``treadctl-session-csv/1``); empty value when unknown;
- then the header row ``t_s,time_utc,...`` and the samples.

Skip rows whose first cell starts with ``#`` to get the samples table (pandas:
``pd.read_csv(path, comment="#")`` works as long as no summary value holds a line break).
Columns are documented in docs/history-export.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

from treadctl.history.export.segments import (
    Segment,
    elapsed_s,
    end_reason_text,
    session_end,
    valid_hr,
)
from treadctl.history.records import Sample, SessionRecord

FORMAT = "treadctl-session-csv/1"

COLUMNS: tuple[str, ...] = (
    "t_s",
    "time_utc",
    "speed_kmh",
    "incline_pct",
    "distance_m",
    "segment_index",
    "segment_label",
    "direction",
    "heart_rate_bpm",
)


def _time(at: datetime | None) -> str:
    if at is None:
        return ""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _opt(value: object | None) -> str:
    return "" if value is None else str(value)


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)


def summary_rows(
    record: SessionRecord, samples: Sequence[Sample], segments: Sequence[Segment]
) -> list[tuple[str, str]]:
    rating = record.rating
    return [
        ("#format", FORMAT),
        ("#session_id", record.id),
        ("#person_id", record.person_id),
        ("#treadmill_id", record.treadmill_id),
        ("#profile", record.profile),
        ("#program", _opt(record.program)),
        ("#stage", _opt(record.stage)),
        ("#started_at", _time(record.started_at)),
        ("#ended_at", _time(record.ended_at)),
        ("#end", _time(session_end(record, samples))),
        ("#end_reason", _opt(record.end_reason)),
        ("#abort_reason", _opt(record.abort_reason)),
        ("#end_summary", end_reason_text(record)),
        ("#elapsed_s", f"{elapsed_s(record, samples):.0f}"),
        ("#active_s", f"{record.active_s:.0f}"),
        ("#backward_s", f"{record.backward_s:.0f}"),
        ("#distance_m", _fmt(record.distance_m, ".2f")),
        ("#avg_speed_kmh", _fmt(record.avg_speed_kmh, ".2f")),
        ("#max_speed_kmh", _fmt(record.max_speed_kmh, ".2f")),
        ("#avg_incline_pct", _fmt(record.avg_incline_pct, ".1f")),
        ("#max_incline_pct", _fmt(record.max_incline_pct, ".1f")),
        ("#steps", _opt(record.steps)),
        ("#avg_hr_bpm", _opt(valid_hr(record.avg_hr_bpm))),
        ("#max_hr_bpm", _opt(valid_hr(record.max_hr_bpm))),
        ("#pain", _opt(rating.pain if rating else None)),
        ("#difficulty", rating.difficulty.value if rating else ""),
        ("#near_fall", _opt(rating.near_fall if rating else None).lower()),
        ("#rated_at", _time(rating.rated_at if rating else None)),
        ("#segments", str(len(segments))),
        ("#samples", str(len(samples))),
    ]


def encode_csv(
    record: SessionRecord, samples: Sequence[Sample], segments: Sequence[Segment]
) -> bytes:
    """The session as CSV (``segments``: ``segments.laps(record, samples)``)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(summary_rows(record, samples, segments))
    writer.writerow(COLUMNS)
    for s in samples:
        writer.writerow(
            (
                f"{s.t_s:.0f}" if float(s.t_s).is_integer() else f"{s.t_s:.3f}",
                _time(s.at),
                _fmt(s.speed_kmh, ".2f"),
                _fmt(s.incline_pct, ".1f"),
                _fmt(s.distance_m, ".2f"),
                _opt(s.segment_index),
                _opt(s.segment_label),
                _opt(s.direction),
                _opt(valid_hr(s.heart_rate_bpm)),
            )
        )
    return buf.getvalue().encode("utf-8")
