"""What the history holds: sessions, their 1 Hz samples and the person's rating.

Pure frozen dataclasses (stdlib only) shared by the store, the progression rule, the CLI and the
exporters. Times are timezone-aware UTC datetimes; a value that was not measured is ``None``
(never a device placeholder such as 255 bpm or 0 bpm). docs/history.md describes each field.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from treadctl.errors import TreadctlError

EndReason = Literal["finished", "aborted", "interrupted"]
SampleDirection = Literal["backward", "forward"]

END_REASONS: tuple[EndReason, ...] = ("finished", "aborted", "interrupted")
PERSON_STOP = "stopped_by_user"
"""``abort_reason`` of a session a person stopped before its end (not a safety abort)."""
PAIN_MIN = 0
PAIN_MAX = 10
"""Pain 0-10: the numeric rating scale (docs/journey.md)."""


class InvalidRecordError(TreadctlError, ValueError):
    """A record field holds a value the history cannot store (names the field and the value)."""

    def __init__(self, record: str, field: str, value: object, expected: str) -> None:
        self.record = record
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{record}.{field} = {value!r}: expected {expected}")


class Difficulty(enum.Enum):
    """How the session felt to the person."""

    EASY = "easy"
    OK = "ok"
    HARD = "hard"


def _utc(record: str, field: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() != timedelta(0)):
        raise InvalidRecordError(record, field, value, "a timezone-aware UTC datetime")


def _finite(record: str, field: str, value: float | None, *, minimum: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRecordError(record, field, value, "a finite number")
    if minimum is not None and value < minimum:
        raise InvalidRecordError(record, field, value, f"a number >= {minimum:g}")


def _heart_rate(record: str, field: str, value: int | None) -> None:
    # 0 and 255 are the "not measured" placeholders of straps and FTMS; the history stores None.
    if value is not None and (isinstance(value, bool) or not 0 < value < 255):
        raise InvalidRecordError(record, field, value, "a heart rate 1..254 bpm or None")


@dataclass(frozen=True, slots=True)
class Rating:
    """The person's rating of one session (docs/journey.md)."""

    pain: int
    difficulty: Difficulty
    near_fall: bool
    rated_at: datetime

    def __post_init__(self) -> None:
        if isinstance(self.pain, bool) or not isinstance(self.pain, int):
            raise InvalidRecordError("Rating", "pain", self.pain, "a whole number 0-10")
        if not PAIN_MIN <= self.pain <= PAIN_MAX:
            raise InvalidRecordError("Rating", "pain", self.pain, "a whole number 0-10")
        if not isinstance(self.difficulty, Difficulty):
            raise InvalidRecordError("Rating", "difficulty", self.difficulty, "easy, ok or hard")
        if not isinstance(self.near_fall, bool):
            raise InvalidRecordError("Rating", "near_fall", self.near_fall, "true or false")
        _utc("Rating", "rated_at", self.rated_at)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session as the history keeps it. ``ended_at`` and ``end_reason`` are None exactly
    while it runs (or until the next start of a daemon that was killed marks it
    ``interrupted``)."""

    id: str
    person_id: str
    treadmill_id: str
    profile: str
    program: str | None
    stage: int | None
    started_at: datetime
    ended_at: datetime | None
    end_reason: EndReason | None
    abort_reason: str | None
    active_s: float
    backward_s: float
    distance_m: float | None = None
    avg_speed_kmh: float | None = None
    max_speed_kmh: float | None = None
    avg_incline_pct: float | None = None
    max_incline_pct: float | None = None
    steps: int | None = None
    avg_hr_bpm: int | None = None
    max_hr_bpm: int | None = None
    rating: Rating | None = None

    def __post_init__(self) -> None:
        name = "SessionRecord"
        for field in ("id", "person_id", "treadmill_id", "profile"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise InvalidRecordError(name, field, value, "a non-empty string")
        if self.ended_at is None:
            if self.end_reason is not None:
                raise InvalidRecordError(name, "end_reason", self.end_reason, "None while running")
        elif self.end_reason not in END_REASONS:
            raise InvalidRecordError(name, "end_reason", self.end_reason, " | ".join(END_REASONS))
        if self.stage is not None and (isinstance(self.stage, bool) or self.stage < 1):
            raise InvalidRecordError(name, "stage", self.stage, "a stage number >= 1 or None")
        _utc(name, "started_at", self.started_at)
        _utc(name, "ended_at", self.ended_at)
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise InvalidRecordError(name, "ended_at", self.ended_at, "not before started_at")
        for field in ("active_s", "backward_s"):
            _finite(name, field, getattr(self, field), minimum=0.0)
        for field in ("distance_m", "avg_speed_kmh", "max_speed_kmh"):
            _finite(name, field, getattr(self, field), minimum=0.0)
        for field in ("avg_incline_pct", "max_incline_pct"):
            _finite(name, field, getattr(self, field), minimum=None)
        if self.steps is not None and (isinstance(self.steps, bool) or self.steps < 0):
            raise InvalidRecordError(name, "steps", self.steps, "a whole number >= 0 or None")
        _heart_rate(name, "avg_hr_bpm", self.avg_hr_bpm)
        _heart_rate(name, "max_hr_bpm", self.max_hr_bpm)

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def safety_abort(self) -> bool:
        """Aborted by a safety event (safety key, console stop, emergency stop, overspeed...),
        not by a person's early Stop (docs/history.md)."""
        return self.end_reason == "aborted" and self.abort_reason != PERSON_STOP


@dataclass(frozen=True, slots=True)
class Sample:
    """One 1 Hz sample of a session."""

    t_s: float
    at: datetime
    speed_kmh: float | None = None
    incline_pct: float | None = None
    distance_m: float | None = None
    segment_index: int | None = None
    segment_label: str | None = None
    direction: SampleDirection | None = None
    heart_rate_bpm: int | None = None

    def __post_init__(self) -> None:
        _finite("Sample", "t_s", self.t_s, minimum=0.0)
        _utc("Sample", "at", self.at)
        _finite("Sample", "speed_kmh", self.speed_kmh, minimum=0.0)
        _finite("Sample", "incline_pct", self.incline_pct, minimum=None)
        _finite("Sample", "distance_m", self.distance_m, minimum=0.0)
        if self.direction not in (None, "backward", "forward"):
            raise InvalidRecordError("Sample", "direction", self.direction, "backward | forward")
        _heart_rate("Sample", "heart_rate_bpm", self.heart_rate_bpm)
