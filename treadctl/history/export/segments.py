"""A recorded session cut into its segments, the unit of a lap in every export and chart.

Pure functions over the 1 Hz samples of a session (standard library only). A segment is a run
of consecutive samples with the same ``segment_index`` and direction; it starts at its first
sample and ends where the next one starts (the last one ends one sample period after its last
sample, or at the session's end if that is sooner), so the segments partition the recorded time
and distance with no gap and no overlap. A value that was not measured (``None`` in a sample)
is left out of averages and maxima; a summary of nothing measured is ``None``, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from treadctl.history.records import Sample, SessionRecord

SAMPLE_PERIOD = timedelta(seconds=1)  # the recorder samples at 1 Hz (docs/history.md)


@dataclass(frozen=True, slots=True)
class Segment:
    """One lap: samples ``samples[first:stop]`` of the session, with their summary."""

    number: int  # 0-based position among the segments of this session (FIT message_index)
    segment_index: int | None  # the profile's segment index, as recorded in the samples
    label: str
    direction: str  # "backward", "forward" or "" when not recorded
    first: int
    stop: int
    start_at: datetime
    end_at: datetime
    distance_m: float | None
    avg_speed_kmh: float | None
    max_speed_kmh: float | None
    avg_incline_pct: float | None
    max_incline_pct: float | None
    avg_hr_bpm: int | None
    max_hr_bpm: int | None

    @property
    def duration_s(self) -> float:
        return max(0.0, (self.end_at - self.start_at) / timedelta(seconds=1))

    @property
    def moving(self) -> bool:
        """True when the belt moved during the segment (a rest with the belt stopped is not)."""
        return (self.max_speed_kmh or 0.0) > 0

    @property
    def backward(self) -> bool:
        return self.direction == "backward"

    @property
    def title(self) -> str:
        """The lap name every format carries: direction first, then the profile's label."""
        head = self.direction or "segment"
        return f"{head}: {self.label}" if self.label else head


def valid_hr(bpm: int | None) -> int | None:
    """A heart rate worth writing, or None: unknown, 0 and the FIT invalid value 255 are not."""
    if bpm is None or isinstance(bpm, bool) or bpm <= 0 or bpm >= 255:
        return None
    return bpm


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _max(values: Iterable[float | None]) -> float | None:
    return max((v for v in values if v is not None), default=None)


def _distance(first: Sample | None, last: Sample | None, end_m: float | None) -> float | None:
    start = first.distance_m if first is not None else None
    stop = last.distance_m if last is not None else None
    if end_m is not None and (stop is None or end_m > stop):
        stop = end_m
    if start is None or stop is None:
        return None
    return max(0.0, stop - start)


def _first_known_distance(samples: Sequence[Sample]) -> Sample | None:
    return next((s for s in samples if s.distance_m is not None), None)


def _last_known_distance(samples: Sequence[Sample]) -> Sample | None:
    return next((s for s in reversed(samples) if s.distance_m is not None), None)


def _summary(
    number: int,
    samples: Sequence[Sample],
    *,
    first: int,
    stop: int,
    end_at: datetime,
    session_distance_m: float | None,
) -> Segment:
    part = samples[first:stop]
    head = part[0]
    if stop < len(samples):
        # Up to the next segment's first known distance.
        distance = _distance(
            _first_known_distance(part), _first_known_distance(samples[stop:]), None
        )
    else:
        distance = _distance(
            _first_known_distance(part), _last_known_distance(part), session_distance_m
        )
    hrs = [hr for s in part if (hr := valid_hr(s.heart_rate_bpm)) is not None]
    return Segment(
        number=number,
        segment_index=head.segment_index,
        label=head.segment_label or "",
        direction=head.direction or "",
        first=first,
        stop=stop,
        start_at=head.at,
        end_at=end_at,
        distance_m=distance,
        avg_speed_kmh=_mean(s.speed_kmh for s in part),
        max_speed_kmh=_max(s.speed_kmh for s in part),
        avg_incline_pct=_mean(s.incline_pct for s in part),
        max_incline_pct=_max(s.incline_pct for s in part),
        avg_hr_bpm=round(sum(hrs) / len(hrs)) if hrs else None,
        max_hr_bpm=max(hrs) if hrs else None,
    )


def segments_of(
    samples: Sequence[Sample],
    end_at: datetime | None = None,
    end_distance_m: float | None = None,
) -> tuple[Segment, ...]:
    """The segments of a session's samples, in order (empty when there are no samples).

    The last segment ends at ``end_at`` (else at its last sample) and at the session's distance
    ``end_distance_m`` (else its last sample's), when they are not before the last sample.
    """
    bounds: list[int] = []
    for i, s in enumerate(samples):
        if i == 0 or (s.segment_index, s.direction) != (
            samples[i - 1].segment_index,
            samples[i - 1].direction,
        ):
            bounds.append(i)
    out: list[Segment] = []
    for n, first in enumerate(bounds):
        stop = bounds[n + 1] if n + 1 < len(bounds) else len(samples)
        if stop < len(samples):
            seg_end = samples[stop].at
        else:
            seg_end = samples[-1].at
            if end_at is not None and end_at > seg_end:
                seg_end = end_at
        out.append(
            _summary(
                n,
                samples,
                first=first,
                stop=stop,
                end_at=seg_end,
                session_distance_m=end_distance_m,
            )
        )
    return tuple(out)


def session_end(record: SessionRecord, samples: Sequence[Sample]) -> datetime:
    """When the session ended: its recorded end, else (interrupted, running) its last sample,
    else its start."""
    if record.ended_at is not None:
        return record.ended_at
    if samples:
        return max(samples[-1].at, record.started_at)
    return record.started_at


def end_reason_text(record: SessionRecord) -> str:
    """ "finished", "interrupted", "aborted: <reason>", or "running"."""
    reason = record.end_reason or "running"
    return f"{reason}: {record.abort_reason}" if record.abort_reason else reason


def elapsed_s(record: SessionRecord, samples: Sequence[Sample]) -> float:
    return max(0.0, (session_end(record, samples) - record.started_at) / timedelta(seconds=1))


def laps(record: SessionRecord, samples: Sequence[Sample]) -> tuple[Segment, ...]:
    """The segments, or (a session recorded without samples) one lap from its summary."""
    if samples:
        # One sample stands for one sample period, unless the session ended sooner.
        end = min(session_end(record, samples), samples[-1].at + SAMPLE_PERIOD)
        return segments_of(samples, end, record.distance_m)
    return (
        Segment(
            number=0,
            segment_index=None,
            label="session",
            direction="backward" if record.backward_s > 0 else "forward",
            first=0,
            stop=0,
            start_at=record.started_at,
            end_at=session_end(record, samples),
            distance_m=record.distance_m,
            avg_speed_kmh=record.avg_speed_kmh,
            max_speed_kmh=record.max_speed_kmh,
            avg_incline_pct=record.avg_incline_pct,
            max_incline_pct=record.max_incline_pct,
            avg_hr_bpm=valid_hr(record.avg_hr_bpm),
            max_hr_bpm=valid_hr(record.max_hr_bpm),
        ),
    )
