"""Recorded sessions made for the export and chart tests: a real-looking retro-walking session.

The shape follows a bundled week-1 profile: a forward warm-up, backward blocks separated by a
rest with the belt stopped, a forward cool-down; samples at 1 Hz with the distance integrated
from the speed, as the recorder stores them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from treadctl.history.records import EndReason, Sample, SampleDirection, SessionRecord

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# (label, direction, seconds, km/h, incline %)
PLAN: tuple[tuple[str, str, int, float, float], ...] = (
    ("warm-up", "forward", 60, 1.5, 0.0),
    ("backward block 1", "backward", 120, 1.0, 2.0),
    ("rest", "forward", 30, 0.0, 0.0),
    ("backward block 2", "backward", 120, 1.2, 2.0),
    ("cool-down", "forward", 60, 1.5, 0.0),
)


def make_samples(
    *,
    with_hr: bool = True,
    stop_after_s: int | None = None,
    start: datetime = START,
    plan: tuple[tuple[str, str, int, float, float], ...] = PLAN,
) -> list[Sample]:
    out: list[Sample] = []
    t = 0
    distance = 0.0
    for index, (label, direction, seconds, kmh, incline) in enumerate(plan):
        for _ in range(seconds):
            if stop_after_s is not None and t >= stop_after_s:
                return out
            hr = (78 + (t // 20) % 40 if kmh > 0 else 80) if with_hr else None
            out.append(
                Sample(
                    t_s=float(t),
                    at=start + timedelta(seconds=t),
                    speed_kmh=kmh,
                    incline_pct=incline,
                    distance_m=round(distance, 3),
                    segment_index=index,
                    segment_label=label,
                    direction=_direction(direction),
                    heart_rate_bpm=hr,
                )
            )
            distance += kmh / 3.6
            t += 1
    return out


def _direction(text: str) -> SampleDirection:
    if text == "backward":
        return "backward"
    if text == "forward":
        return "forward"
    raise ValueError(f"not a direction: {text!r}")


def _value(value: float | None) -> float:
    """A sample field these sessions always fill (0.0 stands in for a missing one)."""
    return 0.0 if value is None else value


def make_record(
    samples: list[Sample],
    *,
    session_id: str = "s-0001",
    end_reason: EndReason | None = "finished",
    abort_reason: str | None = None,
    ended_at: datetime | Literal["after"] | None = "after",
    stage: int | None = 1,
    start: datetime = START,
) -> SessionRecord:
    moving = [s for s in samples if _value(s.speed_kmh) > 0]
    hrs = [s.heart_rate_bpm for s in samples if s.heart_rate_bpm is not None]
    last = samples[-1] if samples else None
    return SessionRecord(
        id=session_id,
        person_id="alice",
        treadmill_id="living-room",
        profile="retro-week-1",
        program="retro-6-weeks",
        stage=stage,
        started_at=start,
        ended_at=(last.at + timedelta(seconds=1) if last else start)
        if ended_at == "after"
        else ended_at,
        end_reason=end_reason,
        abort_reason=abort_reason,
        active_s=float(len(moving)),
        backward_s=float(sum(1 for s in moving if s.direction == "backward")),
        distance_m=(
            round(_value(last.distance_m) + _value(last.speed_kmh) / 3.6, 3) if last else 0.0
        ),
        avg_speed_kmh=sum(_value(s.speed_kmh) for s in moving) / len(moving) if moving else 0.0,
        max_speed_kmh=max((_value(s.speed_kmh) for s in samples), default=0.0),
        avg_incline_pct=sum(_value(s.incline_pct) for s in moving) / len(moving) if moving else 0.0,
        max_incline_pct=max((_value(s.incline_pct) for s in samples), default=0.0),
        steps=len(moving) * 2 if moving else None,
        avg_hr_bpm=round(sum(hrs) / len(hrs)) if hrs else None,
        max_hr_bpm=max(hrs) if hrs else None,
    )


def finished(*, with_hr: bool = True) -> tuple[SessionRecord, list[Sample]]:
    samples = make_samples(with_hr=with_hr)
    return make_record(samples), samples


def interrupted() -> tuple[SessionRecord, list[Sample]]:
    """A daemon killed 200 s in, during the rest: the next start marks the session interrupted,
    ended at its last sample (as the history store does)."""
    samples = make_samples(stop_after_s=200)
    return make_record(samples, end_reason="interrupted", ended_at=samples[-1].at), samples


def running() -> tuple[SessionRecord, list[Sample]]:
    """A session still running (no end yet): 100 s recorded so far."""
    samples = make_samples(stop_after_s=100)
    return make_record(samples, end_reason=None, ended_at=None), samples


def relabelled(samples: list[Sample], label: str) -> list[Sample]:
    return [replace(s, segment_label=label) for s in samples]


def journey() -> list[SessionRecord]:
    """Six weeks of one person, three sessions a week (Mon/Wed/Fri): backward blocks growing
    week by week, the stage advancing after weeks 1 and 2, a safety stop in week 4 (a step
    back), a week off (week 5), and the stage regained in week 6."""
    stages = (1, 2, 3, 3, None, 2)
    out: list[SessionRecord] = []
    n = 0
    for week, stage in enumerate(stages):
        if stage is None:
            continue  # a week off
        for day in (0, 2, 4):
            start = START + timedelta(weeks=week, days=day)
            block = 60 + 30 * min(week, 3)
            plan = (
                ("warm-up", "forward", 60, 1.5, 0.0),
                ("backward block 1", "backward", block, 1.0, 1.0),
                ("rest", "forward", 30, 0.0, 0.0),
                ("backward block 2", "backward", block, 1.1, 1.0),
                ("cool-down", "forward", 60, 1.5, 0.0),
            )
            samples = make_samples(plan=plan, start=start)
            aborted = week == 3 and day == 2
            if aborted:
                samples = samples[: 60 + block // 2]
            this_stage = 2 if week == 3 and day == 4 else stage
            if week == 5 and day == 4:
                this_stage = 3
            n += 1
            out.append(
                make_record(
                    samples,
                    session_id=f"s-{n:04d}",
                    start=start,
                    stage=this_stage,
                    end_reason="aborted" if aborted else "finished",
                    abort_reason="safety_key" if aborted else None,
                )
            )
    return out
