"""The history's records refuse values they cannot store, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from treadctl.history.records import (
    Difficulty,
    InvalidRecordError,
    Rating,
    Sample,
    SessionRecord,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def session(**changes: object) -> SessionRecord:
    fields: dict[str, object] = {
        "id": "s1",
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
        "backward_s": 480.0,
    }
    fields.update(changes)
    return SessionRecord(**fields)  # type: ignore[arg-type]


def test_a_valid_session_and_its_flags() -> None:
    assert not session().running
    assert session(ended_at=None, end_reason=None).running
    assert not session().safety_abort
    assert session(end_reason="aborted", abort_reason="safety_key").safety_abort
    assert not session(end_reason="aborted", abort_reason="stopped_by_user").safety_abort


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("end_reason", "crashed"),
        ("end_reason", None),
        ("started_at", datetime(2026, 3, 2, 9, 0)),  # naive
        ("started_at", datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))),
        ("ended_at", T0 - timedelta(seconds=1)),
        ("active_s", float("nan")),
        ("backward_s", -1.0),
        ("avg_hr_bpm", 255),
        ("max_hr_bpm", 0),
        ("stage", 0),
        ("person_id", ""),
    ],
)
def test_session_refuses(field: str, value: object) -> None:
    with pytest.raises(InvalidRecordError) as info:
        session(**{field: value})
    assert info.value.field == field


def test_a_running_session_has_no_end_reason() -> None:
    with pytest.raises(InvalidRecordError, match="end_reason"):
        session(ended_at=None)


@pytest.mark.parametrize("pain", [-1, 11, True, 2.5])
def test_rating_pain_is_0_to_10(pain: object) -> None:
    with pytest.raises(InvalidRecordError, match="pain"):
        Rating(pain=pain, difficulty=Difficulty.EASY, near_fall=False, rated_at=T0)  # type: ignore[arg-type]


def test_sample_never_holds_placeholder_heart_rate() -> None:
    assert Sample(t_s=0.0, at=T0, heart_rate_bpm=None).heart_rate_bpm is None
    for placeholder in (0, 255):
        with pytest.raises(InvalidRecordError, match="heart_rate_bpm"):
            Sample(t_s=0.0, at=T0, heart_rate_bpm=placeholder)
    with pytest.raises(InvalidRecordError, match="direction"):
        Sample(t_s=0.0, at=T0, direction="sideways")  # type: ignore[arg-type]
