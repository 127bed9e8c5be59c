"""The profile engine: a profile and the session's active time -> where we are and what to ask.

Active time counts only while the session runs (not while paused or waiting for the belt).
The engine decides values; ``treadctl.control.session`` passes them through the governor.
Pure module.
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.workout.models import Direction, Profile, RestBelt, Segment, SegmentKind


@dataclass(frozen=True, slots=True)
class PlannedSegment:
    """One segment placed on the session's active-time axis (seconds)."""

    index: int
    segment: Segment
    start_s: int
    end_s: int
    block_start_s: int | None
    """For backward segments: when their backward block began (consecutive backward segments
    form one block; docs/references.md#retro-defaults "no speed increase in the first 3 minutes of a
    block")."""

    @property
    def kind(self) -> SegmentKind:
        return self.segment.kind

    @property
    def speed(self) -> int | None:
        """Target speed, 0.01 km/h; None for a rest (stopped, or the device minimum)."""
        return self.segment.speed

    @property
    def incline(self) -> int:
        return self.segment.incline

    @property
    def belt_stopped(self) -> bool:
        return self.kind == SegmentKind.REST and self.segment.rest_belt == RestBelt.STOPPED

    @property
    def facing(self) -> Direction | None:
        return self.segment.facing


@dataclass(frozen=True, slots=True)
class Position:
    """Where a session is at some active time."""

    planned: PlannedSegment
    elapsed_s: float
    segment_elapsed_s: float
    segment_remaining_s: float
    remaining_s: float

    @property
    def block_elapsed_s(self) -> float | None:
        start = self.planned.block_start_s
        return None if start is None else self.elapsed_s - start


class Timeline:
    """The profile laid out in time."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        planned: list[PlannedSegment] = []
        t = 0
        block_start: int | None = None
        for i, seg in enumerate(profile.segments):
            if seg.kind == SegmentKind.BACKWARD:
                block_start = t if block_start is None else block_start
            else:
                block_start = None
            planned.append(PlannedSegment(i, seg, t, t + seg.duration, block_start))
            t += seg.duration
        self.segments: tuple[PlannedSegment, ...] = tuple(planned)
        self.total_s = t

    def at(self, elapsed_s: float) -> Position | None:
        """The position at ``elapsed_s`` of active time, or None once the profile is over."""
        if elapsed_s < 0:
            elapsed_s = 0.0
        for planned in self.segments:
            if elapsed_s < planned.end_s:
                return Position(
                    planned=planned,
                    elapsed_s=elapsed_s,
                    segment_elapsed_s=elapsed_s - planned.start_s,
                    segment_remaining_s=planned.end_s - elapsed_s,
                    remaining_s=self.total_s - elapsed_s,
                )
        return None

    def start_of(self, index: int) -> int:
        """Active time at which segment ``index`` begins (``total_s`` past the end)."""
        if index >= len(self.segments):
            return self.total_s
        return self.segments[index].start_s
