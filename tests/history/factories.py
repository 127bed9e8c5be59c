"""Records for the history tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from treadctl.history.records import Difficulty, Rating, Sample, SessionRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session(session_id: str = "s1", **changes: object) -> SessionRecord:
    fields: dict[str, object] = {
        "id": session_id,
        "person_id": "ann",
        "treadmill_id": "living-room",
        "profile": "retro-progress-week1",
        "program": "retro-6-weeks",
        "stage": 1,
        "started_at": T0,
        "ended_at": T0 + timedelta(minutes=20),
        "end_reason": "finished",
        "abort_reason": None,
        "active_s": 1200.0,
        "backward_s": 600.0,
    }
    fields.update(changes)
    return SessionRecord(**fields)  # type: ignore[arg-type]


def running(session_id: str = "s1", **changes: object) -> SessionRecord:
    return session(session_id, ended_at=None, end_reason=None, **changes)


def rating(pain: int = 1, difficulty: str = "easy", near_fall: bool = False) -> Rating:
    return Rating(
        pain=pain,
        difficulty=Difficulty(difficulty),
        near_fall=near_fall,
        rated_at=T0 + timedelta(hours=1),
    )


def samples(count: int, *, start: float = 0.0) -> list[Sample]:
    return [
        Sample(
            t_s=start + i,
            at=T0 + timedelta(seconds=start + i),
            speed_kmh=1.2,
            incline_pct=0.0,
            distance_m=(start + i) * 0.33,
            segment_index=2,
            segment_label="block 1",
            direction="backward",
            heart_rate_bpm=None if int(start + i) % 2 else 95,
        )
        for i in range(count)
    ]
