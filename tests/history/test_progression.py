"""The progression rule, property-tested: never skips a stage, steps back on pain > 5, a
near-fall or a safety abort, advances only after 2 qualifying sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.history.factories import rating, session
from treadctl.history.progression import (
    Action,
    Rules,
    decide,
    frequency_warnings,
    next_due,
    qualifies,
)
from treadctl.history.records import Difficulty, Rating, SessionRecord

END = st.sampled_from(
    [
        ("finished", None),
        ("aborted", "stopped_by_user"),
        ("aborted", "safety_key"),
        ("aborted", "emergency_stop"),
        ("aborted", "console_stop"),
        ("interrupted", None),
    ]
)
RATING = st.none() | st.builds(
    Rating,
    pain=st.integers(0, 10),
    difficulty=st.sampled_from(list(Difficulty)),
    near_fall=st.booleans(),
    rated_at=st.just(datetime(2026, 3, 2, 12, tzinfo=UTC)),
)


@st.composite
def sessions(draw: st.DrawFn) -> list[SessionRecord]:
    count = draw(st.integers(1, 5))
    out = []
    for i in range(count):
        end_reason, abort_reason = draw(END)
        out.append(
            session(
                f"s{i}",
                end_reason=end_reason,
                abort_reason=abort_reason,
                rating=draw(RATING),
            )
        )
    return out


@given(stage_count=st.integers(1, 8), data=st.data(), at_stage=sessions())
def test_never_skips_a_stage(
    stage_count: int, data: st.DataObject, at_stage: list[SessionRecord]
) -> None:
    stage = data.draw(st.integers(1, stage_count))
    d = decide(stage, stage_count, at_stage)
    assert abs(d.to_stage - d.from_stage) <= 1
    assert 1 <= d.to_stage <= stage_count
    assert d.from_stage == stage
    assert d.session_id == at_stage[-1].id
    assert d.reason


@given(stage_count=st.integers(1, 8), data=st.data(), at_stage=sessions())
def test_steps_back_on_pain_near_fall_or_safety_abort(
    stage_count: int, data: st.DataObject, at_stage: list[SessionRecord]
) -> None:
    stage = data.draw(st.integers(1, stage_count))
    judged = at_stage[-1]
    bad = judged.safety_abort or (
        judged.rating is not None and (judged.rating.pain > 5 or judged.rating.near_fall)
    )
    d = decide(stage, stage_count, at_stage)
    if bad:
        assert d.action is Action.STEP_BACK
        assert d.to_stage == max(1, stage - 1)
    else:
        assert d.action is not Action.STEP_BACK
        assert d.to_stage >= stage


@given(stage_count=st.integers(2, 8), data=st.data(), at_stage=sessions())
def test_advances_only_after_two_qualifying_sessions(
    stage_count: int, data: st.DataObject, at_stage: list[SessionRecord]
) -> None:
    stage = data.draw(st.integers(1, stage_count))
    d = decide(stage, stage_count, at_stage)
    good = len(at_stage) >= 2 and all(qualifies(s) is None for s in at_stage[-2:])
    assert (d.action is Action.ADVANCE) == (good and stage < stage_count)
    if d.action is Action.ADVANCE:
        for s in at_stage[-2:]:
            assert s.end_reason == "finished"
            assert s.rating is not None
            assert s.rating.difficulty is Difficulty.EASY
            assert s.rating.pain <= 3


def test_examples_with_their_reasons() -> None:
    easy = [session("a", rating=rating(2)), session("b", rating=rating(3))]
    d = decide(2, 6, easy)
    assert (d.action, d.to_stage) == (Action.ADVANCE, 3)
    one = decide(2, 6, easy[:1])
    assert one.action is Action.REPEAT
    assert "needs 2 qualifying sessions" in one.reason
    ok = decide(2, 6, [easy[0], session("c", rating=rating(1, "ok"))])
    assert (ok.action, ok.reason) == (Action.REPEAT, "session c felt ok, not easy")
    pain = decide(2, 6, [*easy, session("p", rating=rating(6))])
    assert (pain.action, pain.to_stage) == (Action.STEP_BACK, 1)
    assert "pain 6/10" in pain.reason
    key = decide(3, 6, [session("k", end_reason="aborted", abort_reason="safety_key")])
    assert key.to_stage == 2
    assert key.reason == "session k was ended by a safety reaction (safety_key)"
    first = decide(1, 6, [session("f", rating=rating(0, near_fall=True))])
    assert (first.action, first.to_stage) == (Action.STEP_BACK, 1)
    last = decide(6, 6, easy)
    assert (last.action, last.to_stage) == (Action.REPEAT, 6)
    user_stop = session("u", end_reason="aborted", abort_reason="stopped_by_user", rating=rating())
    assert decide(2, 6, [easy[0], user_stop]).action is Action.REPEAT


def test_stricter_rules() -> None:
    strict = Rules(advance_after_sessions=3, advance_pain_at_most=2, step_back_pain_above=4)
    easy = [session("a", rating=rating(2)), session("b", rating=rating(2))]
    assert decide(2, 6, easy, strict).action is Action.REPEAT
    assert decide(2, 6, [session("c", rating=rating(5))], strict).action is Action.STEP_BACK
    with pytest.raises(ValueError, match="looser"):
        Rules(step_back_pain_above=7)
    with pytest.raises(ValueError, match="not within"):
        decide(7, 6, easy)


def test_frequency_warns_never_blocks() -> None:
    last = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert frequency_warnings(None, last, UTC) == []
    same_day = frequency_warnings(last, last + timedelta(hours=3), UTC)
    assert len(same_day) == 2
    assert "already a session today" in same_day[0]
    assert "3 h since the last session" in same_day[1]
    next_day = frequency_warnings(last, last + timedelta(hours=30), UTC)
    assert next_day == [
        "only 30 h since the last session; the program advises non-consecutive days (48 h apart)"
    ]
    assert frequency_warnings(last, last + timedelta(hours=48), UTC) == []
    assert next_due(last, last) == last + timedelta(hours=48)
    assert next_due(last, last + timedelta(days=5)) == last + timedelta(days=5)
